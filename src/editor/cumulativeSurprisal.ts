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

/**
 * Bits apart, as a share of the plot's height, below which a curve drawn after another would hide
 * it (1,000 bits high on a canvas of a few hundred pixels: a pixel is a few bits).
 */
const HIDDEN_SHARE = 0.005;

/**
 * For each curve that is not the same as an earlier one (sameCurveAs) but lies within a pixel or so
 * of one everywhere (gpt-classics as ONNX and as GGUF: 2.166 and 2.164 bits/char), that curve and
 * how far apart they are at most: the page dashes it too, and says how close it is.
 */
export function hiddenUnder(curves: readonly Curve[]): ({ under: number; apartBits: number } | undefined)[] {
  const same = sameCurveAs(curves);
  const top = Math.max(0, ...curves.flatMap((c) => c.y));
  return curves.map((c, i) => {
    if (same[i] !== undefined) return undefined;
    for (let j = 0; j < i; j++) {
      const o = curves[j];
      if (o.x.length !== c.x.length || !o.x.every((x, k) => x === c.x[k])) continue;
      const apartBits = Math.max(0, ...c.y.map((y, k) => Math.abs(y - o.y[k])));
      if (apartBits <= HIDDEN_SHARE * top) return { under: j, apartBits };
    }
    return undefined;
  });
}
