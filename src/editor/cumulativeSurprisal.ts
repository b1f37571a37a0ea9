/**
 * Cumulative surprisal along a text: after each character, the bits the model has spent so far.
 * A token's surprisal is counted at its last character, so models with different tokenizers are
 * drawn on the same axis (characters) and end at their totals.
 */
import type { TokenScore } from '../core/scoring';

export interface Curve {
  /** Character offsets (code points) and cumulative bits there, downsampled to about `points`. */
  x: number[];
  y: number[];
}

export function cumulativeSurprisal(text: string, tokens: readonly TokenScore[], points: number): Curve {
  // UTF-16 offset → code point offset.
  const cp = new Int32Array(text.length + 1);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    cp[i] = n;
    const c = text.charCodeAt(i);
    if (!(c >= 0xdc00 && c <= 0xdfff && i > 0 && text.charCodeAt(i - 1) >= 0xd800 && text.charCodeAt(i - 1) <= 0xdbff)) n++;
    cp[i + 1] = n;
  }
  const xs: number[] = [0];
  const ys: number[] = [0];
  let total = 0;
  for (const t of tokens) {
    total += -t.logProb / Math.LN2;
    xs.push(cp[Math.min(text.length, t.start + t.length)]);
    ys.push(total);
  }
  if (xs.length <= points) return { x: xs, y: ys };
  const step = (xs.length - 1) / (points - 1);
  const x: number[] = [];
  const y: number[] = [];
  for (let k = 0; k < points; k++) {
    const i = Math.round(k * step);
    x.push(xs[i]);
    y.push(ys[i]);
  }
  return { x, y };
}

/** Bits apart at most for two curves to be drawn as one: the same model on a server and here differ by rounding. */
const SAME_CURVE_BITS = 0.01;

/**
 * For each curve, the first earlier one it coincides with (the same model on a server and here):
 * drawn exactly under it, it would look missing, so the page dashes it and says so.
 */
export function sameCurveAs(curves: readonly Curve[]): (number | undefined)[] {
  return curves.map((c, i) => {
    for (let j = 0; j < i; j++) {
      const o = curves[j];
      if (o.x.length === c.x.length && o.x.every((x, k) => x === c.x[k]) && o.y.every((y, k) => Math.abs(y - c.y[k]) <= SAME_CURVE_BITS)) return j;
    }
    return undefined;
  });
}
