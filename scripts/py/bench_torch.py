"""PyTorch fp32 eager baseline for `npm run bench`: the same DPO step on the same shapes.

One step = reference forward (no grad) + policy forward/backward on 2N sequences, sigmoid DPO loss,
global-norm clipping and AdamW. Prints JSON {config_name: {ms_per_step, device}} on stdout.
"""
import argparse
import json
import time

import torch
import torch.nn.functional as F
from transformers import AutoConfig, AutoModelForCausalLM


def seq_logps(model, ids, mask):
    logits = model(input_ids=ids).logits[:, :-1].float()
    lp = torch.gather(F.log_softmax(logits, -1), 2, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    return (lp * mask[:, 1:]).sum(-1)


class LoraLinear(torch.nn.Module):
    """PEFT's LoRA on a frozen Linear: y = W x + (alpha / r) * B A x (A random, B random small here: the cost is the same)."""

    enabled = True

    def __init__(self, base, r, alpha):
        super().__init__()
        self.base = base
        base.weight.requires_grad_(False)
        if base.bias is not None:
            base.bias.requires_grad_(False)
        self.A = torch.nn.Parameter(torch.randn(r, base.in_features) * 0.01)
        self.B = torch.nn.Parameter(torch.randn(base.out_features, r) * 0.01)
        self.scaling = alpha / r

    def forward(self, x):
        y = self.base(x)
        return y + self.scaling * F.linear(F.linear(x, self.A), self.B) if LoraLinear.enabled else y


def add_lora(model, lora):
    """Freezes the model and wraps every attention/MLP projection ('all-linear': not the LM head)."""
    for p in model.parameters():
        p.requires_grad_(False)
    adapters = []
    for name, mod in list(model.named_modules()):
        for child_name, child in list(mod.named_children()):
            full = f"{name}.{child_name}" if name else child_name
            if isinstance(child, torch.nn.Linear) and "lm_head" not in full:
                w = LoraLinear(child, lora["r"], lora["lora_alpha"])
                setattr(mod, child_name, w)
                adapters += [w.A, w.B]
    return adapters


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--configs", required=True, help="JSON list of {name, config, pairs, T}")
    ap.add_argument("--steps", type=int, default=2)
    a = ap.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(0)
    out = {}
    for bc in json.loads(a.configs):
        cfg = AutoConfig.for_model(**bc["config"])
        cfg._attn_implementation = "eager"
        policy = AutoModelForCausalLM.from_config(cfg, attn_implementation="eager").to(device).float().train()
        reference = AutoModelForCausalLM.from_config(cfg, attn_implementation="eager").to(device).float().eval()
        for m in (policy, reference):
            for mod in m.modules():
                if isinstance(mod, torch.nn.Dropout):
                    mod.p = 0.0
        lora = bc.get("lora")
        if lora:
            adapters = add_lora(policy, lora)
            reference = None  # the policy with its adapters off, as PEFT / TRL do
            opt = torch.optim.AdamW(adapters, lr=1e-4, foreach=False)
        else:
            opt = torch.optim.AdamW(policy.parameters(), lr=1e-5, foreach=False)
        n, T = bc["pairs"], bc["T"]
        ids = torch.randint(0, cfg.vocab_size, (2 * n, T), device=device)
        mask = torch.zeros(2 * n, T, device=device)
        mask[:, T // 2 :] = 1

        def step():
            opt.zero_grad(set_to_none=True)
            with torch.no_grad():
                if reference is None:
                    LoraLinear.enabled = False
                    ref = seq_logps(policy, ids, mask)
                    LoraLinear.enabled = True
                else:
                    ref = seq_logps(reference, ids, mask)
            pol = seq_logps(policy, ids, mask)
            h = (pol[:n] - ref[:n]) - (pol[n:] - ref[n:])
            loss = -F.logsigmoid(0.1 * h).mean()
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for p in policy.parameters() if p.requires_grad], 1.0)
            opt.step()
            if device == "cuda":
                torch.cuda.synchronize()

        step()  # warm-up
        t0 = time.perf_counter()
        for _ in range(a.steps):
            step()
        ms = (time.perf_counter() - t0) / a.steps * 1000
        out[bc["name"]] = {"ms_per_step": ms, "device": f"{device} ({torch.get_num_threads()} threads)" if device == "cpu" else torch.cuda.get_device_name()}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
