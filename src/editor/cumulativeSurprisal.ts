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
