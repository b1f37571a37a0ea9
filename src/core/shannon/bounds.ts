/**
 * Shannon's (1951) bounds on the entropy of a text from a guessing game: if q_i is the fraction of
 * characters guessed right at the i-th guess, the entropy per character lies between
 *   lower = Σ_{i=1..K} i (q_i − q_{i+1}) log2 i   (q_{K+1} = 0)
 *   upper = −Σ_i q_i log2 q_i
 * where K is the alphabet size. The upper bound is the entropy of the guess count (the guess
 * counts determine the text). The lower bound needs sorted frequencies q_1 ≥ q_2 ≥ … (a player
 * who guesses in order of probability): it is the entropy of the least uncertain predictions with
 * these frequencies, mixtures of uniform choices among i characters with weights i (q_i − q_{i+1}).
 */
import { plural } from '../numberFormat';

/** q_i for i = 1..K (index 0 is guess 1) from the number of guesses each character took. */
export function guessFrequencies(guessCounts: readonly number[], alphabetSize: number): number[] {
  const q = new Array<number>(alphabetSize).fill(0);
  if (guessCounts.length === 0) return q;
  for (const g of guessCounts) {
    if (!Number.isInteger(g) || g < 1 || g > alphabetSize) throw new RangeError(`a guess count must be between 1 and ${alphabetSize}, got ${g}`);
    q[g - 1]++;
  }
  return q.map((c) => c / guessCounts.length);
}

export interface ShannonBounds {
  /** Bits per character. */
  lower: number;
  upper: number;
}

/** Bounds from q_1..q_K; `q.length` is the alphabet size K. */
export function shannonBounds(q: readonly number[]): ShannonBounds {
  let upper = 0;
  let lower = 0;
  for (let i = 1; i <= q.length; i++) {
    const qi = q[i - 1];
    const next = i < q.length ? q[i] : 0;
    if (qi > 0) upper -= qi * Math.log2(qi);
    lower += i * (qi - next) * Math.log2(i);
  }
  // −0 and rounding noise read badly in a table.
  return { lower: Math.max(0, lower), upper: Math.max(0, upper) };
}

/** Bounds straight from guess counts. */
export function boundsFromGuesses(guessCounts: readonly number[], alphabetSize: number): ShannonBounds {
  return shannonBounds(guessFrequencies(guessCounts, alphabetSize));
}

/**
 * Whether estimates from a sample can be read as bounds. Shannon's inequalities hold for the true
 * q_i of a player who guesses in order of probability (then q_1 ≥ q_2 ≥ … and lower ≤ upper);
 * frequencies from a few characters are noisy and can put the "lower" bound above the upper one.
 * Two conditions, both needed:
 * - at least as many characters as the alphabet has symbols (K): the upper estimate from n
 *   characters is at most log₂ n bits, so below K characters it cannot even reach log₂ K, the
 *   entropy of random text — the sample cannot yet tell a predictable text from noise;
 * - lower ≤ upper.
 */
export type BoundsReading =
  | { kind: 'bounds'; lower: number; upper: number }
  | {
      kind: 'estimates';
      lower: number;
      upper: number;
      reason: 'few-characters' | 'crossed';
      /** Characters needed before they can be bounds. */ minCharacters: number;
    };

/** A reading that is not yet bounds, and whose it is ("you", "the model"). */
export interface PendingReading {
  who: string;
  reading: Extract<BoundsReading, { kind: 'estimates' }>;
}

/**
 * Why starred estimates are not bounds yet, giving only the reasons that apply: fewer characters
 * than the alphabet has symbols (`played` of them), and for whom the lower estimate is above the
 * upper one.
 */
export function estimatesNote(pending: readonly PendingReading[], played: number): string {
  const parts: string[] = [];
  const few = pending.find((p) => p.reading.reason === 'few-characters');
  if (few) {
    const k = few.reading.minCharacters;
    parts.push(
      `* Estimates, not yet bounds: ${plural(played, 'character')} played, fewer than the alphabet's ${k} symbols. From n characters the upper estimate is at most log₂ n bits, below the ${Math.log2(k).toFixed(2)} bits of random text, so the sample cannot yet tell a predictable text from noise; they are shown as bounds from ${k} characters on.`,
    );
  }
  const crossed = pending.filter((p) => p.reading.lower > p.reading.upper + ORDER_TOLERANCE);
  if (crossed.length) {
    const which = crossed
      .map((p) => `for ${p.who} the lower estimate (${p.reading.lower.toFixed(2)} bits) is above the upper (${p.reading.upper.toFixed(2)} bits)`)
      .join(', and ');
    const why = `${which}: the guess frequencies are not yet in decreasing order, which Shannon's bounds assume; keep playing.`;
    parts.push(few ? why.charAt(0).toUpperCase() + why.slice(1) : `* Estimates, not bounds: ${why}`);
  }
  return parts.join(' ');
}

/**
 * A reading on one line, lower first: "1.92–2.28 bits/char". Crossed estimates are named, not put
 * as a range, which would read backwards ("2.28–1.92", drive7).
 */
export function boundsText(r: BoundsReading): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '–');
  if (r.kind === 'bounds') return `${f(r.lower)}–${f(r.upper)} bits/char`;
  const pending = ' (estimates, not yet bounds)';
  return r.lower > r.upper + ORDER_TOLERANCE
    ? `lower ${f(r.lower)}, upper ${f(r.upper)} bits/char${pending}`
    : `${f(r.lower)}–${f(r.upper)} bits/char${pending}`;
}

/** Rounding noise allowed when lower = upper (e.g. q = (½, ½) gives 1 and 1). */
const ORDER_TOLERANCE = 1e-9;

export function readBounds(guessCounts: readonly number[], alphabetSize: number): BoundsReading {
  const { lower, upper } = boundsFromGuesses(guessCounts, alphabetSize);
  return boundsReading(lower, upper, guessCounts.length, alphabetSize);
}

export function boundsReading(lower: number, upper: number, characters: number, alphabetSize: number): BoundsReading {
  if (characters < alphabetSize) return { kind: 'estimates', lower, upper, reason: 'few-characters', minCharacters: alphabetSize };
  if (lower > upper + ORDER_TOLERANCE) return { kind: 'estimates', lower, upper, reason: 'crossed', minCharacters: alphabetSize };
  return { kind: 'bounds', lower, upper };
}
