/**
 * The model behind the server and its prompts as the API sees them: a prompt given as text is
 * tokenized as `lmp score` tokenizes a file (it starts a sequence: the begin-of-sequence token
 * first, where the model has one); a prompt given as token ids is those tokens, with the text they
 * decode to and each token's place in it.
 */
import type { PromptTokens } from '../../core/generation';
import { IncrementalDecoder } from '../../core/incrementalDecode';
import type { LanguageModel, Token } from '../../core/model';
import type { PromptInput } from './completionRequest';

export interface ServedModel {
  /** The name clients give as `model` (the embedded model's or folder's name, or --served-model-name). */
  name: string;
  model: LanguageModel;
  /** Seconds since the epoch when it was loaded (the model card's `created`). */
  created: number;
  /** The model card's max_model_len: a neural model's context window; an n-gram model takes any length. */
  maxModelLen: number;
}

/** max_model_len of a model whose predictions have a bounded Markov context (an n-gram model): no window limits a prompt. */
export const MARKOV_MAX_MODEL_LEN = 1 << 30;

export function maxModelLen(model: LanguageModel): number {
  return model.info.capabilities.context === 'window' ? model.info.contextLength : MARKOV_MAX_MODEL_LEN;
}

/** A prompt's text and tokens, and positions in its text counted as the API counts them. */
export interface PreparedPrompt extends PromptTokens {
  ids: number[];
  /** Code points before each UTF-16 offset of the text (text_offset counts code points, as Python's str). */
  codePointAt(utf16: number): number;
}

export function preparePrompt(model: LanguageModel, input: PromptInput): PreparedPrompt {
  const { text, tokens } = typeof input === 'string' ? { text: input, tokens: model.tokenizer.encode(input, true) } : tokensOfIds(model, input);
  return { text, tokens, ids: tokens.map((t) => t.id), codePointAt: codePointOffsets(text) };
}

/**
 * Token ids as a prompt: the text they decode to, and each token's span of it. When that text
 * tokenizes back to the same ids, the tokenizer's own offsets are taken; otherwise each token
 * spans the text its decoding adds (a token ending inside a character spans nothing, the one
 * holding the last byte spans the character).
 */
function tokensOfIds(model: LanguageModel, ids: readonly number[]): { text: string; tokens: Token[] } {
  const tok = model.tokenizer;
  const atStart = model.bosId !== undefined && ids[0] === model.bosId;
  const decoded = tok.decode(ids, false);
  const again = tok.encode(decoded, atStart);
  if (again.length === ids.length && again.every((t, i) => t.id === ids[i])) return { text: decoded, tokens: again };
  const decoder = new IncrementalDecoder(tok, false);
  let text = '';
  const tokens = ids.map((id) => {
    const piece = decoder.push(id);
    const token: Token = { id, text: piece, start: text.length, length: piece.length };
    text += piece;
    return token;
  });
  return { text, tokens };
}

/** A map from UTF-16 offsets of `text` to code-point offsets. */
function codePointOffsets(text: string): (utf16: number) => number {
  const map = new Int32Array(text.length + 1);
  let cp = 0;
  for (let i = 0; i < text.length; i++) {
    map[i] = cp;
    const c = text.charCodeAt(i);
    // The low half of a pair is not a code point of its own.
    if (!(c >= 0xdc00 && c <= 0xdfff && i > 0 && text.charCodeAt(i - 1) >= 0xd800 && text.charCodeAt(i - 1) <= 0xdbff)) cp++;
  }
  map[text.length] = cp;
  return (utf16) => map[Math.max(0, Math.min(text.length, utf16))];
}
