#!/usr/bin/env python3
"""Token log-probs of a collated batch from a Hugging Face model folder (transformers, CPU).

  .venv/bin/python scripts/py/logps.py --model DIR --batch batch.json --out out.json [--dtype float32]

batch.json: {"input_ids": [[...], ...], "completion_mask": [[...], ...]} (right-padded rows; the
completion mask is optional, default all ones; an "attention_mask" is passed to the model if given).
The model is loaded with AutoModelForCausalLM.from_pretrained(DIR, dtype=<dtype>, attn_implementation=
"eager") in eval mode; the log-softmax is taken in float32 whatever the storage dtype (as TRL's
selective_log_softmax does on upcast logits).

out.json:
  token_logps[s][t]  log p(ids[s][t+1] | ids[s][..t]) for t < T-1, the last column 0 (the engine's
                     layout: row t holds the log-prob of the NEXT token)
  seq_logps[s]       sum of token_logps[s][t] over t where completion_mask[s][t+1] = 1 (TRL's sum)
  missing_keys / unexpected_keys / mismatched_keys   from from_pretrained(output_loading_info=True)
  dtype              the parameters' dtype after loading
"""
import argparse
import json
import os
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
warnings.filterwarnings("ignore")

import torch  # noqa: E402
from transformers import AutoModelForCausalLM  # noqa: E402

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16, "auto": "auto"}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--batch", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--dtype", default="float32", choices=sorted(DTYPES))
    a = ap.parse_args()

    model, info = AutoModelForCausalLM.from_pretrained(
        a.model, dtype=DTYPES[a.dtype], attn_implementation="eager", output_loading_info=True
    )
    model.eval()
    with open(a.batch) as f:
        batch = json.load(f)
    ids = torch.tensor(batch["input_ids"], dtype=torch.long)
    mask = torch.tensor(batch.get("completion_mask") or [[1] * ids.shape[1]] * ids.shape[0], dtype=torch.float32)
    kwargs = {"input_ids": ids, "use_cache": False}
    if batch.get("attention_mask") is not None:
        kwargs["attention_mask"] = torch.tensor(batch["attention_mask"], dtype=torch.long)
    with torch.no_grad():
        logits = model(**kwargs).logits.float()
    lp = torch.log_softmax(logits[:, :-1, :], dim=-1).gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    tok = torch.zeros(ids.shape, dtype=torch.float64)
    tok[:, :-1] = lp.double()
    seq = (lp.double() * mask[:, 1:].double()).sum(dim=1)
    out = {
        "token_logps": tok.tolist(),
        "seq_logps": seq.tolist(),
        "missing_keys": sorted(info.get("missing_keys", [])),
        "unexpected_keys": sorted(info.get("unexpected_keys", [])),
        "mismatched_keys": [str(x) for x in info.get("mismatched_keys", [])],
        "dtype": str(next(model.parameters()).dtype).replace("torch.", ""),
        "model_type": model.config.model_type,
    }
    with open(a.out, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
