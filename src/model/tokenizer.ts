// Tokenizer loading: tokenizer.json through @huggingface/tokenizers (no hand-written BPE), special tokens
// and the chat template from tokenizer_config.json, templates rendered with @huggingface/jinja the way
// transformers' apply_chat_template renders them (messages, add_generation_prompt, the special-token
// strings; trim_blocks/lstrip_blocks are on in both).
import { Tokenizer } from '@huggingface/tokenizers';
import { compileChatTemplate, type CompiledTemplate } from './chat-template';

/** `code` (tokenizer.<case>) and `params`: the page says it in its language (src/ui/i18n/errors.ts). */
export class TokenizerError extends Error {
  override name = 'TokenizerError';
  constructor(
    message: string,
    readonly code?: string,
    readonly params?: Record<string, string | number>,
  ) {
    super(message);
  }
}

export interface ChatMessage {
  role: string;
  content: string;
  [key: string]: unknown;
}

export interface TokenizerFiles {
  /** Contents of tokenizer.json. */
  tokenizerJson: string;
  /** Contents of tokenizer_config.json, when the model has one. */
  tokenizerConfig?: string;
  /** Contents of chat_template.jinja (newer repos keep the template there, not in tokenizer_config.json). */
  chatTemplate?: string;
}

export interface ChatTemplateOptions {
  addGenerationPrompt?: boolean;
  tools?: unknown[];
  /** Extra template variables (transformers' chat_template_kwargs, e.g. enable_thinking). */
  extra?: Record<string, unknown>;
}

export interface LoadedTokenizer {
  /** Token ids of `text`. addSpecialTokens (default true) runs the post-processor (e.g. Llama's BOS), as `tokenizer(text)` does in transformers. */
  encode(text: string, addSpecialTokens?: boolean): number[];
  decode(ids: ArrayLike<number>, skipSpecialTokens?: boolean): string;
  /** Special-token strings and ids; null where the tokenizer has none. */
  bosToken: string | null;
  eosToken: string | null;
  unkToken: string | null;
  /** The pad token named by the config (null for GPT-2). */
  padToken: string | null;
  bosId: number | null;
  eosId: number | null;
  unkId: number | null;
  /** Pad id for batches: the config's pad token, else the EOS token (TRL's DPOTrainer choice), else 0. */
  padId: number;
  /** Vocabulary size including added tokens (max id + 1). */
  vocabSize: number;
  /** The chat template text, or null when the model has none. */
  chatTemplate: string | null;
  /** Renders a conversation with the chat template (a string, not tokens). Throws TokenizerError without a template. */
  applyChatTemplate(messages: ChatMessage[], opts?: ChatTemplateOptions): string;
  /** Template, then encode without adding special tokens (what transformers' apply_chat_template(tokenize=True) does). */
  encodeChat(messages: ChatMessage[], opts?: ChatTemplateOptions): number[];
  tokenToId(token: string): number | null;
}

/** A special token in tokenizer_config.json is a string or an AddedToken dict {content, ...}. */
function tokenString(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return null;
}

function parseJson(text: string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new TokenizerError(`${what} is not valid JSON (${(e as Error).message}).`, 'tokenizer.not-json', { file: what, detail: (e as Error).message });
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new TokenizerError(`${what} is not a JSON object.`, 'tokenizer.not-object', { file: what });
  return v as Record<string, unknown>;
}

/** chat_template may be a string, or a list of {name, template} where "default" is the one used. */
function pickTemplate(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    const named = v as { name?: string; template?: string }[];
    const d = named.find((t) => t.name === 'default') ?? named[0];
    return typeof d?.template === 'string' ? d.template : null;
  }
  return null;
}

/**
 * Loads a Hugging Face tokenizer from its files. Special tokens come from tokenizer_config.json; when it
 * does not name an EOS token and the vocabulary has "<|endoftext|>" (GPT-2 family, whose defaults live in
 * transformers' GPT2Tokenizer class rather than in the files), that token is BOS, EOS and UNK.
 */
export function loadTokenizer(files: TokenizerFiles): LoadedTokenizer {
  const json = parseJson(files.tokenizerJson, 'tokenizer.json');
  if (!json.model || typeof json.model !== 'object') {
    throw new TokenizerError('tokenizer.json has no "model" section, so it is not a Hugging Face tokenizers file.', 'tokenizer.no-model');
  }
  const config = files.tokenizerConfig ? parseJson(files.tokenizerConfig, 'tokenizer_config.json') : {};
  // tokenizers.js validates these keys; older files omit some of them.
  for (const k of ['normalizer', 'pre_tokenizer', 'post_processor', 'decoder']) if (!(k in json)) json[k] = null;
  if (!Array.isArray(json.added_tokens)) json.added_tokens = [];
  let tk: Tokenizer;
  try {
    tk = new Tokenizer(json, config);
  } catch (e) {
    throw new TokenizerError(`tokenizer.json could not be loaded (${(e as Error).message}).`, 'tokenizer.load', { detail: (e as Error).message });
  }

  const idOf = (t: string | null): number | null => (t === null ? null : (tk.token_to_id(t) ?? null));
  let bosToken = tokenString(config.bos_token);
  let eosToken = tokenString(config.eos_token);
  let unkToken = tokenString(config.unk_token);
  const padToken = tokenString(config.pad_token);
  if (eosToken === null && tk.token_to_id('<|endoftext|>') !== undefined) {
    eosToken = '<|endoftext|>';
    bosToken ??= eosToken;
    unkToken ??= eosToken;
  }
  const bosId = idOf(bosToken);
  const eosId = idOf(eosToken);
  const unkId = idOf(unkToken);
  const padIdRaw = idOf(padToken);
  for (const [name, tok, id] of [
    ['eos_token', eosToken, eosId],
    ['bos_token', bosToken, bosId],
    ['pad_token', padToken, padIdRaw],
  ] as const) {
    if (tok !== null && id === null) throw new TokenizerError(`tokenizer_config.json names ${name} "${tok}", which is not in the vocabulary.`, 'tokenizer.unknown-token', { name, token: tok });
  }
  const vocab = tk.get_vocab(true);
  let maxId = -1;
  for (const id of vocab.values()) if (id > maxId) maxId = id;

  const chatTemplate = files.chatTemplate ?? pickTemplate(config.chat_template);
  let compiled: CompiledTemplate | null = null;
  // transformers passes special_tokens_map to the template: only the tokens that are set.
  const specialVars: Record<string, string> = {};
  if (bosToken !== null) specialVars.bos_token = bosToken;
  if (eosToken !== null) specialVars.eos_token = eosToken;
  if (unkToken !== null) specialVars.unk_token = unkToken;
  if (padToken !== null) specialVars.pad_token = padToken;
  const cleanUp = config.clean_up_tokenization_spaces === true;

  const applyChatTemplate = (messages: ChatMessage[], opts: ChatTemplateOptions = {}): string => {
    if (chatTemplate === null) {
      throw new TokenizerError('This tokenizer has no chat template, so conversational data cannot be formatted; use a chat model or a standard (text) dataset.', 'tokenizer.no-chat-template');
    }
    if (!compiled) {
      try {
        compiled = compileChatTemplate(chatTemplate);
      } catch (e) {
        throw new TokenizerError(`The chat template could not be parsed (${(e as Error).message}).`, 'tokenizer.template-parse', { detail: (e as Error).message });
      }
    }
    return compiled.render({
      ...specialVars,
      ...(opts.extra ?? {}),
      messages,
      add_generation_prompt: opts.addGenerationPrompt ?? false,
      ...(opts.tools ? { tools: opts.tools } : {}),
    });
  };

  const encode = (text: string, addSpecialTokens = true): number[] => tk.encode(text, { add_special_tokens: addSpecialTokens }).ids;

  return {
    encode,
    decode: (ids, skipSpecialTokens = false) =>
      tk.decode(Array.from(ids), { skip_special_tokens: skipSpecialTokens, clean_up_tokenization_spaces: cleanUp }),
    bosToken,
    eosToken,
    unkToken,
    padToken,
    bosId,
    eosId,
    unkId,
    padId: padIdRaw ?? eosId ?? 0,
    vocabSize: maxId + 1,
    chatTemplate,
    applyChatTemplate,
    encodeChat: (messages, opts) => encode(applyChatTemplate(messages, opts), false),
    tokenToId: (t) => tk.token_to_id(t) ?? null,
  };
}
