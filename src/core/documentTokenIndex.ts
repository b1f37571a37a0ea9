/**
 * Where a text window far into a document sits among the document's tokens, so that a hover, a
 * selection's heat-map and the status bar's number for a selection can give the window's tokens
 * the windows the whole document is scored in (`windowStartFor`, counted from the document's
 * start), as the document's heat-map and `lmp score` give them (drive21 H1: four numbers for one
 * token far into a novel).
 *
 * The document is tokenized in pieces of about `pieceChars`. A piece ends where a token of its own
 * encoding starts and where encoding afresh from there gives the same tokens (a place the
 * tokenizer splits as it splits the whole text: not inside an indented line's whitespace, which a
 * byte-level BPE joins to the line break before it); so the pieces' counts add up to the whole
 * text's. A piece is kept while its text (and what was read past it) is unchanged: after an edit
 * only the pieces from the edit on are tokenized again, and between pieces the thread is given back.
 */
import { throwIfCancelled, type CancelSignal } from './errors';
import type { Token, Tokenizer } from './model';
import type { ServerModel } from './remote/serverModel';

/** Characters a piece holds at least. */
const PIECE_CHARS = 16_384;
/** Characters read past a piece's end: a token near the end sees what follows it, and the next piece's start is checked on them. */
const LOOKAHEAD = 512;
/** Tokens that must agree, at a piece's end and at a window's start. */
const AGREE = 8;
/** Past this offset the document is not tokenized: it would take seconds. */
export const MAX_COUNTED_CHARS = 2_000_000;

interface Piece {
  start: number;
  /** Tokens of the document before `start`. */
  before: number;
  /** Its tokens: those starting before `end`, where the next piece starts. */
  count: number;
  end: number;
  /** The text from `start` that decided its tokens: the piece and what was read past it. */
  text: string;
}

/**
 * Where a window sits among the document's tokens (DocumentTokenIndex.place): the document's
 * tokens from the window's start on are `head` (the document's own, where the window's encoding
 * splits its text otherwise), then the window's tokens from `skip` on; the first of them is the
 * document's token `before`.
 */
export interface WindowPlacement {
  head: Token[];
  skip: number;
  before: number;
}

/** A place where the document's tokenization can start afresh: its offset and the tokens before it. */
interface SyncPoint {
  start: number;
  before: number;
}

type Read = (a: number, b: number) => string;

/** The tokens of `text`, which starts at document offset `start` (a sequence's start when 0), at their document offsets. */
export type Encoder = (text: string, start: number, signal?: CancelSignal) => Token[] | Promise<Token[]>;

/** A local tokenizer as an Encoder. */
export function tokenizerEncoder(tokenizer: Pick<Tokenizer, 'encode'>): Encoder {
  return (text, start) => tokenizer.encode(text, start === 0, start);
}

/** A server's tokenizer (its /tokenize) as an Encoder: its begin-of-text token at the document's start, then its tokens placed on the text. */
export function serverEncoder(server: ServerModel): Encoder {
  return async (text, start, signal) => {
    const r = await server.tokenizeText?.(text, { atStart: start === 0, from: 0, offset: start, ...(signal ? { signal } : {}) });
    if (!r) throw new Error(`${server.endpoint} did not place its tokens on the text`);
    return [...r.ids.slice(0, r.firstPlaced).map((id) => ({ id, text: '', start, length: 0 })), ...r.placed];
  };
}

export class DocumentTokenIndex {
  /** Pieces in order, each starting where the one before ends, the first at 0. */
  private pieces: Piece[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  /** The last window placed: the text from its sync point, its first tokens and where they are. */
  private last: { start: number; text: string; first: readonly Token[]; result: WindowPlacement | undefined } | undefined;

  constructor(
    private readonly encode: Encoder,
    private readonly maxChars = MAX_COUNTED_CHARS,
    private readonly pieceChars = PIECE_CHARS,
  ) {}

  /**
   * Where a window of the document read by `read(a, b)`, starting at `windowStart`, with the
   * tokens `windowTokens`, sits among the document's tokens: from `windowTokens[skip]` on they are
   * the document's. Before it they can differ (a token across the window's start is split
   * otherwise; a run of line breaks is grouped from another start, hostile28 H2): the document's
   * own tokens there are `head`. Undefined past `maxChars`, or where the two never agree.
   */
  place(read: Read, windowStart: number, windowTokens: readonly Token[], signal?: CancelSignal): Promise<WindowPlacement | undefined> {
    // One at a time: a hover and the warm-up may ask together, and both extend the pieces.
    const done = this.queue.then(() => this.placeNow(read, windowStart, windowTokens, signal));
    this.queue = done.catch(() => undefined);
    return done;
  }

  private async placeNow(read: Read, windowStart: number, windowTokens: readonly Token[], signal?: CancelSignal): Promise<WindowPlacement | undefined> {
    if (windowStart === 0) return { head: [], skip: 0, before: 0 };
    if (windowStart > this.maxChars) return undefined;
    const sync = await this.syncBefore(read, windowStart, signal);
    // The window's first tokens, then (where they never agree, as inside a long run of line breaks) all of them.
    for (const first of [windowTokens.slice(0, 4 * AGREE), windowTokens]) {
      // The document's tokens from the sync point to a little past them.
      const last = first[first.length - 1];
      const to = Math.max(windowStart, last ? last.start + last.length : windowStart) + LOOKAHEAD;
      const text = read(sync.start, to);
      // Hovers along the lines after one window's start ask the same again.
      const m = this.last;
      if (
        m &&
        m.start === sync.start &&
        m.text === text &&
        m.first.length === first.length &&
        first.every((t, k) => m.first[k].id === t.id && m.first[k].start === t.start)
      )
        return m.result;
      const result = this.align(await this.encode(text, sync.start, signal), sync.before, windowStart, first, windowTokens);
      if (result || first.length === windowTokens.length) {
        this.last = { start: sync.start, text, first, result };
        return result;
      }
    }
    return undefined;
  }

  /** Where `windowTokens` agree with the document's tokens `doc` (whose first is the document's token `before`), looking among `first`. */
  private align(
    doc: readonly Token[],
    before: number,
    windowStart: number,
    first: readonly Token[],
    windowTokens: readonly Token[],
  ): WindowPlacement | undefined {
    const byStart = new Map<number, number>();
    doc.forEach((t, i) => {
      if (!byStart.has(t.start)) byStart.set(t.start, i);
    });
    for (let k = 0; k < first.length; k++) {
      const i = byStart.get(first[k].start);
      if (i === undefined) continue;
      let n = 0;
      while (
        n < AGREE &&
        k + n < windowTokens.length &&
        i + n < doc.length &&
        doc[i + n].id === windowTokens[k + n].id &&
        doc[i + n].start === windowTokens[k + n].start
      )
        n++;
      if (n === AGREE || (n > 0 && k + n === windowTokens.length)) {
        let h = i;
        while (h > 0 && doc[h - 1].start >= windowStart) h--;
        return { head: doc.slice(h, i), skip: k, before: before + h };
      }
    }
    return undefined;
  }

  /** The last place at or before `offset` where the document's tokenization can start afresh; the pieces before it checked and made where missing. */
  private async syncBefore(read: Read, offset: number, signal?: CancelSignal): Promise<SyncPoint> {
    let at: SyncPoint = { start: 0, before: 0 };
    for (let i = 0; i < this.pieces.length; i++) {
      const p = this.pieces[i];
      // An edit in a piece, or in what was read past it: it and those after it go.
      if (read(p.start, p.start + p.text.length) !== p.text) {
        this.pieces.length = i;
        break;
      }
      if (p.end > offset) return at;
      at = { start: p.end, before: p.before + p.count };
    }
    for (;;) {
      const p = await this.piece(read, at, offset, signal);
      if (!p) return at;
      this.pieces.push(p);
      at = { start: p.end, before: p.before + p.count };
      // The thread is given back between pieces: a long document takes a second or two.
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
      throwIfCancelled(signal);
    }
  }

  /** The piece from `at`: at least `pieceChars` long, ending where encoding afresh agrees; undefined when it would end past `offset`. */
  private async piece(read: Read, at: SyncPoint, offset: number, signal?: CancelSignal): Promise<Piece | undefined> {
    for (let size = this.pieceChars; at.start + size <= offset; size *= 2) {
      const text = read(at.start, at.start + size + LOOKAHEAD);
      const tokens = await this.encode(text, at.start, signal);
      const limit = at.start + text.length - LOOKAHEAD / 2;
      let i = tokens.findIndex((t) => t.start >= at.start + size);
      for (let tries = 0; i > 0 && tries < 16; i++, tries++) {
        const end = tokens[i].start;
        const ahead = tokens.slice(i, i + AGREE);
        if (end > offset || ahead.length < AGREE || ahead[AGREE - 1].start + ahead[AGREE - 1].length > limit) break;
        const fresh = (await this.encode(read(end, limit), end, signal)).slice(0, AGREE);
        if (fresh.every((t, k) => t.id === ahead[k].id && t.start === ahead[k].start))
          return { start: at.start, before: at.before, count: i, end, text: read(at.start, limit) };
      }
    }
    return undefined;
  }
}
