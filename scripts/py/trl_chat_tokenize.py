#!/usr/bin/env python3
"""TRL 1.13's tokenization of conversational preference pairs through real chat templates, several
tokenizers in one process (the judge of test/parity-chat-template.test.ts).

Usage: .venv/bin/python scripts/py/trl_chat_tokenize.py JOBS.json OUT.json
  JOBS.json: [{"name": str, "tokenizer": DIR, "data": FILE.jsonl, "settings": ["none:keep_start", "64:keep_end", ...]}]
  (template options such as enable_thinking go in the data's chat_template_kwargs column, as TRL reads them)
Each job runs the real DPOTrainer._prepare_dataset (apply_chat_template of prompt with
add_generation_prompt, of prompt + chosen / rejected, the completion as the ids after the prompt's) and
DataCollatorForPreference, as scripts/py/trl_tokenize.py does for one tokenizer; also writes the
rendered texts so a mismatch shows where.
"""
import json
import os
import sys
import tempfile
from types import SimpleNamespace

sys.path.insert(0, os.path.dirname(__file__))
from trl_tokenize import load_data, load_tokenizer, parse_setting  # noqa: E402  (sets the offline env, imports trl)

import trl  # noqa: E402
from trl import DPOConfig  # noqa: E402
from trl.trainer.dpo_trainer import DataCollatorForPreference, DPOTrainer  # noqa: E402


def run_job(job):
    tok = load_tokenizer(job["tokenizer"], None)
    raw = load_data(job["data"], None)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    out = {"name": job["name"], "pad_token_id": tok.pad_token_id, "eos_token": tok.eos_token, "settings": []}
    # rendered texts of the first pair (for a readable diff when ids differ), with its chat_template_kwargs as TRL passes them
    r0 = raw[0]
    kwargs = r0.get("chat_template_kwargs")
    out["rendered"] = {
        "prompt": tok.apply_chat_template(r0["prompt"], tokenize=False, add_generation_prompt=True, **(kwargs or {})),
        "prompt_chosen": tok.apply_chat_template(r0["prompt"] + r0["chosen"], tokenize=False, **(kwargs or {})),
    }
    with tempfile.TemporaryDirectory() as outdir:
        for s in job["settings"]:
            max_length, mode = parse_setting(s)
            cfg = DPOConfig(output_dir=outdir, max_length=max_length, truncation_mode=mode, report_to=[], use_cpu=True, bf16=False)
            ds = DPOTrainer._prepare_dataset(SimpleNamespace(_tokenizer=tok), raw, tok, cfg, "train")
            examples = [dict(ds[i]) for i in range(len(ds))]
            collator = DataCollatorForPreference(pad_token_id=tok.pad_token_id, max_length=max_length, truncation_mode=mode)
            batches = []
            for b in range(0, len(examples), 4):
                chunk = [{k: e[k] for k in ("prompt_ids", "chosen_ids", "rejected_ids")} for e in examples[b : b + 4]]
                c = collator.torch_call(chunk)
                batches.append({k: c[k].tolist() for k in ("input_ids", "attention_mask", "completion_mask")})
            out["settings"].append(
                {
                    "max_length": max_length,
                    "truncation_mode": mode,
                    "examples": [{"row": e["__row"], **{k: e[k] for k in ("prompt_ids", "chosen_ids", "rejected_ids")}} for e in examples],
                    "batches": batches,
                }
            )
        print(f"{job['name']}: {len(raw)} pairs, {len(job['settings'])} settings", file=sys.stderr)
    return out


def main():
    jobs = json.load(open(sys.argv[1]))
    res = {"trl_version": trl.__version__, "jobs": [run_job(j) for j in jobs]}
    with open(sys.argv[2], "w") as f:
        json.dump(res, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
