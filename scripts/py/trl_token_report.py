#!/usr/bin/env python3
"""TRL's own view of a dataset's tokens, for the dataset panel's token report (src/dpo/tokenize.ts).

For each --case TOKENIZER_DIR::DATA_FILE, runs the real DPOTrainer._prepare_dataset (prompt extraction,
EOS appending, tokenization; max_length None so no pair is dropped) and reports:
  - tokens:   prompt_ids + chosen_ids + rejected_ids of every pair, as TRL tokenizes them
  - unknown:  how many of them are the tokenizer's unknown token (0 when it has none of its own, i.e.
              unk is missing or is the EOS token, as GPT-2's <|endoftext|> is)
  - mismatch_pairs: pairs for which TRL logged "Mismatch between tokenized prompt and the start of
              tokenized prompt+chosen" (or +rejected), counted by hooking TRL's logger and tokenizer call

  .venv/bin/python scripts/py/trl_token_report.py --case DIR::FILE [--case ...] --out OUT.json
"""
import argparse
import json
import os
import sys
import tempfile
import warnings
from types import SimpleNamespace

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
warnings.filterwarnings("ignore")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import datasets  # noqa: E402
import trl.trainer.dpo_trainer as dpo  # noqa: E402
from trl import DPOConfig  # noqa: E402
from trl_tokenize import load_data, load_tokenizer  # noqa: E402

datasets.disable_caching()  # map must run (and warn) every time


def report(tok_dir, data_file):
    tok = load_tokenizer(tok_dir, None)
    raw = load_data(data_file, None)
    calls = {"n": 0}
    flagged = set()
    real_tokenize = dpo._tokenize

    def counting_tokenize(*a, **k):  # TRL tokenizes prompt, prompt+chosen, prompt+rejected per pair
        calls["n"] += 1
        return real_tokenize(*a, **k)

    real_warning = dpo.logger.warning

    def hooked_warning(msg, *a, **k):
        if "Mismatch between tokenized prompt" in str(msg):
            flagged.add((calls["n"] - 1) // 3)
        return real_warning(msg, *a, **k)

    dpo._tokenize = counting_tokenize
    dpo.logger.warning = hooked_warning
    try:
        with tempfile.TemporaryDirectory() as outdir:
            cfg = DPOConfig(output_dir=outdir, max_length=None, report_to=[], use_cpu=True, bf16=False)
            ds = dpo.DPOTrainer._prepare_dataset(SimpleNamespace(_tokenizer=tok), raw, tok, cfg, "train")
    finally:
        dpo._tokenize = real_tokenize
        dpo.logger.warning = real_warning
    assert calls["n"] == 3 * len(raw), (calls["n"], len(raw))
    unk = tok.unk_token_id if tok.unk_token_id is not None and tok.unk_token_id != tok.eos_token_id else None
    tokens = unknown = 0
    for e in ds:
        for k in ("prompt_ids", "chosen_ids", "rejected_ids"):
            tokens += len(e[k])
            if unk is not None:
                unknown += sum(1 for t in e[k] if t == unk)
    return {
        "tokenizer": tok_dir,
        "data": data_file,
        "pairs": len(ds),
        "tokens": tokens,
        "unknown": unknown,
        "unk_token": tok.unk_token if unk is not None else None,
        "mismatch_pairs": len(flagged),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", action="append", required=True, help="TOKENIZER_DIR::DATA_FILE")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    out = [report(*c.split("::")) for c in args.case]
    with open(args.out, "w") as f:
        json.dump(out, f)
    for r in out:
        print(json.dumps(r), file=sys.stderr)


if __name__ == "__main__":
    main()
