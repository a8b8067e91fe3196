"""Check that public/demo's tokenizer loads in Python `tokenizers` and transformers' AutoTokenizer and
agrees with the JS side: one id per word or punctuation mark (the Whitespace split \\w+|[^\\w\\s]+, the
same split test/demo-world.test.ts checks in @huggingface/tokenizers), no <unk>, decode == text.

Run: .venv/bin/python scripts/demo/check_tokenizer_hf.py [public/demo]
"""
import json
import re
import sys

from tokenizers import Tokenizer
from transformers import AutoTokenizer

folder = sys.argv[1] if len(sys.argv) > 1 else "public/demo"
raw = Tokenizer.from_file(f"{folder}/tokenizer.json")
auto = AutoTokenizer.from_pretrained(folder)
vocab = json.load(open(f"{folder}/tokenizer.json"))["model"]["vocab"]
assert auto.eos_token == auto.bos_token == auto.pad_token == "<|endoftext|>", (auto.eos_token, auto.bos_token, auto.pad_token)
assert (auto.eos_token_id, auto.unk_token_id) == (0, 1), (auto.eos_token_id, auto.unk_token_id)
assert len(auto) == len(vocab)

texts = open(f"{folder}/corpus.txt").read().rstrip("\n").split("\n")
texts += json.load(open(f"{folder}/prompts-train.json")) + json.load(open(f"{folder}/prompts-heldout.json"))
for t in texts:
    expected = [vocab[w] for w in re.findall(r"\w+|[^\w\s]+", t)]
    ids = raw.encode(t).ids
    assert ids == expected, (t, ids, expected)
    assert auto(t)["input_ids"] == expected, t
    assert raw.decode(ids) == t and auto.decode(ids) == t, (t, auto.decode(ids))
assert auto("Zebra!")["input_ids"] == [1, vocab["!"]]
print(f"ok: {len(texts)} texts round-trip in tokenizers and {type(auto).__name__}, vocab {len(vocab)}")
