#!/usr/bin/env python3
"""A real TRL SFTTrainer run on the chosen completions of a preference dataset (our `--mode sft`).

  .venv/bin/python scripts/py/trl_sft.py --model DIR --data FILE --log out.jsonl [the options of trl_dpo.py
      that are not DPO's: learning_rate, per_device_train_batch_size, gradient_accumulation_steps,
      max_steps, num_train_epochs, warmup_ratio/warmup_steps, lr_scheduler_type, max_grad_norm,
      weight_decay, adam_*, max_length, seed, shuffle]

The preference rows become prompt-completion rows (prompt, completion = chosen), with the prompt taken
out of chosen/rejected first when the data has no prompt column (TRL's own extract_prompt, as
DPOTrainer does), so the loss is on the completion only (SFTTrainer's completion_only_loss, on by
default for prompt-completion data) and SFTTrainer appends EOS as it does. Batches in file order,
CPU fp32 eager, dropout off, no packing, one JSON line per optimizer step (loss, grad_norm,
learning_rate, ...).
"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from trl_dpo import JsonlLog, common_args, hf_training_kwargs, load_model, load_rows, sequential  # noqa: E402
from trl_tokenize import load_tokenizer  # noqa: E402

import argparse  # noqa: E402

import torch  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402


def to_prompt_completion(rows):
    from trl.data_utils import extract_prompt

    if "prompt" not in rows.column_names:
        rows = rows.map(extract_prompt)
    return rows.map(lambda r: {"prompt": r["prompt"], "completion": r["chosen"]}, remove_columns=rows.column_names)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common_args(ap)
    ap.add_argument("--truncation_mode", default="keep_start")
    ap.add_argument("--beta", type=float, help="accepted (and unused) so one option list drives both runs")
    a = ap.parse_args()
    if a.learning_rate is None:
        a.learning_rate = 1e-6
    hf_logging.set_verbosity_error()

    from trl import SFTConfig, SFTTrainer

    torch.manual_seed(a.seed)
    tok = load_tokenizer(a.model, None)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    model = load_model(a.model)
    rows = to_prompt_completion(load_rows(a.data))
    with tempfile.TemporaryDirectory() as outdir:
        cfg = SFTConfig(
            **hf_training_kwargs(a, outdir),
            learning_rate=a.learning_rate,
            max_length=a.max_length,
            truncation_mode=a.truncation_mode,
            packing=False,
            completion_only_loss=True,
            dataset_num_proc=None,
        )
        trainer = sequential(SFTTrainer, a.shuffle)(
            model=model, args=cfg, train_dataset=rows, processing_class=tok, callbacks=[JsonlLog(a.log)]
        )
        trainer.train()


if __name__ == "__main__":
    main()
