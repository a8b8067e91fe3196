// The demo world's tokenizer as a Hugging Face tokenizer.json: word level, one id per word or
// punctuation mark. It loads in @huggingface/tokenizers (a WordLevel model with a vocab object is
// read as its "Legacy" vocabulary model) and in Python `tokenizers` / transformers AutoTokenizer.
// Decoding joins tokens with spaces and the WordPiece decoder's cleanup glues . , ! to the word
// before, which is exactly how the grammar writes texts, so decode(encode(text)) === text.

import { PUNCTUATION } from './grammar';

export const EOS_TOKEN = '<|endoftext|>';
export const UNK_TOKEN = '<unk>';

/** Vocabulary in id order: <|endoftext|> = 0, <unk> = 1, punctuation, then words sorted by code unit. */
export function buildVocab(words: Iterable<string>): string[] {
  const set = new Set<string>();
  for (const w of words) {
    if (!/^[a-z]+$/.test(w)) throw new Error(`The demo vocabulary got "${w}", which is not a lower-case word.`);
    set.add(w);
  }
  const sorted = [...set].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return [EOS_TOKEN, UNK_TOKEN, ...PUNCTUATION, ...sorted];
}

const added = (id: number, content: string) => ({
  id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
});

/** tokenizer.json contents for a vocabulary from buildVocab. */
export function tokenizerJson(vocab: readonly string[]): Record<string, unknown> {
  const ids: Record<string, number> = {};
  vocab.forEach((t, i) => { ids[t] = i; });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [added(ids[EOS_TOKEN]!, EOS_TOKEN), added(ids[UNK_TOKEN]!, UNK_TOKEN)],
    normalizer: { type: 'Lowercase' },
    pre_tokenizer: { type: 'Whitespace' },
    post_processor: null,
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordLevel', vocab: ids, unk_token: UNK_TOKEN },
  };
}

/** tokenizer_config.json contents (GPT-2 style: <|endoftext|> is bos, eos and pad; nothing added). */
export function tokenizerConfigJson(vocab: readonly string[], modelMaxLength: number): Record<string, unknown> {
  const decoder: Record<string, unknown> = {};
  for (const t of [EOS_TOKEN, UNK_TOKEN]) {
    const { id, ...rest } = added(vocab.indexOf(t), t);
    decoder[String(id)] = rest;
  }
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    added_tokens_decoder: decoder,
    bos_token: EOS_TOKEN,
    eos_token: EOS_TOKEN,
    pad_token: EOS_TOKEN,
    unk_token: UNK_TOKEN,
    add_bos_token: false,
    add_eos_token: false,
    clean_up_tokenization_spaces: false,
    model_max_length: modelMaxLength,
  };
}
