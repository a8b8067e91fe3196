#!/usr/bin/env python3
"""TRL's own tokenization of a preference dataset, written as JSON (the judge for src/dpo/tokenize.ts).

Runs the real TRL code paths of DPOTrainer on local files only:
  - DPOTrainer._prepare_dataset (prompt extraction, EOS appending, tokenization, the keep_start filter)
  - DataCollatorForPreference (concatenation, truncation, right padding)

Usage:
  .venv/bin/python scripts/py/trl_tokenize.py --tokenizer DIR --data FILE [--limit N]
      [--setting MAXLEN:MODE ...] [--batch-size B] [--tokenizer-config FILE] --out OUT.json

  DIR holds tokenizer.json (and tokenizer_config.json / chat_template.jinja if the model has them).
  --tokenizer-config replaces DIR's tokenizer_config.json (e.g. to add a chat template).
  --setting is MAXLEN:MODE, MAXLEN an integer or "none", MODE keep_start or keep_end; repeatable
  (default: 1024:keep_start, TRL's defaults).

When the tokenizer files name no EOS token and the vocabulary has "<|endoftext|>" (GPT-2, whose special
tokens are defaults of transformers' GPT2Tokenizer class rather than part of tokenizer.json), that token
becomes BOS, EOS and UNK: the same rule as src/model/tokenizer.ts.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import warnings
from types import SimpleNamespace

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
warnings.filterwarnings("ignore")

import datasets  # noqa: E402
import transformers  # noqa: E402
import trl  # noqa: E402
from transformers import AutoTokenizer  # noqa: E402
from trl import DPOConfig  # noqa: E402
from trl.trainer.dpo_trainer import DataCollatorForPreference, DPOTrainer  # noqa: E402


def load_tokenizer(folder, config_override):
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja"):
            if os.path.exists(os.path.join(folder, name)):
                shutil.copy(os.path.join(folder, name), tmp)
        if config_override:
            shutil.copy(config_override, os.path.join(tmp, "tokenizer_config.json"))
        tok = AutoTokenizer.from_pretrained(tmp)
    if tok.eos_token is None and "<|endoftext|>" in tok.get_vocab():
        tok.eos_token = "<|endoftext|>"
        if tok.bos_token is None:
            tok.bos_token = "<|endoftext|>"
        if tok.unk_token is None:
            tok.unk_token = "<|endoftext|>"
    return tok


def load_data(path, limit):
    p = path.lower().removesuffix(".gz")
    builder = "parquet" if p.endswith(".parquet") else "json"
    ds = datasets.load_dataset(builder, data_files=path, split="train")
    if limit is not None:
        ds = ds.select(range(min(limit, len(ds))))
    return ds.add_column("__row", list(range(1, len(ds) + 1)))


def parse_setting(s):
    max_len, mode = s.split(":")
    return (None if max_len.lower() == "none" else int(max_len)), mode


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--tokenizer-config")
    ap.add_argument("--data", required=True)
    ap.add_argument("--limit", type=int)
    ap.add_argument("--setting", action="append", type=parse_setting)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    tok = load_tokenizer(args.tokenizer, args.tokenizer_config)
    raw = load_data(args.data, args.limit)
    # DPOTrainer.__init__: pad token is the tokenizer's, else EOS.
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    pad_id = tok.pad_token_id

    out = {
        "trl_version": trl.__version__,
        "transformers_version": transformers.__version__,
        "tokenizer": {"eos_token": tok.eos_token, "bos_token": tok.bos_token, "pad_token_id": pad_id},
        "data": os.path.basename(args.data),
        "batch_size": args.batch_size,
        "settings": [],
    }
    with tempfile.TemporaryDirectory() as outdir:
        for max_length, mode in args.setting or [(1024, "keep_start")]:
            cfg = DPOConfig(output_dir=outdir, max_length=max_length, truncation_mode=mode, report_to=[], use_cpu=True, bf16=False)
            # The real TRL preprocessing; it reads only `self._tokenizer` from the trainer.
            fake_self = SimpleNamespace(_tokenizer=tok)
            ds = DPOTrainer._prepare_dataset(fake_self, raw, tok, cfg, "train")
            examples = [dict(ds[i]) for i in range(len(ds))]
            collator = DataCollatorForPreference(pad_token_id=pad_id, max_length=max_length, truncation_mode=mode)
            batches = []
            for b in range(0, len(examples), args.batch_size):
                chunk = [
                    {k: e[k] for k in ("prompt_ids", "chosen_ids", "rejected_ids")}
                    for e in examples[b : b + args.batch_size]
                ]
                c = collator.torch_call(chunk)
                batches.append({k: c[k].tolist() for k in ("input_ids", "attention_mask", "completion_mask")})
            out["settings"].append(
                {
                    "max_length": max_length,
                    "truncation_mode": mode,
                    "examples": [
                        {
                            "row": e["__row"],
                            "prompt": e["prompt"],
                            "chosen": e["chosen"],
                            "rejected": e["rejected"],
                            "prompt_ids": e["prompt_ids"],
                            "chosen_ids": e["chosen_ids"],
                            "rejected_ids": e["rejected_ids"],
                        }
                        for e in examples
                    ],
                    "batches": batches,
                }
            )
            print(
                f"max_length={max_length} {mode}: {len(examples)}/{len(raw)} pairs kept, {len(batches)} batches",
                file=sys.stderr,
            )
    with open(args.out, "w") as f:
        json.dump(out, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
