#!/usr/bin/env python3
"""Helpers of e2e/scenarios/hub.mjs (run with .venv/bin/python).

  hub_check.py parquet OUT.parquet N      a conversational preference dataset of N short pairs
  hub_check.py logps MODEL_DIR EVAL.jsonl MAX_LENGTH
      the exported model in transformers: mean summed log-probs of the chosen and rejected completions
      of the eval pairs, tokenized by TRL 1.13's DPOTrainer._prepare_dataset and truncated as its
      collator does (keep_start), printed as JSON {"chosen": .., "rejected": .., "pairs": n}
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts", "py"))


def parquet(out, n):
    import pyarrow as pa
    import pyarrow.parquet as pq

    topics = ["gradients", "tokenizers", "attention", "optimizers", "datasets", "rewards", "sampling", "batches"]
    rows = {"prompt": [], "chosen": [], "rejected": []}
    for i in range(n):
        t = topics[i % len(topics)]
        # a short system turn each (SmolLM2's template adds a long default one otherwise); one turn, so that
        # every pair fits the e2e's max_length 32 (multi-turn templates: test/parity-chat-template.test.ts)
        prompt = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": f"A fact about {t}?"}]
        rows["prompt"].append(prompt)
        rows["chosen"].append([{"role": "assistant", "content": f"{t.capitalize()} matter ({i})."}])
        rows["rejected"].append([{"role": "assistant", "content": f"No idea about {t}."}])
    pq.write_table(pa.table(rows), out)


def logps(model_dir, eval_path, max_length):
    from types import SimpleNamespace

    import datasets
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig
    from trl.trainer.dpo_trainer import DPOTrainer

    tok = AutoTokenizer.from_pretrained(model_dir)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    raw = datasets.load_dataset("json", data_files=eval_path, split="train")
    cfg = DPOConfig(output_dir="/tmp/hub-check", max_length=max_length, truncation_mode="keep_start", report_to=[], use_cpu=True, bf16=False)
    ds = DPOTrainer._prepare_dataset(SimpleNamespace(_tokenizer=tok), raw, tok, cfg, "eval")
    sums = {"chosen": [], "rejected": []}
    with torch.no_grad():
        for e in ds:
            for side in ("chosen", "rejected"):
                ids = (e["prompt_ids"] + e[f"{side}_ids"])[:max_length]
                p = len(e["prompt_ids"])
                x = torch.tensor([ids])
                lp = torch.log_softmax(model(x).logits[0].float(), -1)
                sums[side].append(sum(lp[t - 1, ids[t]].item() for t in range(p, len(ids))))
    n = len(sums["chosen"])
    if n == 0:
        sys.exit("no eval pair is left after TRL's max_length filter")
    print(json.dumps({"chosen": sum(sums["chosen"]) / n, "rejected": sum(sums["rejected"]) / n, "pairs": n}))


if __name__ == "__main__":
    if sys.argv[1] == "parquet":
        parquet(sys.argv[2], int(sys.argv[3]))
    else:
        logps(sys.argv[2], sys.argv[3], int(sys.argv[4]))
