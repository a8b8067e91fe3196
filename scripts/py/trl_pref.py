#!/usr/bin/env python3
"""Real TRL 1.13 CPOTrainer / ORPOTrainer / KTOTrainer runs with the options of `npm run train --trainer ...`.

  .venv/bin/python scripts/py/trl_pref.py --trainer cpo|orpo|kto --model DIR --data FILE --log out.jsonl \
      [--beta 0.1] [--loss_type sigmoid|hinge|ipo|simpo] [--label_smoothing 0] [--cpo_alpha 1] [--simpo_gamma 0.5] \
      [--desirable_weight 1] [--undesirable_weight 1] [common options of trl_dpo.py]
  .venv/bin/python scripts/py/trl_pref.py --batch runs.json   # a JSON list of such argument lists, one process

The runs are made comparable with ours as trl_dpo.py makes DPO's: batches in dataset order (SequentialSampler),
CPU fp32 eager, dropout off, logging every step, no eval. Data goes to KTOTrainer as it is: paired data it unpairs
itself (unpair_preference_dataset), data in TRL's unpaired format (prompt, completion, label) it takes directly. The log has one JSON line per optimizer step with TRL's names.
"""
import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

from trl_dpo import JsonlLog, batch_main, common_args, hf_training_kwargs, load_model, load_rows, sequential  # noqa: E402
from trl_tokenize import load_tokenizer  # noqa: E402


def pref_args(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common_args(ap)
    ap.add_argument("--trainer", required=True, choices=["cpo", "orpo", "kto"])
    ap.add_argument("--beta", type=float, default=0.1)
    ap.add_argument("--loss_type", default=None)
    ap.add_argument("--label_smoothing", type=float, default=0.0)
    ap.add_argument("--cpo_alpha", type=float, default=1.0)
    ap.add_argument("--simpo_gamma", type=float, default=0.5)
    ap.add_argument("--desirable_weight", type=float, default=1.0)
    ap.add_argument("--undesirable_weight", type=float, default=1.0)
    a = ap.parse_args(argv)
    if a.learning_rate is None:
        a.learning_rate = 1e-6
    return a


def run_pref(a):
    torch.manual_seed(a.seed)
    tok = load_tokenizer(a.model, None)
    model = load_model(a.model)
    rows = load_rows(a.data)
    with tempfile.TemporaryDirectory() as outdir:
        common = dict(**hf_training_kwargs(a, outdir), learning_rate=a.learning_rate, beta=a.beta, max_length=a.max_length, disable_dropout=True)
        ref = None
        if a.trainer == "cpo":
            from trl.experimental.cpo import CPOConfig, CPOTrainer

            cfg = CPOConfig(**common, loss_type=a.loss_type or "sigmoid", label_smoothing=a.label_smoothing, cpo_alpha=a.cpo_alpha,
                            simpo_gamma=a.simpo_gamma, gradient_checkpointing=False)
            cls = CPOTrainer
        elif a.trainer == "orpo":
            from trl.experimental.orpo import ORPOConfig, ORPOTrainer

            cfg = ORPOConfig(**common, gradient_checkpointing=False)
            cls = ORPOTrainer
        else:
            from trl import KTOConfig, KTOTrainer

            cfg = KTOConfig(**common, loss_type=a.loss_type or "kto", desirable_weight=a.desirable_weight,
                            undesirable_weight=a.undesirable_weight)
            cls = KTOTrainer
            ref = load_model(a.model)
        kwargs = dict(model=model, args=cfg, train_dataset=rows, processing_class=tok, callbacks=[JsonlLog(a.log)])
        if ref is not None:
            kwargs["ref_model"] = ref
        trainer = sequential(cls, a.shuffle)(**kwargs)
        trainer.train()


if __name__ == "__main__":
    batch_main(pref_args, run_pref)
