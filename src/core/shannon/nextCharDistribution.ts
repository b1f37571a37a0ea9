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
 */
import { contextWindow } from '../contextWindow';
import type { CancelSignal } from '../errors';
import { endOfSequenceIds, type LanguageModel } from '../model';
import type { Alphabet } from './alphabet';

export interface NextCharOptions {
  /** Most model calls for one distribution (the first is always made). */
  maxModelCalls?: number;
  /** Paths less likely than this are not followed. */
  minPathProbability?: number;
}

export class NextCharPredictor {
  /** Each token's text as it would appear after the context, or undefined for special tokens. */
  private readonly surfaces: (string | undefined)[];
  /** Token ids sorted by surface, for the range of surfaces that start with a string. */
  private readonly sorted: Int32Array;
  private readonly bySurface = new Map<string, number[]>();
  private readonly symbolIndex = new Map<string, number>();
  private readonly maxCalls: number;
  private readonly minPath: number;

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
    this.surfaces = new Array(model.vocabSize);
    for (let id = 0; id < model.vocabSize; id++) {
      let s: string | undefined;
      if (id === model.eosId && wordsSpaceJoined) s = '\n';
      else if (!special.has(id)) {
        s = model.tokenizer.tokenText(id);
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
    const context = tokens.slice(0, Math.max(0, last)).map((t) => t.id);
    if (last < 0) context.push(...tokens.map((t) => t.id));
    let rest = last >= 0 ? text.slice(tokens[last].start) : '';
    // Space-joined words (KenLM's convention): surfaces carry the space before the word.
    if (tokenizer.sentencePerLine && !rest.startsWith('\n')) rest = ' ' + rest;
    const mass = await this.characterMass(context, rest, signal);
    let total = 0;
    for (const m of mass) total += m;
    if (!(total > 0)) return mass.fill(1 / mass.length);
    for (let i = 0; i < mass.length; i++) mass[i] /= total;
    return mass;
  }

  /** Unnormalised probability of "rest, then symbol" after the token context, per symbol. */
  private async characterMass(context: number[], rest: string, signal?: CancelSignal): Promise<Float64Array> {
    const mass = new Float64Array(this.alphabet.symbols.length);
    const queue: { context: number[]; rest: string; weight: number }[] = [{ context, rest, weight: 1 }];
    let calls = 0;
    while (queue.length > 0 && calls < this.maxCalls) {
      // Best first: the most probable unfinished spelling of the rest.
      let best = 0;
      for (let i = 1; i < queue.length; i++) if (queue[i].weight > queue[best].weight) best = i;
      const { context: ctx, rest: r, weight } = queue.splice(best, 1)[0];
      const logProbs = await this.model.nextLogProbs(ctx, signal);
      calls++;
      const unk = this.model.unkId;
      if (unk !== undefined) {
        const spread = (weight * Math.exp(logProbs[unk])) / mass.length;
        for (let i = 0; i < mass.length; i++) mass[i] += spread;
      }
      // Tokens that spell r and go on: the character after r.
      for (let k = this.lowerBound(r); k < this.sorted.length; k++) {
        const id = this.sorted[k];
        const s = this.surfaces[id]!;
        if (!s.startsWith(r)) break;
        if (s.length === r.length) continue;
        const ch = String.fromCodePoint(s.codePointAt(r.length)!);
        if (ch === '\uFFFD') continue; // part of a UTF-8 character: which one is unknown
        const symbol = this.alphabet.fold(ch);
        const at = symbol === undefined ? undefined : this.symbolIndex.get(symbol);
        if (at !== undefined) mass[at] += weight * Math.exp(logProbs[id]);
      }
      // Tokens that spell a beginning of r: r continues after them.
      for (let len = 1; len <= r.length; len++) {
        for (const id of this.bySurface.get(r.slice(0, len)) ?? []) {
          const w = weight * Math.exp(logProbs[id]);
          if (w >= this.minPath) queue.push({ context: [...ctx, id], rest: r.slice(len), weight: w });
        }
      }
    }
    return mass;
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

/** How many guesses a player who guesses in order of probability needs: ties go by alphabet order. */
export function guessRank(probabilities: ArrayLike<number>, truth: number): number {
  const p = probabilities[truth];
  let rank = 1;
  for (let i = 0; i < probabilities.length; i++) {
    if (probabilities[i] > p || (probabilities[i] === p && i < truth)) rank++;
  }
  return rank;
}
