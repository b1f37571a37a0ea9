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
      // The library's own TypeErrors ("x.split is not a function") say nothing to a user.
      const why = e instanceof TypeError ? 'a field of its "model" section (vocab, merges) or added_tokens has the wrong type' : (e as Error).message;
      throw new ModelFormatError(`cannot build the tokenizer: ${why}`, fileName);
    }
    const j = tokenizerJson as { decoder?: { type?: string }; pre_tokenizer?: { type?: string; pretokenizers?: { type?: string }[] } };
    this.byteLevel =
      j.decoder?.type === 'ByteLevel' || j.pre_tokenizer?.type === 'ByteLevel' || !!j.pre_tokenizer?.pretokenizers?.some((p) => p.type === 'ByteLevel');
    this.vocabSize = this.hf.get_vocab(true).size;
    if (isPlainGpt2ByteLevel(tokenizerJson)) this.cutPoint = cutBeforeSpaceAfterWord;
    this.fileName = fileName;
    this.json = tokenizerJson;
  }

  private readonly fileName: string;
  private readonly json: unknown;

  /**
   * Checks the tokenizer against the graph it feeds: every id (vocabulary and added tokens) is a
   * token of the graph's logits, and a probe of printable ASCII comes back whole (a tokenizer that
   * lacks some characters would silently drop text).
   */
  checkAgainstGraph(graphVocabSize: number): void {
    const j = this.json as { model?: { vocab?: unknown }; added_tokens?: { id?: unknown; content?: unknown }[] };
    const entries: [unknown, unknown][] = [];
    const vocab = j.model?.vocab;
    // A Unigram vocabulary is a list (ids are positions); BPE and WordPiece map tokens to ids.
    if (vocab && typeof vocab === 'object' && !Array.isArray(vocab)) entries.push(...Object.entries(vocab));
    if (Array.isArray(vocab) && vocab.length > graphVocabSize) entries.push([vocab[graphVocabSize], graphVocabSize]);
    for (const t of Array.isArray(j.added_tokens) ? j.added_tokens : []) entries.push([t.content, t.id]);
    for (const [token, id] of entries) {
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= graphVocabSize) {
        throw new ModelFormatError(
          `token ${JSON.stringify(token)} has id ${JSON.stringify(id)}, outside the graph's vocabulary (0 to ${graphVocabSize - 1})`,
          this.fileName,
        );
      }
    }
    let probe = 'A'; // not a leading space: some decoders drop one
    for (let c = 0x20; c < 0x7f; c++) probe += String.fromCharCode(c);
    const ids = this.hf.encode(probe, { add_special_tokens: false }).ids;
    const back = ids.length ? this.hf.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false }) : '';
    if (back !== probe)
      throw new ModelFormatError(`the tokenizer does not cover printable ASCII: ${JSON.stringify(probe)} comes back as ${JSON.stringify(back)}`, this.fileName);
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
