/**
 * A document's line breaks as the line break a model was trained on: a CRLF or lone CR is handed
 * to the tokenizer as LF, and every token's offsets and text are mapped back onto the document, so a
 * token of "\n" covers the document's "\r\n". Neural models trained on LF text rarely saw "\r": the
 * same page scored 3.44 bits/char with LF and 5.80 with CRLF line breaks.
 */
import type { ContinuedToken, Token, Tokenizer } from '../model';

/** `text` with CRLF and CR as LF, and for each of its positions (and its end) the position in `text`. */
export function normalizeLineBreaks(text: string): { text: string; toOriginal: Int32Array | undefined } {
  if (!text.includes('\r')) return { text, toOriginal: undefined };
  const toOriginal = new Int32Array(text.length + 1);
  let out = '';
  let n = 0;
  let runStart = 0;
  for (let i = 0; i < text.length; i++) {
    toOriginal[n++] = i;
    if (text.charCodeAt(i) !== 13) continue;
    out += text.slice(runStart, i) + '\n';
    if (text.charCodeAt(i + 1) === 10) i++;
    runStart = i + 1;
  }
  out += text.slice(runStart);
  toOriginal[n] = text.length;
  return { text: out, toOriginal: toOriginal.subarray(0, n + 1) };
}

/**
 * Characters of `text` as a model reads them: Unicode code points, a CRLF line break counting as one
 * (the LF the model is given). `afterCarriageReturn`: the text continues one that ended in "\r".
 */
export function characterCount(text: string, afterCarriageReturn = false): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 && (i > 0 ? text.charCodeAt(i - 1) === 13 : afterCarriageReturn)) continue;
    n++;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
  }
  return n;
}

export class LfTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly sentencePerLine: boolean;
  readonly cutPoint?: (text: string) => number;

  constructor(private readonly inner: Tokenizer) {
    this.vocabSize = inner.vocabSize;
    this.sentencePerLine = inner.sentencePerLine;
    if (inner.cutPoint) {
      const cut = inner.cutPoint.bind(inner);
      this.cutPoint = (text) => {
        const n = normalizeLineBreaks(text);
        const p = cut(n.text);
        return n.toOriginal ? n.toOriginal[p]! : p;
      };
    }
    if (inner.tokenBytes) this.tokenBytes = inner.tokenBytes.bind(inner);
  }

  readonly tokenBytes?: (id: number) => Uint8Array;

  encode(text: string, atStart: boolean, offset = 0): Token[] {
    const n = normalizeLineBreaks(text);
    const tokens = this.inner.encode(n.text, atStart, 0);
    const map = n.toOriginal;
    return tokens.map((t) => {
      const start = map ? map[t.start]! : t.start;
      const end = map ? map[t.start + t.length]! : t.start + t.length;
      return { id: t.id, text: map ? text.slice(start, end) : t.text, start: offset + start, length: end - start };
    });
  }

  decode(ids: readonly number[], precededByText: boolean): string {
    return this.inner.decode(ids, precededByText);
  }

  tokenText(id: number): string {
    return this.inner.tokenText(id);
  }

  continuation(previous: readonly number[], id: number, precededByText: boolean): ContinuedToken {
    return this.inner.continuation(previous, id, precededByText);
  }
}
