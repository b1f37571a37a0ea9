/**
 * A GGUF file's tokenizer (its tokenizer.ggml.* metadata) written as the Hugging Face
 * tokenizer.json it stands for, so that the host tokenizes with the product's tokenizers (exact
 * offsets, synchronous) while llama.cpp runs the model in the engine's worker; the tests check the
 * ids against llama.cpp's own tokenizer. Two of llama.cpp's vocabulary types are read:
 * - `llama` (SentencePiece BPE, Llama 2, Mistral …): merges ranked by the merged piece's score, as
 *   SentencePiece and llama.cpp merge; a "▁" before each text, spaces as "▁", byte fallback;
 * - `gpt2` (byte-level BPE: GPT-2, Llama 3, Qwen2, SmolLM …): its merges, with the pre-tokenizer
 *   regex llama.cpp names in tokenizer.ggml.pre.
 * The begin and end tokens follow llama.cpp: BOS when add_bos_token, else (as for the ONNX
 * backend) bos_token_id or the end token conditions the first token.
 */
import { ModelFormatError } from '../errors';
import type { GgufMetadata, GgufValue } from './ggufHeader';

/** tokenizer.ggml.token_type values. */
const NORMAL = 1;
const UNKNOWN = 2;
const CONTROL = 3;
const USER_DEFINED = 4;
const BYTE = 6;

const LLAMA3_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const QWEN2_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/**
 * tokenizer.ggml.pre values whose pre-tokenizer is written here, as llama.cpp splits for them: a
 * Split regex before byte-level mapping (Llama 3, Qwen2), GPT-2's own regex (ByteLevel's
 * use_regex), optionally after splitting off each digit (StarCoder, SmolLM …). Qwen2's NFC is
 * Hugging Face's (llama.cpp does not normalise; the two agree on NFC text). Others (`default`,
 * an older file's missing name, among them) are refused rather than guessed.
 */
const GPT2_WITH_DIGITS = { digits: true };
const PRE_TOKENIZERS: Record<string, { split?: string; digits?: boolean; nfc?: boolean }> = {
  'gpt-2': {},
  'phi-2': {},
  'roberta-bpe': {},
  starcoder: GPT2_WITH_DIGITS,
  refact: GPT2_WITH_DIGITS,
  smollm: GPT2_WITH_DIGITS,
  codeshell: GPT2_WITH_DIGITS,
  'command-r': GPT2_WITH_DIGITS,
  exaone: GPT2_WITH_DIGITS,
  minerva: GPT2_WITH_DIGITS,
  llama3: { split: LLAMA3_SPLIT },
  'llama-v3': { split: LLAMA3_SPLIT },
  'llama-bpe': { split: LLAMA3_SPLIT },
  falcon3: { split: LLAMA3_SPLIT },
  pixtral: { split: LLAMA3_SPLIT },
  qwen2: { split: QWEN2_SPLIT, nfc: true },
  'deepseek-r1-qwen': { split: QWEN2_SPLIT, nfc: true },
};

/** Token texts llama.cpp also ends a generation at when they are control tokens (its end-of-generation list). */
const END_TEXTS = ['<|eot_id|>', '<|im_end|>', '<|end|>', '<end_of_turn>', '<|endoftext|>', '<|eom_id|>', '<EOT>', '_<EOT>', '<|end▁of▁sentence|>'];

export interface GgufTokenizer {
  /** The tokenizer.json it stands for. */
  json: Record<string, unknown>;
  vocabSize: number;
  /** The token a text starts with (see the module's comment); undefined: none. */
  bosId: number | undefined;
  /** Tokens that end a generation, eos_token_id first. */
  eosIds: number[];
  /** `llama (SentencePiece BPE)`, `gpt2 (byte-level BPE, qwen2)` …: for Select Model. */
  kind: string;
}

/** The tokenizer's kind and size from the header alone, without building it (for Select Model's list). */
export function ggufTokenizerSummary(meta: GgufMetadata): { kind: string; vocabSize: number } | undefined {
  const model = meta.string('tokenizer.ggml.model', undefined);
  const tokens = meta.header.metadata.get('tokenizer.ggml.tokens');
  if (!model || !Array.isArray(tokens)) return undefined;
  const kind = model === 'llama' ? 'SentencePiece BPE (llama)' : model === 'gpt2' ? `byte-level BPE (${meta.string('tokenizer.ggml.pre', 'default')})` : model;
  return { kind, vocabSize: tokens.length };
}

const isString = (v: GgufValue): v is string => typeof v === 'string';
const isNumber = (v: GgufValue): v is number => typeof v === 'number';

/** The bytes UTF-8 text can hold (not 0xC0, 0xC1, 0xF5–0xFF): a byte-level vocabulary needs a token for each. */
const UTF8_BYTES = Array.from({ length: 0xf5 }, (_, b) => b).filter((b) => b !== 0xc0 && b !== 0xc1);

/** GPT-2's byte-level alphabet: printable Latin-1 bytes stand for themselves, the others for U+0100 onwards in byte order. */
function byteLevelChar(byte: number): string {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  if (printable(byte)) return String.fromCharCode(byte);
  let n = 0;
  for (let b = 0; b < byte; b++) if (!printable(b)) n++;
  return String.fromCharCode(256 + n);
}

export function ggufTokenizer(meta: GgufMetadata): GgufTokenizer {
  const fail = (message: string): never => {
    throw new ModelFormatError(message, meta.file);
  };
  const model = meta.string('tokenizer.ggml.model', undefined) ?? fail('no tokenizer in the file (tokenizer.ggml.model)');
  const tokens = meta.array('tokenizer.ggml.tokens', isString, 'strings') ?? fail('no tokenizer.ggml.tokens');
  const V = tokens.length;
  const tokenId = (key: string) => {
    const id = meta.optionalInt(key);
    if (id !== undefined && (id < 0 || id >= V)) fail(`${key} ${id} is out of range (0 to ${V - 1})`);
    return id;
  };
  const bos = tokenId('tokenizer.ggml.bos_token_id');
  const eos = tokenId('tokenizer.ggml.eos_token_id');
  const eot = tokenId('tokenizer.ggml.eot_token_id');
  const eom = tokenId('tokenizer.ggml.eom_token_id');
  const unk = tokenId('tokenizer.ggml.unknown_token_id');
  const types = meta.array('tokenizer.ggml.token_type', isNumber, 'integers') ?? typesByText(model, tokens, { unk, control: [bos, eos, eot, eom] });
  if (types.length !== V) fail(`tokenizer.ggml.token_type has ${types.length} entries for ${V} tokens`);
  const addBos = meta.bool('tokenizer.ggml.add_bos_token', model === 'llama');

  // Control and user-defined tokens are matched in the text before the model's own splitting (llama.cpp's "special" tokens).
  const added = [];
  for (let id = 0; id < V; id++) {
    if (types[id] === CONTROL || types[id] === USER_DEFINED || (types[id] === UNKNOWN && model === 'llama')) {
      added.push({ id, content: tokens[id], single_word: false, lstrip: false, rstrip: false, normalized: false, special: types[id] !== USER_DEFINED });
    }
  }
  const vocab: Record<string, number> = {};
  for (let id = 0; id < V; id++) if (!(tokens[id] in vocab)) vocab[tokens[id]] = id;

  let json: Record<string, unknown>;
  let kind: string;
  if (model === 'llama') {
    const scores =
      meta.array('tokenizer.ggml.scores', isNumber, 'numbers') ?? fail('a SentencePiece vocabulary (tokenizer.ggml.model llama) needs tokenizer.ggml.scores');
    if (scores.length !== V) fail(`tokenizer.ggml.scores has ${scores.length} entries for ${V} tokens`);
    json = {
      version: '1.0',
      added_tokens: added,
      normalizer: {
        type: 'Sequence',
        normalizers: [
          ...(meta.bool('tokenizer.ggml.add_space_prefix', true) ? [{ type: 'Prepend', prepend: '▁' }] : []),
          { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
        ],
      },
      pre_tokenizer: null,
      decoder: {
        type: 'Sequence',
        decoders: [
          { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
          { type: 'ByteFallback' },
          { type: 'Fuse' },
          { type: 'Strip', content: ' ', start: 1, stop: 0 },
        ],
      },
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: unk === undefined ? null : tokens[unk],
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: true,
        byte_fallback: types.includes(BYTE),
        ignore_merges: false,
        vocab,
        merges: sentencePieceMerges(tokens, scores, types),
      },
    };
    kind = 'SentencePiece BPE (llama)';
  } else if (model === 'gpt2') {
    const pre = meta.string('tokenizer.ggml.pre', 'default') ?? 'default';
    // Own property only: a name such as "constructor" is no pre-tokenizer.
    const known =
      (Object.hasOwn(PRE_TOKENIZERS, pre) ? PRE_TOKENIZERS[pre] : undefined) ??
      fail(`its tokenizer's pre-tokenizer "${pre}" (tokenizer.ggml.pre) is not one LM Playground reads (${Object.keys(PRE_TOKENIZERS).join(', ')})`);
    const merges =
      meta.array('tokenizer.ggml.merges', isString, 'strings') ?? fail('a byte-level BPE vocabulary (tokenizer.ggml.model gpt2) needs tokenizer.ggml.merges');
    // Without a byte's token, text holding it would lose it silently (hostile G6: "\nb\n" scored as "b").
    const missing = UTF8_BYTES.filter((b) => !(byteLevelChar(b) in vocab));
    if (missing.length) {
      const shown = missing.slice(0, 8).map((b) => `0x${b.toString(16).toUpperCase().padStart(2, '0')}`);
      fail(
        `its byte-level vocabulary has no token for the byte${missing.length > 1 ? 's' : ''} ${shown.join(', ')}${missing.length > 8 ? ` and ${missing.length - 8} more` : ''}: text holding ${missing.length > 1 ? 'them' : 'it'} could not be scored`,
      );
    }
    json = {
      version: '1.0',
      added_tokens: added,
      normalizer: known.nfc ? { type: 'NFC' } : null,
      pre_tokenizer: known.split
        ? {
            type: 'Sequence',
            pretokenizers: [
              { type: 'Split', pattern: { Regex: known.split }, behavior: 'Isolated', invert: false },
              { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
            ],
          }
        : known.digits
          ? {
              type: 'Sequence',
              pretokenizers: [
                { type: 'Digits', individual_digits: true },
                { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
              ],
            }
          : { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      post_processor: null,
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: false,
        byte_fallback: false,
        ignore_merges: false,
        vocab,
        merges,
      },
    };
    kind = `byte-level BPE (${pre})`;
  } else {
    return fail(`its tokenizer type "${model}" (tokenizer.ggml.model) is not one LM Playground reads (llama, gpt2)`);
  }

  const ends = new Set<number>();
  for (const id of [eos, eot, eom]) if (id !== undefined) ends.add(id);
  for (let id = 0; id < V; id++) if (types[id] === CONTROL && END_TEXTS.includes(tokens[id])) ends.add(id);
  const eosIds = [...ends];
  const bosId = addBos ? bos : (bos ?? eosIds[0]);
  return { json, vocabSize: V, bosId, eosIds, kind };
}

/**
 * Token types for a file without tokenizer.ggml.token_type (older converters, hand-made files), as
 * llama.cpp reads such a file: a SentencePiece vocabulary still falls back to its <0xNN> tokens
 * for bytes (llama.cpp looks them up by their text), the unknown token is the unknown one, and the
 * begin and end tokens are control tokens. Otherwise every token is a normal one.
 */
function typesByText(model: string, tokens: readonly string[], ids: { unk?: number; control: (number | undefined)[] }): number[] {
  return tokens.map((t, id) => {
    if (ids.control.includes(id)) return CONTROL;
    if (id === ids.unk) return UNKNOWN;
    return model === 'llama' && /^<0x[0-9A-F]{2}>$/.test(t) ? BYTE : NORMAL;
  });
}

/**
 * BPE merges of a SentencePiece vocabulary: every split of a piece into two pieces, ranked by the
 * piece's score (SentencePiece merges the pair whose result scores highest), as Hugging Face's
 * converter writes them. Control, unknown and byte tokens take part in no merge.
 */
function sentencePieceMerges(tokens: readonly string[], scores: readonly number[], types: readonly number[]): string[][] {
  const ids = new Map<string, number>();
  tokens.forEach((t, id) => {
    if (types[id] === NORMAL || types[id] === USER_DEFINED) ids.set(t, id);
  });
  const merges: { left: string; right: string; score: number; id: number }[] = [];
  for (const [piece, id] of ids) {
    const chars = [...piece];
    for (let k = 1; k < chars.length; k++) {
      const left = chars.slice(0, k).join('');
      const right = chars.slice(k).join('');
      if (ids.has(left) && ids.has(right)) merges.push({ left, right, score: scores[id], id });
    }
  }
  // Highest score first; equal scores by the piece's id, then by the left part's id (Hugging Face's order).
  merges.sort((a, b) => b.score - a.score || a.id - b.id || ids.get(a.left)! - ids.get(b.left)!);
  return merges.map((m) => [m.left, m.right]);
}
