#!/usr/bin/env python3
"""Golden DPO fixtures from the REAL Hugging Face transformers classes, in float64.

Writes one folder in the layout of ../shared/fixtures (see its README.md):
  reference/{config.json,model.safetensors}  policy/{config.json,model.safetensors}
  batch.json  expected.json  expected.safetensors

The model is built from the config.json that is written to disk (AutoConfig.from_pretrained), so
keys left out of config.json take transformers' own defaults, which is what the engine must match.
Weights are drawn in float64, rounded to float32, stored as float32 and used as float64 from then
on; policy = reference + noise (also rounded to float32). attn_implementation="eager", eval mode
(no dropout), positions 0..T-1 for every row, no attention mask (right padding only follows the
tokens that matter, so causal attention never sees it).

  python scripts/py/make_fixture.py --arch qwen2 --vocab 83 --hidden 36 --heads 6 --kv-heads 2 \
      --intermediate 52 --layers 2 --rope-theta 1e6 --rms-eps 1e-6 \
      --pairs 4,3,5/2,7,1/6,5,6 --seed 1 --out test/fixtures/golden/qwen2-gqa

`--check DIR` recomputes expected.json/expected.safetensors of an existing fixture folder from its
own weights and batch (used to confirm this script means by every number what the README means).
`--regen-golden` rebuilds every folder under test/fixtures/golden with the settings below.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from transformers import AutoConfig, AutoModelForCausalLM

torch.set_default_dtype(torch.float64)

BETA = 0.1
EPS_LS = 0.1
ADAMW = {"lr": 1e-3, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.01, "max_grad_norm": 1.0, "steps": 3}
NOTE = ("sequence s of the packed batch is prompt+chosen for s<N, prompt+rejected for s>=N; "
        "log-probs sum log p(tok_t | tok_<t) over completion tokens only")

# The committed golden folders (test/fixtures/golden/<name>): arguments for this script.
GOLDEN = {
    "qwen2-gqa": "--arch qwen2 --vocab 83 --hidden 36 --heads 6 --kv-heads 2 --intermediate 52 --layers 2 "
                 "--rope-theta 1e6 --rms-eps 1e-6 --pairs 4,3,5/1,9,6/7,2,8 --seed 11",
    "qwen3-headdim": "--arch qwen3 --vocab 71 --hidden 40 --heads 4 --kv-heads 2 --head-dim 12 --intermediate 56 "
                     "--layers 2 --tie --rope-theta 1e6 --rms-eps 1e-6 --pairs 6,5,3/3,8,11/9,1,4 --seed 12",
    "llama-bias": "--arch llama --vocab 59 --hidden 30 --heads 3 --kv-heads 3 --intermediate 46 --layers 2 "
                  "--attention-bias --mlp-bias --rope-theta 10000 --rms-eps 1e-5 --pairs 2,5,7/5,6,2/8,3,4 --seed 13",
    "gpt2-odd": "--arch gpt2 --vocab 77 --hidden 36 --heads 3 --layers 1 --n-positions 32 --tie "
                "--pairs 5,8,4/10,2,5/1,6,9 --seed 14",
}

ARCHITECTURES = {"gpt2": "GPT2LMHeadModel", "llama": "LlamaForCausalLM", "qwen2": "Qwen2ForCausalLM",
                 "qwen3": "Qwen3ForCausalLM"}


# ----------------------------------------------------------------------------------------------
# config.json, written like the Hub's (only the keys each model type uses)

def hub_config(a: argparse.Namespace) -> dict:
    if a.arch == "gpt2":
        c = {
            "model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": a.vocab,
            "n_embd": a.hidden, "n_layer": a.layers, "n_head": a.heads, "n_positions": a.n_positions,
            "n_ctx": a.n_positions, "n_inner": None, "layer_norm_epsilon": 1e-5,
            "activation_function": "gelu_new", "initializer_range": 0.02,
            "bos_token_id": a.vocab - 1, "eos_token_id": a.vocab - 1,
            "resid_pdrop": 0.1, "embd_pdrop": 0.1, "attn_pdrop": 0.1,  # as on the Hub; eval() turns dropout off
            "tie_word_embeddings": bool(a.tie),
        }
        return c
    c = {
        "model_type": a.arch, "architectures": [ARCHITECTURES[a.arch]], "vocab_size": a.vocab,
        "hidden_size": a.hidden, "intermediate_size": a.intermediate, "num_hidden_layers": a.layers,
        "num_attention_heads": a.heads, "num_key_value_heads": a.kv_heads, "hidden_act": "silu",
        "max_position_embeddings": 64, "rms_norm_eps": a.rms_eps, "rope_theta": a.rope_theta,
        "rope_scaling": None, "initializer_range": 0.02, "attention_dropout": 0.0,
        "bos_token_id": 1, "eos_token_id": 2, "use_cache": True,
        "tie_word_embeddings": bool(a.tie), "torch_dtype": "float32",
    }
    if a.head_dim is not None:
        c["head_dim"] = a.head_dim
    if a.arch in ("qwen2", "qwen3"):
        # Hub Qwen configs carry a window size with use_sliding_window false (= no window)
        c.update({"use_sliding_window": False, "sliding_window": 32768, "max_window_layers": a.layers})
    if a.arch in ("llama", "qwen3"):
        c["attention_bias"] = bool(a.attention_bias)  # qwen2: left out (q/k/v biased by construction)
    if a.arch == "llama":
        c["mlp_bias"] = bool(a.mlp_bias)
        c["pretraining_tp"] = 1
    return c


# ----------------------------------------------------------------------------------------------
# models and weights

# transformers' Llama family is not float64 throughout even when the model is float64: RMSNorm
# casts to float32, the eager attention softmax runs in float32 and RoPE angles are float32
# (GPT-2 has none of these). That moves float64 logits by ~1e-7 relative. The fixtures are exact
# float64 math (like ../shared/fixtures, which this script reproduces to ~1e-15 with --check), so
# these three places compute the SAME formulas in float64 here; everything else is transformers'
# own code. self_check reports how far transformers' unpatched float64 model is from the fixture.
_softmax = F.softmax


def _softmax_keep_f64(input, dim=None, _stacklevel=3, dtype=None):
    if dtype == torch.float32 and input.dtype == torch.float64:
        dtype = torch.float64
    return _softmax(input, dim=dim, _stacklevel=_stacklevel, dtype=dtype)


def exact_float64(model) -> None:
    torch.nn.functional.softmax = _softmax_keep_f64  # eager_attention_forward looks it up at call time
    for mod in model.modules():
        if type(mod).__name__.endswith("RMSNorm"):
            def norm_forward(x, mod=mod):
                var = x.pow(2).mean(-1, keepdim=True)
                return mod.weight * (x * torch.rsqrt(var + mod.variance_epsilon))
            mod.forward = norm_forward
    rot = getattr(getattr(model, "model", None), "rotary_emb", None)
    if rot is None:
        return
    if rot.rope_type != "default":
        raise SystemExit(f"rope type {rot.rope_type} is not handled by exact_float64")
    cfg = rot.config
    base = cfg.rope_parameters["rope_theta"]
    dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    inv = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))

    def rope_forward(x, position_ids):
        freqs = position_ids[:, :, None].to(torch.float64) * inv[None, None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        return (emb.cos() * rot.attention_scaling).to(x.dtype), (emb.sin() * rot.attention_scaling).to(x.dtype)

    rot.forward = rope_forward


def build_model(folder: str, exact: bool = True):
    cfg = AutoConfig.from_pretrained(folder)
    m = AutoModelForCausalLM.from_config(cfg, attn_implementation="eager", dtype=torch.float64)
    m.eval()  # dropout off
    if exact:
        exact_float64(m)
    return m


def hub_name(arch: str, name: str) -> str:
    return name[len("transformer."):] if arch == "gpt2" and name.startswith("transformer.") else name


def named_params(model, arch: str) -> dict:
    """Hub names -> parameters; a tied embedding is one parameter under the embedding's name."""
    return {hub_name(arch, n): p for n, p in model.named_parameters()}  # remove_duplicate=True


def f32(x: torch.Tensor) -> torch.Tensor:
    return x.to(torch.float32).to(torch.float64)


def init_weights(model, arch: str, gen: torch.Generator) -> None:
    """Weights with enough spread that the fixture is not near-uniform, rounded to float32."""
    from transformers.pytorch_utils import Conv1D
    fan_in = {}
    for mname, mod in model.named_modules():
        if isinstance(mod, torch.nn.Linear):
            fan_in[mname + ".weight"] = mod.weight.shape[1]
        elif isinstance(mod, Conv1D):
            fan_in[mname + ".weight"] = mod.weight.shape[0]
    with torch.no_grad():
        for n, p in model.named_parameters():
            r = torch.randn(p.shape, generator=gen, dtype=torch.float64)
            if n in fan_in and "lm_head" not in n:
                v = r / math.sqrt(fan_in[n])
            elif n.endswith("bias"):
                v = 0.1 * r
            elif p.dim() == 1:  # LayerNorm / RMSNorm weights (incl. Qwen3 q_norm/k_norm)
                v = 1.0 + 0.1 * r
            elif "lm_head" in n:
                v = r / math.sqrt(p.shape[1])
            else:  # embeddings (wte, wpe, embed_tokens)
                v = 0.5 * r
            p.copy_(f32(v))


def add_noise(model, gen: torch.Generator, scale: float) -> None:
    with torch.no_grad():
        for _, p in model.named_parameters():
            p.copy_(f32(p + scale * torch.randn(p.shape, generator=gen, dtype=torch.float64)))


def save_model(model, arch: str, folder: str, config: dict) -> None:
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    tensors = {n: p.detach().to(torch.float32).contiguous() for n, p in named_params(model, arch).items()}
    save_file(tensors, os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})


def load_weights(model, arch: str, folder: str) -> None:
    st = load_file(os.path.join(folder, "model.safetensors"))
    params = named_params(model, arch)
    missing = set(params) - set(st)
    extra = set(st) - set(params)
    if missing or extra:
        raise SystemExit(f"{folder}: tensor names differ from the model: missing {sorted(missing)}, extra {sorted(extra)}")
    with torch.no_grad():
        for n, p in params.items():
            if tuple(st[n].shape) != tuple(p.shape):
                raise SystemExit(f"{folder}: {n} has shape {tuple(st[n].shape)}, model wants {tuple(p.shape)}")
            p.copy_(st[n].to(torch.float64))


# ----------------------------------------------------------------------------------------------
# batch

def make_batch(spec: str, vocab: int, rnd: random.Random, pad_id: int = 0) -> dict:
    pairs = []
    for part in spec.split("/"):
        lp, lc, lr = (int(x) for x in part.split(","))
        if lp < 1 or lc < 1 or lr < 1:
            raise SystemExit(f"--pairs: every length must be >= 1, got {part}")
        tok = lambda n: [rnd.randrange(1, vocab) for _ in range(n)]  # never the pad id 0
        pairs.append({"prompt_ids": tok(lp), "chosen_ids": tok(lc), "rejected_ids": tok(lr)})
    return {"pad_id": pad_id, "note": NOTE, "pairs": pairs}


def pack(batch: dict):
    seqs = []
    for key in ("chosen_ids", "rejected_ids"):
        for p in batch["pairs"]:
            seqs.append((p["prompt_ids"] + p[key], len(p["prompt_ids"])))
    T = max(len(s) for s, _ in seqs)
    ids = torch.full((len(seqs), T), batch["pad_id"], dtype=torch.long)
    mask = torch.zeros((len(seqs), T), dtype=torch.float64)
    for i, (s, lp) in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s)
        mask[i, lp: len(s)] = 1.0
    return ids, mask


# ----------------------------------------------------------------------------------------------
# the numbers

def forward_logits(model, ids: torch.Tensor) -> torch.Tensor:
    pos = torch.arange(ids.shape[1]).unsqueeze(0).expand_as(ids)
    return model(input_ids=ids, position_ids=pos, use_cache=False).logits


def token_logps(logits: torch.Tensor, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """[2N, T]: column t = log p(ids[t] | ids[<t]) at completion tokens, 0 elsewhere (column 0 is 0)."""
    lp = torch.log_softmax(logits[:, :-1], dim=-1).gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    out = torch.zeros_like(mask)
    out[:, 1:] = lp * mask[:, 1:]
    return out


def losses_from(pc, pr, rc, rr, lens, N):
    h = (pc - rc) - (pr - rr)
    sig = -F.logsigmoid(BETA * h)
    cdpo = -(1 - EPS_LS) * F.logsigmoid(BETA * h) - EPS_LS * F.logsigmoid(-BETA * h)
    hinge = torch.relu(1 - BETA * h)
    robust = ((1 - EPS_LS) * (-F.logsigmoid(BETA * h)) + EPS_LS * F.logsigmoid(-BETA * h)) / (1 - 2 * EPS_LS)
    lc, lr = lens[:N], lens[N:]
    hn = (pc / lc - rc / lc) - (pr / lr - rr / lr)
    ipo = (hn - 1 / (2 * BETA)) ** 2
    return {"sigmoid": sig, "sigmoid_label_smoothing_0.1": cdpo, "hinge": hinge,
            "robust_label_smoothing_0.1": robust, "ipo_length_normalized": ipo}


def sigmoid_loss(policy, ids, mask, ref_seq, N):
    tl = token_logps(forward_logits(policy, ids), ids, mask)
    s = tl.sum(1)
    h = (s[:N] - ref_seq[:N]) - (s[N:] - ref_seq[N:])
    return (-F.logsigmoid(BETA * h)).mean()


def compute(policy, reference, arch: str, batch: dict):
    ids, mask = pack(batch)
    N = len(batch["pairs"])
    T = ids.shape[1]
    lens = mask.sum(1)
    with torch.no_grad():
        ref_logits = forward_logits(reference, ids)
        pol_logits = forward_logits(policy, ids)
    ref_tok = token_logps(ref_logits, ids, mask)
    pol_tok = token_logps(pol_logits, ids, mask)
    pseq, rseq = pol_tok.sum(1), ref_tok.sum(1)
    pc, pr, rc, rr = pseq[:N], pseq[N:], rseq[:N], rseq[N:]
    losses = losses_from(pc, pr, rc, rr, lens, N)

    # metrics (TRL names). "Completion positions": t whose next token t+1 is a completion token.
    pos = mask[:, 1:] > 0  # [2N, T-1]
    lg = pol_logits[:, :-1]
    logits_chosen = lg[:N][pos[:N]].mean()
    logits_rejected = lg[N:][pos[N:]].mean()
    lpp = torch.log_softmax(pol_logits[:, :-1], -1)[pos]
    lpr = torch.log_softmax(ref_logits[:, :-1], -1)[pos]
    kl = (lpp.exp() * (lpp - lpr)).sum(-1).mean()
    rw, rl = BETA * (pc - rc), BETA * (pr - rr)
    metrics = {
        "rewards/chosen": rw.mean().item(), "rewards/rejected": rl.mean().item(),
        "rewards/accuracies": (rw > rl).double().mean().item(), "rewards/margins": (rw - rl).mean().item(),
        "logps/chosen": pc.mean().item(), "logps/rejected": pr.mean().item(),
        "logits/chosen": logits_chosen.item(), "logits/rejected": logits_rejected.item(),
        "nll_loss_chosen_per_token": (-pc.sum() / lens[:N].sum()).item(),
        "kl/token_mean_exact": kl.item(),
    }

    # gradients of the mean sigmoid loss
    params = named_params(policy, arch)
    policy.zero_grad(set_to_none=True)
    loss = sigmoid_loss(policy, ids, mask, rseq, N)
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in params.items()}
    gnorm = math.sqrt(sum(float((g * g).sum()) for g in grads.values()))

    # AdamW: 3 steps on the same batch, torch semantics, decay on every parameter
    start = {n: p.detach().clone() for n, p in params.items()}
    opt = torch.optim.AdamW(list(params.values()), lr=ADAMW["lr"], betas=tuple(ADAMW["betas"]), eps=ADAMW["eps"],
                            weight_decay=ADAMW["weight_decay"], foreach=False, fused=False)
    before = []
    for _ in range(ADAMW["steps"]):
        opt.zero_grad(set_to_none=True)
        l = sigmoid_loss(policy, ids, mask, rseq, N)
        before.append(l.item())
        l.backward()
        torch.nn.utils.clip_grad_norm_(list(params.values()), ADAMW["max_grad_norm"], foreach=False)
        opt.step()
    after = {n: p.detach().clone() for n, p in params.items()}
    with torch.no_grad():  # leave the policy as it was
        for n, p in params.items():
            p.copy_(start[n])

    expected = {
        "beta": BETA, "num_pairs": N, "seq_len": T,
        "policy_chosen_logps": pc.tolist(), "policy_rejected_logps": pr.tolist(),
        "reference_chosen_logps": rc.tolist(), "reference_rejected_logps": rr.tolist(),
        "completion_lengths": lens.tolist(),
        "losses": {k: {"per_pair": v.tolist(), "mean": v.mean().item()} for k, v in losses.items()},
        "metrics": metrics,
        "sigmoid_grad_global_norm": gnorm,
        "adamw": {**ADAMW, "losses_before_each_step": before},
    }
    tensors = {"input_ids": ids.to(torch.int32), "completion_mask": mask.float(),
               "policy_token_logps": pol_tok.float(), "reference_token_logps": ref_tok.float()}
    for n, g in grads.items():
        tensors["grad." + n] = g.float().contiguous()
    for n, p in after.items():
        tensors["adamw3." + n] = p.float().contiguous()
    return expected, tensors, (ids, mask, rseq, N)


# ----------------------------------------------------------------------------------------------
# self-checks

def self_check(policy, reference, arch: str, batch: dict, expected: dict, tensors: dict, ctx, folder: str,
               fd_entries: int) -> None:
    ids, mask, rseq, N = ctx
    problems = []

    def walk(x, path=""):
        if isinstance(x, dict):
            for k, v in x.items():
                walk(v, f"{path}/{k}")
        elif isinstance(x, list):
            for i, v in enumerate(x):
                walk(v, f"{path}[{i}]")
        elif isinstance(x, float) and not math.isfinite(x):
            problems.append(f"expected.json{path} is {x}")
    walk(expected)

    # sequence log-probs again, one unpadded sequence at a time (independent of packing and padding)
    seqs = [(p["prompt_ids"], p[k]) for k in ("chosen_ids", "rejected_ids") for p in batch["pairs"]]
    names = ["policy", "reference"]
    for mi, model in enumerate((policy, reference)):
        got = expected[f"{names[mi]}_chosen_logps"] + expected[f"{names[mi]}_rejected_logps"]
        for s, (prompt, comp) in enumerate(seqs):
            x = torch.tensor([prompt + comp])
            with torch.no_grad():
                lp = torch.log_softmax(model(input_ids=x).logits[0], -1)
            want = sum(lp[len(prompt) - 1 + j, comp[j]].item() for j in range(len(comp)))
            if abs(want - got[s]) > 1e-10 * max(1, abs(want)):
                problems.append(f"{names[mi]} seq {s}: logp {got[s]} vs unpadded {want}")
    # per-token tensors sum to the sequence log-probs (to float32 rounding)
    for mi, key in enumerate(("policy_token_logps", "reference_token_logps")):
        sums = tensors[key].double().sum(1).tolist()
        got = expected[f"{names[mi]}_chosen_logps"] + expected[f"{names[mi]}_rejected_logps"]
        for s in range(2 * N):
            if abs(sums[s] - got[s]) > 1e-5 * max(1, abs(got[s])):
                problems.append(f"{key} row {s} sums to {sums[s]}, sequence logp {got[s]}")
        if tensors[key][:, 0].abs().max() != 0 or (tensors[key] * (1 - tensors["completion_mask"])).abs().max() != 0:
            problems.append(f"{key}: column 0 or masked positions nonzero")
    for k, t in tensors.items():
        if not torch.isfinite(t.double()).all():
            problems.append(f"{k} has non-finite values")
        if k.startswith("grad.") and t.abs().max() == 0:
            problems.append(f"{k} is all zero")
        if k.startswith("adamw3.") and (t.double() - named_params(policy, arch)[k[7:]].detach()).abs().max() == 0:
            problems.append(f"{k} did not move")

    # finite differences of the float64 loss on a few parameter entries
    params = named_params(policy, arch)
    gen = torch.Generator().manual_seed(1234)
    pnames = sorted(params)
    worst = 0.0
    for _ in range(fd_entries):
        n = pnames[int(torch.randint(len(pnames), (1,), generator=gen))]
        p = params[n]
        flat = p.data.view(-1)
        # the entry with the largest gradient in a random slice, so the check is not vacuous
        g = tensors["grad." + n].double().view(-1)
        i = int(torch.randint(flat.numel(), (1,), generator=gen))
        j = int(g.abs().argmax()) if g[i].abs() < 1e-4 * g.abs().max() else i
        h = 1e-5
        with torch.no_grad():
            old = flat[j].item()
            flat[j] = old + h
            lp = sigmoid_loss(policy, ids, mask, rseq, N).item()
            flat[j] = old - h
            lm = sigmoid_loss(policy, ids, mask, rseq, N).item()
            flat[j] = old
        fd = (lp - lm) / (2 * h)
        err = abs(fd - g[j].item()) / max(abs(fd), 1e-6)
        worst = max(worst, err)
        if err > 1e-4:  # grad is float32 in the file: ~1e-7 relative plus FD truncation
            problems.append(f"finite difference of grad.{n}[{j}]: {fd} vs {g[j].item()}")
    print(f"  finite differences on {fd_entries} entries: worst relative error {worst:.2e}")

    # the folder reloads in transformers with the same logits (names, config keys, tying)
    for sub, model in (("policy", policy), ("reference", reference)):
        m2 = AutoModelForCausalLM.from_pretrained(os.path.join(folder, sub), attn_implementation="eager",
                                                  dtype=torch.float64).eval()
        with torch.no_grad():
            torch.nn.functional.softmax = _softmax
            hf32 = (forward_logits(m2, ids) - forward_logits(model, ids)).abs().max().item()
            exact_float64(m2)
            d = (forward_logits(m2, ids) - forward_logits(model, ids)).abs().max().item()
        if d > 1e-12:
            problems.append(f"{sub}: from_pretrained logits differ by {d}")
        print(f"  {sub}: from_pretrained logits equal to {d:.1e} (unpatched transformers float64: {hf32:.1e})")
    if problems:
        raise SystemExit("self-check FAILED:\n  " + "\n  ".join(problems))
    print("  self-check passed")


# ----------------------------------------------------------------------------------------------

def write_outputs(folder, batch, expected, tensors):
    with open(os.path.join(folder, "batch.json"), "w") as f:
        json.dump(batch, f, indent=1)
    with open(os.path.join(folder, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
    save_file(tensors, os.path.join(folder, "expected.safetensors"), metadata={"format": "pt"})


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", choices=sorted(ARCHITECTURES))
    ap.add_argument("--vocab", type=int, default=83)
    ap.add_argument("--hidden", type=int, default=36)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=6)
    ap.add_argument("--kv-heads", type=int, default=None, help="default: --heads (llama family)")
    ap.add_argument("--head-dim", type=int, default=None, help="written to config.json only when given")
    ap.add_argument("--intermediate", type=int, default=64, help="llama family (GPT-2: n_inner null = 4*n_embd)")
    ap.add_argument("--tie", action="store_true", help="tie_word_embeddings true")
    ap.add_argument("--attention-bias", action="store_true", help="llama/qwen3: q,k,v,o biases")
    ap.add_argument("--mlp-bias", action="store_true", help="llama: gate/up/down biases")
    ap.add_argument("--rope-theta", type=float, default=10000.0)
    ap.add_argument("--rms-eps", type=float, default=1e-6)
    ap.add_argument("--n-positions", type=int, default=32, help="gpt2")
    ap.add_argument("--pairs", default="4,3,5/2,7,1/6,5,6",
                    help="pairs as prompt,chosen,rejected lengths separated by '/'")
    ap.add_argument("--noise", type=float, default=0.02, help="policy = reference + noise * randn")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fd", type=int, default=6, help="finite-difference checks on this many entries")
    ap.add_argument("--out", help="output folder")
    ap.add_argument("--check", metavar="DIR", help="recompute an existing fixture folder and compare")
    ap.add_argument("--regen-golden", action="store_true", help="rebuild every test/fixtures/golden folder")
    return ap.parse_args(argv)


def generate(a) -> None:
    if not a.arch or not a.out:
        raise SystemExit("--arch and --out are required")
    if a.kv_heads is None:
        a.kv_heads = a.heads
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    rnd = random.Random(a.seed)
    cfg = hub_config(a)
    ref_dir, pol_dir = os.path.join(a.out, "reference"), os.path.join(a.out, "policy")
    for d in (ref_dir, pol_dir):
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
    reference = build_model(ref_dir)
    init_weights(reference, a.arch, gen)
    policy = build_model(pol_dir)
    policy.load_state_dict(reference.state_dict())
    add_noise(policy, gen, a.noise)
    save_model(reference, a.arch, ref_dir, cfg)
    save_model(policy, a.arch, pol_dir, cfg)
    batch = make_batch(a.pairs, a.vocab, rnd)
    expected, tensors, ctx = compute(policy, reference, a.arch, batch)
    write_outputs(a.out, batch, expected, tensors)
    print(f"{a.out}: T={expected['seq_len']} loss={expected['losses']['sigmoid']['mean']:.6f} "
          f"grad_norm={expected['sigmoid_grad_global_norm']:.6f} kl={expected['metrics']['kl/token_mean_exact']:.6f}")
    self_check(policy, reference, a.arch, batch, expected, tensors, ctx, a.out, a.fd)


def check(folder: str) -> None:
    """Recompute a fixture from its own files; print the largest differences."""
    with open(os.path.join(folder, "reference", "config.json")) as f:
        arch = json.load(f)["model_type"]
    reference, policy = build_model(os.path.join(folder, "reference")), build_model(os.path.join(folder, "policy"))
    load_weights(reference, arch, os.path.join(folder, "reference"))
    load_weights(policy, arch, os.path.join(folder, "policy"))
    with open(os.path.join(folder, "batch.json")) as f:
        batch = json.load(f)
    with open(os.path.join(folder, "expected.json")) as f:
        want = json.load(f)
    got, tensors, _ = compute(policy, reference, arch, batch)

    worst = []
    def cmp(path, g, w):
        if isinstance(w, dict):
            for k in w:
                if k not in g:
                    worst.append((math.inf, f"{path}/{k} missing"))
                else:
                    cmp(f"{path}/{k}", g[k], w[k])
        elif isinstance(w, list):
            for i, (x, y) in enumerate(zip(g, w)):
                cmp(f"{path}[{i}]", x, y)
        else:
            worst.append((abs(g - w) / max(1, abs(w)), path))
    cmp("", got, want)
    worst.sort(reverse=True)
    print(f"{folder}: worst expected.json differences:")
    for e, p in worst[:5]:
        print(f"  {e:.3e}  {p}")
    st = load_file(os.path.join(folder, "expected.safetensors"))
    tw = []
    for k, w in st.items():
        if k not in tensors:
            tw.append((math.inf, f"{k} not computed"))
            continue
        g = tensors[k].double()
        tw.append(((g - w.double()).abs().max().item() / max(w.double().abs().max().item(), 1e-30), k))
    for k in tensors:
        if k not in st:
            print(f"  (extra here: {k})")
    tw.sort(reverse=True)
    print("  worst tensors (max abs err / max abs):")
    for e, k in tw[:5]:
        print(f"  {e:.3e}  {k}")


def main() -> None:
    a = parse_args()
    if a.check:
        check(a.check)
    elif a.regen_golden:
        root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "fixtures", "golden")
        for name, argstr in GOLDEN.items():
            generate(parse_args(argstr.split() + ["--out", os.path.normpath(os.path.join(root, name))]))
    else:
        generate(a)


if __name__ == "__main__":
    main()
