#!/usr/bin/env python3
"""A real TRL DPOTrainer run with the command-line options of `npm run train`, for parity checks.

  .venv/bin/python scripts/py/trl_dpo.py --model DIR --data FILE --log out.jsonl \
      [--beta 0.1] [--loss_type sigmoid] [--label_smoothing 0] [--learning_rate 1e-6] \
      [--per_device_train_batch_size 8] [--gradient_accumulation_steps 1] [--max_steps -1] \
      [--num_train_epochs 3] [--warmup_ratio 0] [--warmup_steps 0] [--lr_scheduler_type linear] \
      [--max_grad_norm 1] [--weight_decay 0] [--max_length 1024] [--truncation_mode keep_start] \
      [--precompute_ref_log_probs false] [--seed 42] [--shuffle false] [--ref DIR]
      [--loss_type sigmoid,bco_pair,sft] [--loss_weights 0.8,0.2,1.0] [--f_divergence_type reverse_kl]
      [--f_alpha_divergence_coef 0.5] [--use_weighting false] [--ld_alpha None] [--discopop_tau 0.05]
      [--sync_ref_model false] [--ref_model_mixup_alpha 0.6] [--ref_model_sync_steps 512]
      [--precompute_ref_batch_size None]
  .venv/bin/python scripts/py/trl_dpo.py --batch runs.json   # runs.json: a list of such argument lists

Same names and defaults as src/dpo/trainer.ts (TRL's). What makes the run comparable with ours:
  - batches in file order: the train sampler is a SequentialSampler (unless --shuffle true);
  - CPU, float32, eager attention, dropout off (DPOConfig.disable_dropout, plus 0 in the loaded config);
  - the reference is the starting policy loaded again (or --ref), also fp32 eager;
  - no eval, no checkpoints, report_to none, logging_steps 1.
The log gets one JSON line per optimizer step, with TRL's metric names as the Trainer logs them
(loss, grad_norm, learning_rate, rewards/*, logps/*, logits/*, ...) plus "step" and "epoch".

transformers 5 has no warmup_ratio: a ratio is passed as a float warmup_steps < 1 (same ceil(ratio *
total) rule). The tokenizer is loaded with the rule of trl_tokenize.py (GPT-2 without a
tokenizer_config gets <|endoftext|> as bos/eos/unk).
"""
import argparse
import json
import os
import sys
import tempfile
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("WANDB_DISABLED", "true")
warnings.filterwarnings("ignore")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import datasets  # noqa: E402
import torch  # noqa: E402
from torch.utils.data import SequentialSampler  # noqa: E402
from transformers import AutoModelForCausalLM, TrainerCallback  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

from trl_tokenize import load_tokenizer  # noqa: E402

DROPOUT_KEYS = ("resid_pdrop", "embd_pdrop", "attn_pdrop", "attention_dropout", "hidden_dropout", "dropout",
                "summary_first_dropout")


def str2bool(v):
    if isinstance(v, bool):
        return v
    if v.lower() in ("true", "1", "yes"):
        return True
    if v.lower() in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {v!r}")


def opt_int(v):
    return None if v.lower() in ("none", "null") else int(v)


def load_model(folder):
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager")
    for k in DROPOUT_KEYS:
        if isinstance(getattr(model.config, k, None), float):
            setattr(model.config, k, 0.0)
    return model.float()


def load_rows(path):
    p = path.lower().removesuffix(".gz")
    builder = "parquet" if p.endswith(".parquet") else "json"
    return datasets.load_dataset(builder, data_files=path, split="train")


def common_args(ap):
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--learning_rate", type=float, default=None)
    ap.add_argument("--per_device_train_batch_size", type=int, default=8)
    ap.add_argument("--gradient_accumulation_steps", type=int, default=1)
    ap.add_argument("--max_steps", type=int, default=-1)
    ap.add_argument("--num_train_epochs", type=float, default=3)
    ap.add_argument("--warmup_ratio", type=float, default=0.0)
    ap.add_argument("--warmup_steps", type=int, default=0)
    ap.add_argument("--lr_scheduler_type", default="linear")
    ap.add_argument("--max_grad_norm", type=float, default=1.0)
    ap.add_argument("--weight_decay", type=float, default=0.0)
    ap.add_argument("--adam_beta1", type=float, default=0.9)
    ap.add_argument("--adam_beta2", type=float, default=0.999)
    ap.add_argument("--adam_epsilon", type=float, default=1e-8)
    ap.add_argument("--max_length", type=opt_int, default=1024)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--shuffle", type=str2bool, default=False)


def hf_training_kwargs(a, outdir):
    """TrainingArguments shared by the DPO and SFT runs (transformers 5 names)."""
    warmup = a.warmup_steps if a.warmup_steps > 0 else a.warmup_ratio  # float < 1 = ratio in transformers 5
    return dict(
        output_dir=outdir,
        per_device_train_batch_size=a.per_device_train_batch_size,
        gradient_accumulation_steps=a.gradient_accumulation_steps,
        max_steps=a.max_steps,
        num_train_epochs=a.num_train_epochs,
        warmup_steps=warmup,
        lr_scheduler_type=a.lr_scheduler_type,
        max_grad_norm=a.max_grad_norm,
        weight_decay=a.weight_decay,
        adam_beta1=a.adam_beta1,
        adam_beta2=a.adam_beta2,
        adam_epsilon=a.adam_epsilon,
        optim="adamw_torch",
        seed=a.seed,
        data_seed=a.seed,
        logging_steps=1,
        logging_strategy="steps",
        save_strategy="no",
        eval_strategy="no",
        report_to=[],
        use_cpu=True,
        bf16=False,
        fp16=False,
        dataloader_drop_last=False,
        disable_tqdm=True,
    )


class JsonlLog(TrainerCallback):
    """One line per optimizer step: the Trainer's log dict (TRL's names) plus step."""

    def __init__(self, path):
        self.path = path
        open(path, "w").close()

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not logs or "train_runtime" in logs or "loss" not in logs:
            return
        rec = {"step": state.global_step}
        for k, v in logs.items():
            rec[k] = float(v) if isinstance(v, (int, float)) or torch.is_tensor(v) else v
        with open(self.path, "a") as f:
            f.write(json.dumps(rec) + "\n")
        print(json.dumps(rec), file=sys.stderr)


def sequential(trainer_cls, shuffle):
    """The trainer class with batches in dataset order (a SequentialSampler), unless shuffle is on."""
    if shuffle:
        return trainer_cls

    class InOrder(trainer_cls):
        def _get_train_sampler(self, train_dataset=None):
            ds = train_dataset if train_dataset is not None else self.train_dataset
            return SequentialSampler(ds)

    return InOrder


def dpo_args(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common_args(ap)
    ap.add_argument("--ref")
    ap.add_argument("--beta", type=float, default=0.1)
    ap.add_argument("--loss_type", default="sigmoid", help="one name or a comma-separated list (TRL's list)")
    ap.add_argument("--loss_weights", default=None, help="comma-separated numbers, one per loss type")
    ap.add_argument("--label_smoothing", type=float, default=0.0)
    ap.add_argument("--truncation_mode", default="keep_start")
    ap.add_argument("--precompute_ref_log_probs", type=str2bool, default=False)
    ap.add_argument("--precompute_ref_batch_size", type=opt_int, default=None)
    ap.add_argument("--reference_free", type=str2bool, default=False)
    ap.add_argument("--rpo_alpha", type=float, default=None)
    ap.add_argument("--f_divergence_type", default="reverse_kl")
    ap.add_argument("--f_alpha_divergence_coef", type=float, default=0.5)
    ap.add_argument("--use_weighting", type=str2bool, default=False)
    ap.add_argument("--ld_alpha", type=lambda v: None if v.lower() in ("none", "null") else float(v), default=None)
    ap.add_argument("--discopop_tau", type=float, default=0.05)
    ap.add_argument("--sync_ref_model", type=str2bool, default=False)
    ap.add_argument("--ref_model_mixup_alpha", type=float, default=0.6)
    ap.add_argument("--ref_model_sync_steps", type=int, default=512)
    a = ap.parse_args(argv)
    if a.learning_rate is None:
        a.learning_rate = 1e-6
    return a


def run_dpo(a):
    """One DPOTrainer run; its per-step log goes to a.log."""
    if a.reference_free:
        raise SystemExit("TRL 1.13's DPOConfig has no reference_free option; this run cannot be compared with TRL.")
    from trl import DPOConfig, DPOTrainer

    torch.manual_seed(a.seed)
    tok = load_tokenizer(a.model, None)
    model = load_model(a.model)
    ref = None if a.precompute_ref_log_probs else load_model(a.ref or a.model)
    if a.precompute_ref_log_probs and a.ref:
        ref = load_model(a.ref)
    rows = load_rows(a.data)
    # cdpo = sigmoid with label smoothing (ours; TRL 1.13 ignores label_smoothing for sigmoid)
    loss_type = ["sigmoid" if t == "cdpo" else t for t in a.loss_type.split(",")]
    weights = [float(w) for w in a.loss_weights.split(",")] if a.loss_weights else None
    if a.rpo_alpha is not None:
        # RPO in TRL 1.x: an sft term weighted rpo_alpha (TRL 1.x's DPOConfig has no rpo_alpha)
        weights = (weights or [1.0] * len(loss_type)) + [a.rpo_alpha]
        loss_type = loss_type + ["sft"]
    with tempfile.TemporaryDirectory() as outdir:
        cfg = DPOConfig(
            **hf_training_kwargs(a, outdir),
            learning_rate=a.learning_rate,
            beta=a.beta,
            loss_type=loss_type,
            loss_weights=weights,
            label_smoothing=a.label_smoothing,
            max_length=a.max_length,
            truncation_mode=a.truncation_mode,
            precompute_ref_log_probs=a.precompute_ref_log_probs,
            precompute_ref_batch_size=a.precompute_ref_batch_size,
            f_divergence_type=a.f_divergence_type,
            f_alpha_divergence_coef=a.f_alpha_divergence_coef,
            use_weighting=a.use_weighting,
            ld_alpha=a.ld_alpha,
            discopop_tau=a.discopop_tau,
            sync_ref_model=a.sync_ref_model,
            ref_model_mixup_alpha=a.ref_model_mixup_alpha,
            ref_model_sync_steps=a.ref_model_sync_steps,
            disable_dropout=True,
        )
        trainer = sequential(DPOTrainer, a.shuffle)(
            model=model, ref_model=ref, args=cfg, train_dataset=rows, processing_class=tok, callbacks=[JsonlLog(a.log)]
        )
        trainer.train()


def batch_main(parse, run):
    """`script.py args...` runs once; `script.py --batch cases.json` runs ONE process for many runs (the parity
    tests' cases): a JSON list of argument lists; a run that TRL refuses writes {"error": "..."} as its log
    instead of stopping the others."""
    hf_logging.set_verbosity_error()
    if len(sys.argv) == 3 and sys.argv[1] == "--batch":
        for argv in json.load(open(sys.argv[2])):
            a = parse(argv)
            try:
                run(a)
            except Exception as e:  # noqa: BLE001 - reported to the test, which decides
                with open(a.log, "w") as f:
                    f.write(json.dumps({"error": f"{type(e).__name__}: {e}"}) + "\n")
        return
    run(parse(sys.argv[1:]))


if __name__ == "__main__":
    batch_main(dpo_args, run_dpo)
