/**
 * Tokenizers that @huggingface/tokenizers encodes (byte-level BPE as GPT-2, Llama 3, Qwen2 and
 * SmolLM use, and any other layout), with offsets the library does not give: from each token's
 * bytes when they spell the text exactly (byte-level without a normalizer that changed it), else
 * by aligning what the tokens spell with the text (tokenAlignment). Linear either way.
 */
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import type { Token } from '../model';
import { cutBeforeSpaceAfterWord } from '../tokenizers/textCuts';
import { tokenBytes as byteLevelBytes, utf8Bytes, utf8ToUtf16Offsets } from './byteLevel';
import { alignTokens } from './tokenAlignment';

const UTF8 = new TextDecoder('utf-8');

type Json = Record<string, unknown>;

export class LibraryTokenizer {
  readonly vocabSize: number;
  /** The model's unknown token, when it names one that the vocabulary has. */
  readonly unkId: number | undefined;
  /** Only for GPT-2's plain byte-level pre-tokenizer, whose pattern the cut rule was made for. */
  readonly cutPoint?: (text: string) => number;
  private readonly byteLevel: boolean;
  private readonly byteFallback: boolean;
  /** What tokens write for a space ("▁" with Metaspace), when not a space. */
  private readonly replacement: string | undefined;
  private readonly subwordPrefix: string | undefined;
  private readonly wordSuffix: string | undefined;
  private readonly special = new Set<number>();
  private readonly bytesById: (Uint8Array | undefined)[] = [];
  private anchor: { id: number; text: string } | null | undefined;

  constructor(
    private readonly hf: HfTokenizer,
    json: Json,
  ) {
    const j = json as {
      decoder?: { type?: string; replacement?: string; decoders?: { type?: string; pattern?: { String?: string }; content?: string }[] };
      pre_tokenizer?: { type?: string; replacement?: string; pretokenizers?: { type?: string; replacement?: string }[] };
      model?: { byte_fallback?: boolean; continuing_subword_prefix?: string | null; end_of_word_suffix?: string | null; unk_token?: unknown };
    };
    const pres = j.pre_tokenizer ? [j.pre_tokenizer, ...(j.pre_tokenizer.pretokenizers ?? [])] : [];
    this.byteLevel = j.decoder?.type === 'ByteLevel' || pres.some((p) => p.type === 'ByteLevel');
    this.byteFallback = j.model?.byte_fallback === true;
    const metaspace = pres.find((p) => p.type === 'Metaspace');
    const replaceDecoder = j.decoder?.decoders?.find((d) => d.type === 'Replace' && d.content === ' ');
    this.replacement =
      metaspace?.replacement ??
      (metaspace ? '▁' : undefined) ??
      (j.decoder?.type === 'Metaspace' ? (j.decoder.replacement ?? '▁') : undefined) ??
      replaceDecoder?.pattern?.String;
    this.subwordPrefix = j.model?.continuing_subword_prefix ?? undefined;
    this.wordSuffix = j.model?.end_of_word_suffix ?? undefined;
    for (const [id, t] of hf.get_added_tokens_decoder()) if (t.special) this.special.add(id);
    this.vocabSize = hf.get_vocab(true).size;
    this.unkId = typeof j.model?.unk_token === 'string' ? hf.token_to_id(j.model.unk_token) : undefined;
    if (isPlainGpt2ByteLevel(json)) this.cutPoint = cutBeforeSpaceAfterWord;
  }

  /** The library cannot tell a continuation from a text's start: `atStart` is not used. */
  encode(text: string, _atStart: boolean, offset = 0): Token[] {
    const enc = this.hf.encode(text, { add_special_tokens: false });
    const ids = enc.ids;
    const bytes = ids.map((id) => this.tokenBytes(id));
    let starts: ArrayLike<number>;
    let ends: ArrayLike<number>;
    const exact = this.byteLevel ? exactByteOffsets(text, bytes) : undefined;
    if (exact) ({ starts, ends } = exact);
    else {
      // What each token spells: the characters its bytes complete (the rule of byte tokens).
      const decoder = new TextDecoder('utf-8');
      ({ starts, ends } = alignTokens(
        text,
        bytes.map((b) => decoder.decode(b, { stream: true })),
      ));
    }
    return ids.map((id, i) => ({ id, text: text.slice(starts[i], ends[i]), start: offset + starts[i], length: ends[i] - starts[i] }));
  }

  /** decode(prefix + ids) minus decode(prefix) when text precedes: a decoder's start-of-text rules (a dropped leading space) apply only at the start. */
  decode(ids: readonly number[], precededByText: boolean): string {
    // The library rejects an empty list; no tokens (echo only, or end-of-text first) is no text.
    if (ids.length === 0) return '';
    const anchor = precededByText ? this.anchorToken() : undefined;
    if (!anchor) return this.decodeAll(ids);
    const text = this.decodeAll([anchor.id, ...ids]);
    return text.startsWith(anchor.text) ? text.slice(anchor.text.length) : this.decodeAll(ids);
  }

  /** The token's bytes: byte-level tokens through GPT-2's alphabet, byte tokens (<0x0A>) as their byte, a space for "▁". */
  tokenBytes(id: number): Uint8Array {
    let b = this.bytesById[id];
    if (!b) {
      b = this.computeBytes(id);
      this.bytesById[id] = b;
    }
    return b;
  }

  tokenText(id: number): string {
    if (this.hf.id_to_token(id) === undefined) return `<${id}>`;
    if (this.byteLevel || this.special.has(id)) return UTF8.decode(this.tokenBytes(id));
    return this.decode([id], true);
  }

  private computeBytes(id: number): Uint8Array {
    const t = this.hf.id_to_token(id);
    if (t === undefined) return new Uint8Array(0);
    if (this.special.has(id)) return utf8Bytes(t);
    if (this.byteLevel) {
      const b = byteLevelBytes(t);
      if (b) return Uint8Array.from(b);
    }
    const byte = this.byteFallback ? /^<0x([0-9A-F]{2})>$/.exec(t) : null;
    if (byte) return Uint8Array.of(parseInt(byte[1], 16));
    let s = t;
    if (this.subwordPrefix && s.startsWith(this.subwordPrefix)) s = s.slice(this.subwordPrefix.length);
    if (this.wordSuffix && s.endsWith(this.wordSuffix)) s = s.slice(0, -this.wordSuffix.length) + ' ';
    if (this.replacement) s = s.split(this.replacement).join(' ');
    return utf8Bytes(s);
  }

  private decodeAll(ids: readonly number[]): string {
    return this.hf.decode(ids as number[], { skip_special_tokens: true, clean_up_tokenization_spaces: false });
  }

  /** A token that decodes to visible text on its own, put before a continuation to decode it as one; null when none is found. */
  private anchorToken(): { id: number; text: string } | null {
    if (this.anchor === undefined) {
      this.anchor = null;
      const id = this.hf.encode('A', { add_special_tokens: false }).ids.find((i) => !this.special.has(i));
      if (id !== undefined) {
        const text = this.decodeAll([id]);
        if (text) this.anchor = { id, text };
      }
    }
    return this.anchor;
  }
}

/**
 * Offsets from the tokens' bytes when together they are the text's UTF-8 exactly: a token ending
 * inside a character has no width there, the token holding its last byte covers it. Undefined when
 * the bytes differ (a normalizer or an added prefix space changed the text).
 */
function exactByteOffsets(text: string, bytes: readonly Uint8Array[]): { starts: Int32Array; ends: Int32Array } | undefined {
  const whole = utf8Bytes(text);
  let b = 0;
  for (const t of bytes) {
    if (b + t.length > whole.length) return undefined;
    for (let k = 0; k < t.length; k++) if (whole[b + k] !== t[k]) return undefined;
    b += t.length;
  }
  if (b !== whole.length) return undefined;
  const map = utf8ToUtf16Offsets(text);
  const starts = new Int32Array(bytes.length);
  const ends = new Int32Array(bytes.length);
  b = 0;
  bytes.forEach((t, i) => {
    starts[i] = map[b];
    b += t.length;
    ends[i] = map[b];
  });
  return { starts, ends };
}

/** No normalizer, the byte-level pre-tokenizer alone with its GPT-2 pattern, no prefix space, no added token with whitespace. */
function isPlainGpt2ByteLevel(json: object): boolean {
  const j = json as {
    normalizer?: unknown;
    pre_tokenizer?: { type?: string; use_regex?: boolean; add_prefix_space?: boolean };
    added_tokens?: { content?: unknown }[];
  };
  const pre = j.pre_tokenizer;
  return (
    !j.normalizer &&
    pre?.type === 'ByteLevel' &&
    pre.use_regex !== false &&
    pre.add_prefix_space !== true &&
    (j.added_tokens ?? []).every((t) => typeof t.content === 'string' && !/\s/.test(t.content))
  );
}
