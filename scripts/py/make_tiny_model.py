#!/usr/bin/env python3
"""Random-init tiny Hugging Face model folders for the parity tests (local files only).

  .venv/bin/python scripts/py/make_tiny_model.py --arch gpt2  --out DIR [--seed 0]
  .venv/bin/python scripts/py/make_tiny_model.py --arch llama --out DIR
  .venv/bin/python scripts/py/make_tiny_model.py --arch qwen3 --out DIR

gpt2:  GPT-2 layout (n_embd 32, 2 layers, 4 heads, tied embeddings) with the real GPT-2 tokenizer
       (../shared/data/gpt2-tokenizer/tokenizer.json, vocab 50257) plus a tokenizer_config.json that
       names <|endoftext|> as bos/eos/unk, as the hub's gpt2 does.
llama: Llama (hidden 32, 2 layers, 4 heads / 2 KV heads, SwiGLU 64, untied lm_head) and
qwen3: Qwen3 (same, plus q/k norms and head_dim 16 != hidden/heads, tied embeddings) with a small
       byte-level BPE of their own (vocab 512) trained with `tokenizers` on HH-RLHF text, and a ChatML
       chat template, so conversational data tokenizes too.

Dropout is 0 everywhere; weights are drawn by the model's own initializer (initializer_range 0.1 so
the log-probs are not all uniform) under torch.manual_seed(seed) and saved with save_pretrained
(float32 safetensors, transformers' own names; --max-shard-size shards them with an index).
"""
import argparse
import gzip
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch  # noqa: E402
from transformers import AutoModelForCausalLM, GPT2Config, LlamaConfig, Qwen3Config  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def shared_dir():
    for c in (os.environ.get("DPO_SHARED_DIR"), os.path.join(ROOT, "..", "shared"), "/work/shared"):
        if c and os.path.isdir(os.path.join(c, "data")):
            return c
    sys.exit("shared data not found (../shared or /work/shared); set DPO_SHARED_DIR")


def hh_texts(limit=2000):
    path = os.path.join(shared_dir(), "data", "hh-rlhf-harmless-base-test.jsonl.gz")
    out = []
    with gzip.open(path, "rt", encoding="utf8") as f:
        for i, line in enumerate(f):
            if i >= limit:
                break
            row = json.loads(line)
            out += [row["chosen"], row["rejected"]]
    return out


def write_gpt2_tokenizer(out):
    src = os.path.join(shared_dir(), "data", "gpt2-tokenizer", "tokenizer.json")
    with open(src, "rb") as f, open(os.path.join(out, "tokenizer.json"), "wb") as g:
        g.write(f.read())
    cfg = {
        "tokenizer_class": "GPT2Tokenizer",
        "bos_token": "<|endoftext|>",
        "eos_token": "<|endoftext|>",
        "unk_token": "<|endoftext|>",
        "add_prefix_space": False,
        "model_max_length": 1024,
        "clean_up_tokenization_spaces": False,
    }
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump(cfg, f, indent=1)


def write_small_bpe(out, vocab_size=512):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    tok.train_from_iterator(hh_texts(), trainer=trainer)
    tok.save(os.path.join(out, "tokenizer.json"))
    cfg = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": None,
        "eos_token": "<|im_end|>",
        "pad_token": "<|endoftext|>",
        "unk_token": None,
        "add_bos_token": False,
        "add_eos_token": False,
        "model_max_length": 4096,
        "clean_up_tokenization_spaces": False,
        "chat_template": CHATML,
    }
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    return tok.get_vocab_size(), tok.token_to_id("<|endoftext|>"), tok.token_to_id("<|im_end|>")


def make(arch, out, seed, max_shard_size=None):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(seed)
    if arch == "gpt2":
        write_gpt2_tokenizer(out)
        cfg = GPT2Config(
            vocab_size=50257, n_positions=128, n_embd=32, n_layer=2, n_head=4, n_inner=None,
            activation_function="gelu_new", resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
            layer_norm_epsilon=1e-5, initializer_range=0.1, bos_token_id=50256, eos_token_id=50256,
            tie_word_embeddings=True,
        )
    else:
        vocab, pad_id, eos_id = write_small_bpe(out)
        common = dict(
            vocab_size=vocab, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=256, rms_norm_eps=1e-6, rope_theta=10000.0,
            attention_dropout=0.0, initializer_range=0.1, pad_token_id=pad_id, eos_token_id=eos_id, bos_token_id=None,
        )
        if arch == "llama":
            cfg = LlamaConfig(**common, tie_word_embeddings=False, attention_bias=False, mlp_bias=False, hidden_act="silu")
        elif arch == "qwen3":
            cfg = Qwen3Config(**common, head_dim=16, tie_word_embeddings=True, attention_bias=False, use_sliding_window=False)
        else:
            raise SystemExit(f"unknown --arch {arch}; use gpt2, llama or qwen3")
    model = AutoModelForCausalLM.from_config(cfg, attn_implementation="eager", dtype=torch.float32)
    # max_shard_size: several model-0000x-of-0000n.safetensors files and an index, as big checkpoints have
    model.save_pretrained(out, **({"max_shard_size": max_shard_size} if max_shard_size else {}))
    n = sum(p.numel() for p in model.parameters())
    print(f"{out}: {arch} {n} parameters", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", required=True, choices=["gpt2", "llama", "qwen3"])
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-shard-size", help='e.g. "40KB": shard the weights with an index file')
    a = ap.parse_args()
    make(a.arch, a.out, a.seed, a.max_shard_size)


if __name__ == "__main__":
    main()
