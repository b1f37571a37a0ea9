/**
 * SentencePiece-style BPE tokenizers as Hugging Face's tokenizer.json writes them (Llama 2,
 * TinyLlama, Mistral, Gemma): spaces become "▁", a "▁" goes before the text (normalizer Prepend in
 * the older layout, the Metaspace pre-tokenizer's prepend scheme in the newer one, none in Gemma's),
 * and characters outside the vocabulary fall back to byte tokens (<0x0A>). Encoding runs on the
 * original text (the normalization only swaps spaces and adds a prefix), so every token's offsets
 * are exact, in O(n log n); decoding is the tokens' bytes.
 */
import { LmError, ModelFormatError } from '../errors';
import type { Token } from '../model';
import { BpeMerges } from './bpeMerges';
import { utf8Bytes } from './byteLevel';

const UTF8 = new TextDecoder('utf-8');

/** What distinguishes the layouts, read from tokenizer.json. */
export interface SentencePieceLayout {
  /** The character that stands for a space in tokens ("▁"). */
  replacement: string;
  /**
   * Which sections (the text between added tokens) get a "▁" in front: `prepend` every one (the
   * normalizer Prepend, even before a space), `always` every one not starting with a space,
   * `first` only the text's start when it does not start with a space (Metaspace), `never`.
   */
  prefix: 'prepend' | 'always' | 'first' | 'never';
  /** Metaspace `split`: BPE runs on each word ("▁" and what follows), not on the whole section. */
  split: boolean;
  byteFallback: boolean;
  fuseUnk: boolean;
  ignoreMerges: boolean;
  /** Spaces the decoder drops at the start of a text (Strip, or Metaspace's prefix). */
  stripAtStart: number;
}

interface AddedToken {
  id: number;
  content: string;
  special: boolean;
  lstrip: boolean;
  rstrip: boolean;
}

type Json = Record<string, unknown>;
export const isObject = (x: unknown): x is Json => !!x && typeof x === 'object' && !Array.isArray(x);

/**
 * The layout when `json` is a SentencePiece-style BPE tokenizer this module encodes exactly
 * (normalizer Prepend/Replace of spaces or none, pre-tokenizer Metaspace or none, decoder
 * Metaspace or Replace/ByteFallback/Fuse/Strip); undefined for any other tokenizer.
 */
export function sentencePieceLayout(json: unknown): SentencePieceLayout | undefined {
  if (!isObject(json) || !isObject(json.model)) return undefined;
  const model = json.model;
  if ((model.type ?? 'BPE') !== 'BPE' || !isObject(model.vocab) || !Array.isArray(model.merges)) return undefined;
  if (model.continuing_subword_prefix || model.end_of_word_suffix || (typeof model.dropout === 'number' && model.dropout > 0)) return undefined;

  let replacement = '▁';
  let prefix: SentencePieceLayout['prefix'] = 'never';
  let split = false;
  let replacesSpaces = false;
  // Gemma's Split on " " comes after its normalizer has replaced every space: it never splits.
  const splitOnSpace = (p: Json) => p.type === 'Split' && isObject(p.pattern) && p.pattern.String === ' ' && p.invert !== true;
  const pre = isObject(json.pre_tokenizer) && splitOnSpace(json.pre_tokenizer) ? undefined : json.pre_tokenizer;
  if (pre !== null && pre !== undefined) {
    if (!isObject(pre) || pre.type !== 'Metaspace') return undefined;
    if (typeof pre.replacement === 'string') replacement = pre.replacement;
    const scheme = pre.prepend_scheme ?? (pre.add_prefix_space === false ? 'never' : 'always');
    if (scheme !== 'always' && scheme !== 'first' && scheme !== 'never') return undefined;
    prefix = scheme;
    split = pre.split === true;
    replacesSpaces = true;
  }
  if ([...replacement].length !== 1) return undefined;

  const normalizer = json.normalizer;
  const steps =
    normalizer === null || normalizer === undefined ? [] : isObject(normalizer) && normalizer.type === 'Sequence' ? normalizer.normalizers : [normalizer];
  if (!Array.isArray(steps)) return undefined;
  for (const step of steps) {
    if (!isObject(step)) return undefined;
    if (step.type === 'Replace' && isObject(step.pattern) && step.pattern.String === ' ' && step.content === replacement) replacesSpaces = true;
    else if (step.type === 'Prepend' && step.prepend === replacement && prefix === 'never' && !pre) prefix = 'prepend';
    else return undefined;
  }
  if (!replacesSpaces) return undefined;

  const stripAtStart = decoderStrip(json.decoder, replacement);
  if (stripAtStart === undefined) return undefined;
  return {
    replacement,
    prefix,
    split,
    byteFallback: model.byte_fallback === true,
    fuseUnk: model.fuse_unk === true,
    ignoreMerges: model.ignore_merges === true,
    stripAtStart,
  };
}

/** Leading spaces the decoder strips at a text's start, or undefined for a decoder this module does not reproduce. */
function decoderStrip(decoder: unknown, replacement: string): number | undefined {
  if (!isObject(decoder)) return undefined;
  if (decoder.type === 'Metaspace') {
    if ((decoder.replacement ?? '▁') !== replacement) return undefined;
    const scheme = decoder.prepend_scheme ?? (decoder.add_prefix_space === false ? 'never' : 'always');
    return scheme === 'never' ? 0 : 1;
  }
  if (decoder.type !== 'Sequence' || !Array.isArray(decoder.decoders)) return undefined;
  let strip = 0;
  let replaces = false;
  for (const d of decoder.decoders) {
    if (!isObject(d)) return undefined;
    if (d.type === 'Replace' && isObject(d.pattern) && d.pattern.String === replacement && d.content === ' ') replaces = true;
    else if (d.type === 'Strip' && d.content === ' ' && typeof d.start === 'number' && !d.stop) strip = d.start;
    else if (d.type !== 'ByteFallback' && d.type !== 'Fuse') return undefined;
  }
  return replaces ? strip : undefined;
}

export class SentencePieceBpe {
  readonly vocabSize: number;
  /** Set when cutting before a space that follows a word cannot change the tokens (see cutBeforeSpace). */
  readonly cutPoint?: (text: string) => number;
  private readonly tokens: string[] = [];
  private readonly merges: BpeMerges;
  private readonly replacementId: number;
  /** Bytes whose <0xNN> token a byte-fallback vocabulary lacks: characters needing them become the unknown token. */
  readonly missingByteTokens: number[] = [];
  /** The unknown token: what a character becomes that neither the vocabulary nor byte fallback can spell (out of vocabulary). */
  readonly unkId: number | undefined;
  private readonly byteIds = new Int32Array(256).fill(-1);
  private readonly byteOf: Int16Array;
  private readonly added: AddedToken[];
  private readonly addedByContent = new Map<string, AddedToken>();
  private readonly special: Uint8Array;
  private readonly addedPattern: RegExp | undefined;
  /** Token id of each BMP character (-1: not in the vocabulary, -2: not looked up yet). */
  private readonly charIds = new Int32Array(0x10000).fill(-2);
  private readonly wordCache = new Map<string, Int32Array>();
  private readonly bytesById: (Uint8Array | undefined)[] = [];

  constructor(
    json: Json,
    private readonly layout: SentencePieceLayout,
    fileName: string,
  ) {
    const model = json.model as Json;
    const vocab = new Map<string, number>();
    for (const [token, id] of Object.entries(model.vocab as Json)) {
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
        throw new ModelFormatError(`token ${JSON.stringify(token)} has id ${JSON.stringify(id)}, not a non-negative integer`, fileName);
      }
      vocab.set(token, id);
      this.tokens[id] = token;
    }
    this.added = readAddedTokens(json.added_tokens, fileName);
    for (const t of this.added) {
      this.addedByContent.set(t.content, t);
      if (!vocab.has(t.content)) vocab.set(t.content, t.id);
      this.tokens[t.id] = t.content;
    }
    this.vocabSize = this.tokens.length;
    this.special = new Uint8Array(this.vocabSize);
    for (const t of this.added) if (t.special) this.special[t.id] = 1;
    this.merges = new BpeMerges(vocab, this.vocabSize, model.merges as unknown[], fileName);
    const replacementId = vocab.get(layout.replacement);
    if (replacementId === undefined) throw new ModelFormatError(`the vocabulary has no ${JSON.stringify(layout.replacement)} token for a space`, fileName);
    this.replacementId = replacementId;
    const unk = model.unk_token;
    this.unkId = typeof unk === 'string' ? vocab.get(unk) : undefined;
    this.byteOf = new Int16Array(this.vocabSize).fill(-1);
    if (layout.byteFallback) {
      for (let b = 0; b < 256; b++) {
        const id = vocab.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
        if (id !== undefined) {
          this.byteIds[b] = id;
          this.byteOf[id] = b;
        } else this.missingByteTokens.push(b);
      }
    }
    const contents = this.added
      .map((t) => t.content)
      .filter((c) => c.length > 0)
      .sort((a, b) => b.length - a.length);
    // Leftmost match, the longest at a position: alternatives are tried longest first.
    this.addedPattern = contents.length ? new RegExp(contents.map(escapeRegExp).join('|'), 'g') : undefined;
    if (this.cutsBeforeSpaces()) this.cutPoint = (text) => cutBeforeSpace(text, layout.replacement);
  }

  /** Tokens of `text` with UTF-16 offsets into it (plus `offset`); `atStart`: the text starts a sequence, else it continues one. */
  encode(text: string, atStart: boolean, offset = 0): Token[] {
    const out: Token[] = [];
    const emit = (id: number, start: number, end: number) => out.push({ id, text: text.slice(start, end), start: offset + start, length: end - start });
    let from = 0;
    if (this.addedPattern) {
      this.addedPattern.lastIndex = 0;
      for (let m = this.addedPattern.exec(text); m; m = this.addedPattern.exec(text)) {
        const token = this.addedByContent.get(m[0])!;
        let start = m.index;
        let end = start + m[0].length;
        // lstrip / rstrip: the added token takes the whitespace beside it.
        if (token.lstrip) while (start > from && /\s/.test(text[start - 1])) start--;
        if (token.rstrip) while (end < text.length && /\s/.test(text[end])) end++;
        this.encodeSection(text, from, start, atStart, emit);
        emit(token.id, start, end);
        from = end;
        this.addedPattern.lastIndex = end;
      }
    }
    this.encodeSection(text, from, text.length, atStart, emit);
    return out;
  }

  /** Text of `ids`: their bytes as UTF-8, special tokens left out; at a text's start the decoder's leading spaces are dropped. */
  decode(ids: readonly number[], precededByText: boolean): string {
    let n = 0;
    for (const id of ids) if (!this.special[id]) n += this.tokenBytes(id).length;
    const bytes = new Uint8Array(n);
    n = 0;
    for (const id of ids) {
      if (this.special[id]) continue;
      const b = this.tokenBytes(id);
      bytes.set(b, n);
      n += b.length;
    }
    let skip = 0;
    if (!precededByText) while (skip < this.layout.stripAtStart && bytes[skip] === 0x20) skip++;
    return UTF8.decode(bytes.subarray(skip));
  }

  /** The token's bytes: "▁" as a space, <0xNN> as byte NN, an added token as its text. */
  tokenBytes(id: number): Uint8Array {
    let b = this.bytesById[id];
    if (!b) {
      const byte = id < this.byteOf.length ? this.byteOf[id] : -1;
      const token = this.tokens[id] ?? '';
      b = byte >= 0 ? Uint8Array.of(byte) : utf8Bytes(this.special[id] ? token : token.split(this.layout.replacement).join(' '));
      this.bytesById[id] = b;
    }
    return b;
  }

  /** The token as text: spaces for "▁", a byte token's character (U+FFFD for a byte inside a character). */
  tokenText(id: number): string {
    if (this.tokens[id] === undefined) return `<${id}>`;
    return UTF8.decode(this.tokenBytes(id));
  }

  /** Tokens of text[from, to): a section between added tokens. */
  private encodeSection(text: string, from: number, to: number, atStart: boolean, emit: (id: number, start: number, end: number) => void): void {
    if (from >= to) return;
    const { prefix, split } = this.layout;
    const startsWithSpace = this.isSpace(text.charCodeAt(from));
    const prefixed =
      prefix === 'prepend'
        ? from > 0 || atStart
        : prefix === 'always'
          ? !startsWithSpace && (from > 0 || atStart)
          : prefix === 'first'
            ? !startsWithSpace && from === 0 && atStart
            : false;
    if (!split) {
      this.encodeWord(text, from, to, prefixed, emit);
      return;
    }
    // Metaspace's split: a word is a "▁" and what follows up to the next one.
    let wordStart = from;
    for (let i = from + 1; i < to; i++) {
      if (this.isSpace(text.charCodeAt(i))) {
        this.encodeWord(text, wordStart, i, prefixed && wordStart === from, emit);
        wordStart = i;
      }
    }
    this.encodeWord(text, wordStart, to, prefixed && wordStart === from, emit);
  }

  private isSpace(c: number): boolean {
    return c === 0x20 || c === this.layout.replacement.charCodeAt(0);
  }

  /** BPE on text[from, to), with a "▁" of no width in front when `prefixed`. */
  private encodeWord(text: string, from: number, to: number, prefixed: boolean, emit: (id: number, start: number, end: number) => void): void {
    const key = this.layout.split && to - from < 256 ? (prefixed ? '\u0001' : '\u0000') + text.slice(from, to) : undefined;
    let cached = key !== undefined ? this.wordCache.get(key) : undefined;
    if (!cached) {
      cached = this.mergeWord(text, from, to, prefixed);
      if (key !== undefined) {
        if (this.wordCache.size >= WORD_CACHE_SIZE) this.wordCache.clear();
        this.wordCache.set(key, cached);
      }
    }
    // Unknown characters in a row become one unknown token with fuse_unk.
    let unkStart = -1;
    let unkEnd = -1;
    const flushUnk = () => {
      if (unkStart >= 0) emit(this.unkId!, unkStart, unkEnd);
      unkStart = -1;
    };
    for (let k = 0; k < cached.length; k += 3) {
      const id = cached[k];
      const start = from + cached[k + 1];
      const end = from + cached[k + 2];
      if (id >= 0 || this.fallBack(text, start, end, emit)) {
        flushUnk();
        if (id >= 0) emit(id, start, end);
      } else if (this.layout.fuseUnk && unkStart >= 0 && unkEnd === start) {
        unkEnd = end;
      } else {
        flushUnk();
        unkStart = start;
        unkEnd = end;
      }
    }
    flushUnk();
  }

  /** Merged symbols of text[from, to) as [id, start, end] triples relative to `from`; id -1 for a character outside the vocabulary. */
  private mergeWord(text: string, from: number, to: number, prefixed: boolean): Int32Array {
    if (this.layout.ignoreMerges && !prefixed) {
      const whole = this.merges.token(text.slice(from, to));
      if (whole !== undefined) return Int32Array.of(whole, 0, to - from);
    }
    const n = to - from + (prefixed ? 1 : 0);
    const ids = new Int32Array(n);
    const starts = new Int32Array(n + 1);
    let k = 0;
    if (prefixed) {
      ids[0] = this.replacementId;
      starts[0] = 0;
      k = 1;
    }
    for (let i = from; i < to;) {
      const c = text.codePointAt(i)!;
      const width = c > 0xffff ? 2 : 1;
      ids[k] = this.isSpace(c) ? this.replacementId : this.charId(c, text, i, width);
      starts[k++] = i - from;
      i += width;
    }
    starts[k] = to - from;
    const next = this.merges.merge(ids, k);
    const out: number[] = [];
    for (let i = 0; i >= 0 && k > 0; i = next[i]) {
      const end = next[i] >= 0 ? starts[next[i]] : starts[k];
      out.push(ids[i], starts[i], end);
    }
    return Int32Array.from(out);
  }

  private charId(c: number, text: string, i: number, width: number): number {
    if (c < 0x10000) {
      let id = this.charIds[c];
      if (id === -2) id = this.charIds[c] = this.merges.token(text[i]) ?? -1;
      return id;
    }
    return this.merges.token(text.slice(i, i + width)) ?? -1;
  }

  /**
   * A character outside the vocabulary as its UTF-8 bytes' tokens, the last of which covers the
   * character (the others have no width: the rule of byte-level tokens). False when byte fallback
   * is off or a byte token is missing: the character is then an unknown token.
   */
  private fallBack(text: string, start: number, end: number, emit: (id: number, start: number, end: number) => void): boolean {
    const bytes = utf8Bytes(text.slice(start, end));
    if (!this.layout.byteFallback || !bytes.every((b) => this.byteIds[b] >= 0)) {
      if (this.unkId === undefined)
        throw new LmError(`the tokenizer has no token for ${JSON.stringify(text.slice(start, end))}, no byte fallback and no unknown token`);
      return false;
    }
    bytes.forEach((b, k) => emit(this.byteIds[b], start, k + 1 === bytes.length ? end : start));
    return true;
  }

  /**
   * Whether a cut before a space that follows a non-space character keeps the tokens of the whole:
   * true when no token holds a "▁" after another character (so no token spans such a cut, and
   * BPE merges on either side never meet), and no added token holds a space or takes whitespace
   * beside it.
   */
  private cutsBeforeSpaces(): boolean {
    // ignore_merges takes a whole section that is a token as it is: a cut changes the sections.
    if (this.layout.ignoreMerges) return false;
    const r = this.layout.replacement;
    for (const t of this.tokens) if (t !== undefined && spanSpace(t, r)) return false;
    return this.added.every((t) => !/\s/.test(t.content) && !t.content.includes(r) && !t.lstrip && !t.rstrip);
  }
}

/** Longest words kept in the word cache, and how many (it is cleared when full). */
const WORD_CACHE_SIZE = 50_000;

/** True when `token` has the replacement character right after another character. */
function spanSpace(token: string, replacement: string): boolean {
  for (let i = token.indexOf(replacement, 1); i > 0; i = token.indexOf(replacement, i + 1)) if (token[i - 1] !== replacement) return true;
  return false;
}

/** The last p where text[p] is a space and text[p - 1] is neither a space nor the replacement character (0: none). */
function cutBeforeSpace(text: string, replacement: string): number {
  for (let p = text.length - 1; p >= 1; p--) {
    if (text.charCodeAt(p) === 0x20 && text.charCodeAt(p - 1) !== 0x20 && text[p - 1] !== replacement) return p;
  }
  return 0;
}

function readAddedTokens(list: unknown, fileName: string): AddedToken[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new ModelFormatError('added_tokens is not a list', fileName);
  return list.map((t, i) => {
    if (!isObject(t) || typeof t.content !== 'string' || typeof t.id !== 'number' || !Number.isInteger(t.id) || t.id < 0) {
      throw new ModelFormatError(`added_tokens[${i}] needs a string "content" and a non-negative integer "id"`, fileName);
    }
    return { id: t.id, content: t.content, special: t.special === true, lstrip: t.lstrip === true, rstrip: t.rstrip === true };
  });
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
