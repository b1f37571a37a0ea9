/**
 * A token-level model's distribution over the next *character*, for the model's side of the
 * Shannon game. The prefix is tokenized as the model would; its last token may be a partial word
 * ("the ca" ends in " ca"), so the search starts before that token with the remaining text r and
 * sums, over the ways the model can continue, the probability of every token sequence that spells
 * r followed by a character: tokens that extend r give the character after r directly, tokens that
 * are a prefix of r lead one step further (best first, within a budget of model calls). With r
 * empty this is the plain rule: next-token probabilities summed by their first character.
 * The mass of an unknown-word token is spread evenly over the alphabet (it stands for any text);
 * end-of-text and other special tokens are left out and the rest renormalised.
 * For a byte-level tokenizer the spelling is matched on UTF-8 bytes, so that a character split
 * between tokens ("é" as <0xC3> then <0xA9>) is followed through the tokens that complete it.
 */
import { contextWindow } from '../contextWindow';
import type { CancelSignal } from '../errors';
import { endOfSequenceIds, type LanguageModel } from '../model';
import type { Alphabet } from './alphabet';
import { sequenceLength } from '../tokenBytes';

export interface NextCharOptions {
  /** Most model calls for one distribution (the first is always made). */
  maxModelCalls?: number;
  /** Paths less likely than this are not followed. */
  minPathProbability?: number;
}

/** A string of bytes, one char code (0–255) per byte: byte-level spellings compare as strings. */
function byteString(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += String.fromCharCode(b);
  return out;
}

const utf8 = new TextEncoder();

/** A path of the search: tokens so far, what must still be spelled, and the bytes of a started character. */
interface Path {
  context: number[];
  rest: string;
  /** Byte spellings only: the first bytes of the next character, spelled by the last token. */
  started: string;
  weight: number;
}

export class NextCharPredictor {
  /** Spellings are UTF-8 byte strings (the tokenizer has token bytes), else texts. */
  private readonly bytes: boolean;
  /** Each token's spelling as it would appear after the context, or undefined for special tokens. */
  private readonly surfaces: (string | undefined)[];
  /** Token ids sorted by surface, for the range of surfaces that start with a string. */
  private readonly sorted: Int32Array;
  private readonly bySurface = new Map<string, number[]>();
  private readonly symbolIndex = new Map<string, number>();
  private readonly maxCalls: number;
  private readonly minPath: number;
  /** The alphabet's symbols as byte strings (byte spellings) or as they are. */
  private readonly symbolBytes: string[];

  constructor(
    readonly model: LanguageModel,
    readonly alphabet: Alphabet,
    options: NextCharOptions = {},
  ) {
    this.maxCalls = options.maxModelCalls ?? 12;
    this.minPath = options.minPathProbability ?? 1e-7;
    alphabet.symbols.forEach((s, i) => this.symbolIndex.set(s, i));
    const special = new Set<number>(model.unsampleableIds);
    if (model.bosId !== undefined) special.add(model.bosId);
    for (const id of endOfSequenceIds(model)) special.add(id);
    if (model.unkId !== undefined) special.add(model.unkId);
    const wordsSpaceJoined = model.tokenizer.sentencePerLine;
    const tokenBytes = model.tokenizer.tokenBytes?.bind(model.tokenizer);
    this.bytes = tokenBytes !== undefined && !wordsSpaceJoined;
    this.surfaces = new Array(model.vocabSize);
    for (let id = 0; id < model.vocabSize; id++) {
      let s: string | undefined;
      if (id === model.eosId && wordsSpaceJoined) s = '\n';
      else if (!special.has(id)) {
        s = this.bytes ? byteString(tokenBytes!(id)) : model.tokenizer.tokenText(id);
        if (wordsSpaceJoined) s = ' ' + s;
      }
      if (!s) continue;
      this.surfaces[id] = s;
      const same = this.bySurface.get(s);
      if (same) same.push(id);
      else this.bySurface.set(s, [id]);
    }
    const ids = [...this.surfaces.keys()].filter((id) => this.surfaces[id] !== undefined);
    ids.sort((a, b) => (this.surfaces[a]! < this.surfaces[b]! ? -1 : this.surfaces[a]! > this.surfaces[b]! ? 1 : 0));
    this.sorted = Int32Array.from(ids);
    this.symbolBytes = alphabet.symbols.map((c) => (this.bytes ? byteString(utf8.encode(c)) : c));
  }

  /**
   * Probabilities of the alphabet's symbols (in `alphabet.symbols` order) as the next character
   * after `prefix`. `atStart`: the prefix starts the text.
   */
  async distribution(prefix: string, atStart: boolean, signal?: CancelSignal): Promise<Float64Array> {
    const tokenizer = this.model.tokenizer;
    // A bounded window: enough characters for the model's context, cut at a token boundary.
    const maxChars = Math.max(256, this.model.info.contextLength * 8);
    const win = contextWindow(prefix, prefix.length, maxChars, tokenizer);
    const text = prefix.slice(win.start);
    const tokens = tokenizer.encode(text, win.start === 0 ? atStart : win.atStart);
    let last = tokens.length - 1;
    while (last >= 0 && tokens[last].length === 0) last--;
    // The rest is spelled from where the last token's text starts: with it go the byte tokens
    // before it that hold the first bytes of its character (they have no text of their own).
    let first = last;
    while (this.bytes && first > 0 && this.isSplitByte(tokens[first - 1], tokens[last].start)) first--;
    const context = tokens.slice(0, Math.max(0, first)).map((t) => t.id);
    if (last < 0) context.push(...tokens.map((t) => t.id));
    let rest = last >= 0 ? text.slice(tokens[last].start) : '';
    // Space-joined words (KenLM's convention): surfaces carry the space before the word.
    if (tokenizer.sentencePerLine && !rest.startsWith('\n')) rest = ' ' + rest;
    const mass = await this.characterMass(context, this.bytes ? byteString(utf8.encode(rest)) : rest, signal);
    let total = 0;
    for (const m of mass) total += m;
    if (!(total > 0)) return mass.fill(1 / mass.length);
    for (let i = 0; i < mass.length; i++) mass[i] /= total;
    return mass;
  }

  /** Unnormalised probability of "rest, then symbol" after the token context, per symbol. */
  private async characterMass(context: number[], rest: string, signal?: CancelSignal): Promise<Float64Array> {
    const mass = new Float64Array(this.alphabet.symbols.length);
    const queue: Path[] = [{ context, rest, started: '', weight: 1 }];
    const add = (ch: string, w: number) => {
      const symbol = this.alphabet.fold(ch);
      const at = symbol === undefined ? undefined : this.symbolIndex.get(symbol);
      if (at !== undefined) mass[at] += w;
    };
    let calls = 0;
    // Once the budget is spent, byte spellings of characters that still have no mass are followed
    // on (a few calls each): a model with byte tokens gives every character some probability, and a
    // rare 3–4-byte one (’, an emoji) would otherwise get none, and infinite surprisal.
    const unfinished = (p: Path) => {
      if (!p.started) return false;
      for (let i = 0; i < mass.length; i++) if (mass[i] === 0 && this.symbolBytes[i].startsWith(p.started)) return true;
      return false;
    };
    let extraCalls = 0;
    while (queue.length > 0) {
      let best = -1;
      if (calls < this.maxCalls) {
        // Best first: the most probable unfinished spelling of the rest.
        best = 0;
        for (let i = 1; i < queue.length; i++) if (queue[i].weight > queue[best].weight) best = i;
      } else if (this.bytes && extraCalls < this.maxCalls) {
        for (let i = 0; i < queue.length; i++) if (unfinished(queue[i]) && (best < 0 || queue[i].weight > queue[best].weight)) best = i;
        extraCalls++;
      }
      if (best < 0) break;
      const { context: ctx, rest: r, started, weight } = queue.splice(best, 1)[0];
      const logProbs = await this.model.nextLogProbs(ctx, signal);
      calls++;
      const unk = this.model.unkId;
      if (unk !== undefined) {
        const spread = (weight * Math.exp(logProbs[unk])) / mass.length;
        for (let i = 0; i < mass.length; i++) mass[i] += spread;
      }
      if (started) {
        // A character begun by the last token: the tokens that go on with its continuation bytes.
        const need = sequenceLength(started.charCodeAt(0)) - started.length;
        for (const id of this.sorted) {
          const s = this.surfaces[id]!;
          const more = s.slice(0, need);
          if (!/^[\x80-\xbf]+$/.test(more)) continue;
          const w = weight * Math.exp(logProbs[id]);
          if (more.length === need) add(decodeBytes(started + more), w);
          else queue.push({ context: [...ctx, id], rest: '', started: started + more, weight: w });
        }
        continue;
      }
      // Tokens that spell r and go on: the character after r.
      for (let k = this.lowerBound(r); k < this.sorted.length; k++) {
        const id = this.sorted[k];
        const s = this.surfaces[id]!;
        if (!s.startsWith(r)) break;
        if (s.length === r.length) continue;
        const w = weight * Math.exp(logProbs[id]);
        if (this.bytes) {
          const n = sequenceLength(s.charCodeAt(r.length));
          if (n === 0) continue;
          const charBytes = s.slice(r.length, r.length + n);
          if (charBytes.length === n) add(decodeBytes(charBytes), w);
          // Kept whatever its weight (as a whole character's token would count): without it an
          // accented letter after an improbable spelling of the rest would get no mass at all.
          else queue.push({ context: [...ctx, id], rest: '', started: charBytes, weight: w });
          continue;
        }
        const ch = String.fromCodePoint(s.codePointAt(r.length)!);
        if (ch === '\uFFFD') continue; // part of a UTF-8 character: which one is unknown
        add(ch, w);
      }
      // Tokens that spell a beginning of r: r continues after them.
      for (let len = 1; len <= r.length; len++) {
        for (const id of this.bySurface.get(r.slice(0, len)) ?? []) {
          const w = weight * Math.exp(logProbs[id]);
          if (w >= this.minPath) queue.push({ context: [...ctx, id], rest: r.slice(len), started: '', weight: w });
        }
      }
    }
    return mass;
  }

  /** A token with no text of its own at `start`: the first bytes of a character split between tokens. */
  private isSplitByte(t: { id: number; start: number; length: number }, start: number): boolean {
    if (t.length !== 0 || t.start !== start) return false;
    const s = this.surfaces[t.id];
    return s !== undefined && s.length > 0 && [...s].every((c) => c.charCodeAt(0) >= 0x80);
  }

  private lowerBound(s: string): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.surfaces[this.sorted[mid]]! < s) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** The character a byte string spells ("\uFFFD" when it is no valid UTF-8). */
function decodeBytes(s: string): string {
  return new TextDecoder().decode(Uint8Array.from(s, (c) => c.charCodeAt(0)));
}

/** How many guesses a player who guesses in order of probability needs: ties go by alphabet order. */
export function guessRank(probabilities: ArrayLike<number>, truth: number): number {
  const p = probabilities[truth];
  let rank = 1;
  for (let i = 0; i < probabilities.length; i++) {
    if (probabilities[i] > p || (probabilities[i] === p && i < truth)) rank++;
  }
  return rank;
}
