/**
 * A Hugging Face `tokenizer.json` (through @huggingface/tokenizers) as the product's Tokenizer,
 * with token offsets into the text (the library has no offsets API: for byte-level tokenizers
 * they are recovered exactly from each token's bytes).
 */
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { ModelFormatError } from '../errors';
import type { Token, Tokenizer } from '../model';
import { cutBeforeSpaceAfterWord } from '../tokenizers/textCuts';
import { tokenBytes, utf8ToUtf16Offsets } from './byteLevel';

const UTF8 = new TextDecoder('utf-8');

export class HuggingFaceTokenizer implements Tokenizer {
  private readonly hf: HfTokenizer;
  private readonly byteLevel: boolean;
  readonly vocabSize: number;
  readonly sentencePerLine = false;
  /** Only for GPT-2's plain byte-level pre-tokenizer, whose pattern the cut rule was made for. */
  readonly cutPoint?: (text: string) => number;

  constructor(
    tokenizerJson: unknown,
    tokenizerConfig: unknown,
    private readonly bosId: number | undefined,
    fileName = 'tokenizer.json',
  ) {
    if (!tokenizerJson || typeof tokenizerJson !== 'object' || !('model' in tokenizerJson)) {
      throw new ModelFormatError('not a Hugging Face tokenizer (no "model" section)', fileName);
    }
    try {
      this.hf = new HfTokenizer(tokenizerJson as object, (tokenizerConfig ?? {}) as object);
    } catch (e) {
      throw new ModelFormatError(`cannot build the tokenizer: ${(e as Error).message}`, fileName);
    }
    const j = tokenizerJson as { decoder?: { type?: string }; pre_tokenizer?: { type?: string; pretokenizers?: { type?: string }[] } };
    this.byteLevel =
      j.decoder?.type === 'ByteLevel' || j.pre_tokenizer?.type === 'ByteLevel' || !!j.pre_tokenizer?.pretokenizers?.some((p) => p.type === 'ByteLevel');
    this.vocabSize = this.hf.get_vocab(true).size;
    if (isPlainGpt2ByteLevel(tokenizerJson)) this.cutPoint = cutBeforeSpaceAfterWord;
  }

  encode(text: string, atStart: boolean, offset = 0): Token[] {
    const enc = this.hf.encode(text, { add_special_tokens: false });
    const out: Token[] = [];
    if (atStart && this.bosId !== undefined) out.push({ id: this.bosId, text: '', start: offset, length: 0 });
    const map = this.byteLevel ? utf8ToUtf16Offsets(text) : undefined;
    let byte = 0;
    let prevEnd = 0;
    for (let i = 0; i < enc.ids.length; i++) {
      const id = enc.ids[i];
      let start: number;
      let end: number;
      const bytes = map ? tokenBytes(enc.tokens[i]) : undefined;
      if (map && bytes) {
        start = map[Math.min(byte, map.length - 1)];
        byte += bytes.length;
        end = map[Math.min(byte, map.length - 1)];
      } else {
        // Fallback: offsets from the decoded prefix lengths.
        start = prevEnd;
        end = Math.min(text.length, this.decode(enc.ids.slice(0, i + 1), false).length);
      }
      prevEnd = end;
      out.push({ id, text: text.slice(start, end), start: offset + start, length: end - start });
    }
    return out;
  }

  decode(ids: readonly number[], _precededByText: boolean): string {
    // The library rejects an empty list; no tokens (echo only, or end-of-text first) is no text.
    if (ids.length === 0) return '';
    return this.hf.decode(ids as number[], { skip_special_tokens: true, clean_up_tokenization_spaces: false });
  }

  tokenBytes(id: number): Uint8Array {
    const t = this.hf.id_to_token(id);
    const bytes = this.byteLevel && t !== undefined ? tokenBytes(t) : undefined;
    return bytes ? Uint8Array.from(bytes) : new TextEncoder().encode(t ?? '');
  }

  tokenText(id: number): string {
    const t = this.hf.id_to_token(id);
    if (t === undefined) return `<${id}>`;
    if (!this.byteLevel) return t;
    const bytes = tokenBytes(t);
    if (!bytes) return t;
    return UTF8.decode(Uint8Array.from(bytes));
  }
}

/** No normalizer, the byte-level pre-tokenizer alone with its GPT-2 pattern, no prefix space, no added token with whitespace. */
function isPlainGpt2ByteLevel(json: object): boolean {
  const j = json as { normalizer?: unknown; pre_tokenizer?: { type?: string; use_regex?: boolean; add_prefix_space?: boolean }; added_tokens?: { content?: unknown }[] };
  const pre = j.pre_tokenizer;
  return (
    !j.normalizer &&
    pre?.type === 'ByteLevel' &&
    pre.use_regex !== false &&
    pre.add_prefix_space !== true &&
    (j.added_tokens ?? []).every((t) => typeof t.content === 'string' && !/\s/.test(t.content))
  );
}
