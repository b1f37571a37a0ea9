/**
 * Counting the logits above a target's through llama.cpp's min-p sampler, in float32 as llama.cpp
 * computes it. Min-p keeps the tokens whose logit is at least max + logf(p); with a temperature so
 * high that every kept token's weight rounds to 1, the total logit weight llama.cpp reports is the
 * number of tokens kept. A rank needs the count of logits strictly above the target's, and the
 * thresholds min-p can express are spaced by the float32 grid of max + logf(p), too coarse to hit
 * "just above the target" exactly; so ranks are read from two counts, one with the threshold just
 * above the target's logit and one just below, chosen here with a margin of one float32 step of
 * logf either way (libm's logf may differ from a correctly rounded one by that much). Pure.
 */

const f32 = new Float32Array(1);
const bits = new Uint32Array(f32.buffer);

/** The float32 k steps above x (below for negative k). */
export function stepFloat32(x: number, k: number): number {
  f32[0] = x;
  if (f32[0] === 0) {
    if (k === 0) return 0;
    f32[0] = k > 0 ? 1.401298464324817e-45 : -1.401298464324817e-45;
    return stepFloat32(f32[0], k - Math.sign(k));
  }
  bits[0] += f32[0] > 0 ? k : -k;
  return f32[0];
}

/** Most float32 steps of p tried before giving up on a threshold (the count is then not used). */
const MAX_STEPS = 4096;

/**
 * The float32 min-p that puts llama.cpp's threshold max + logf(p) above `logit` (`side` 1) or at
 * most `logit` (`side` −1), as near to it as llama.cpp can, whichever way logf rounds; undefined
 * when there is none (the threshold would pass the maximum, or p would underflow). `logit` and
 * `max` are float32 values, logit < max.
 */
export function minPFor(logit: number, max: number, side: 1 | -1): number | undefined {
  const fr = Math.fround;
  // The threshold for p if logf(p) is one float32 step off towards the wrong side.
  const worst = (p: number) => fr(max + stepFloat32(fr(Math.log(p)), -side));
  let p = fr(Math.exp(logit - max));
  for (let k = 0; k < MAX_STEPS && p > 0 && p <= 1; k++) {
    const m = worst(p);
    if (side === 1 ? m > logit : m <= logit) {
      // Above the maximum, min-p would keep no token, and llama.cpp then keeps one whatever its logit.
      const best = fr(max + stepFloat32(fr(Math.log(p)), side));
      return side === 1 && best > max ? undefined : p;
    }
    p = stepFloat32(p, side);
  }
  return undefined;
}

/**
 * The rank (1 + logits strictly above the target's) from the two counts, or undefined when they do
 * not settle it: with `above` (threshold > target) the target must not have been kept, with
 * `below` (threshold ≤ target) it must, and the counts must differ by the target alone; then no
 * other logit lies between the thresholds, so every logit above the target's was counted in `above`.
 */
export function rankFromCounts(above: { count: number; keptTarget: boolean }, below: { count: number; keptTarget: boolean }): number | undefined {
  if (above.keptTarget || !below.keptTarget || below.count - above.count !== 1) return undefined;
  return above.count + 1;
}
