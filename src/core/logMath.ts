/** Log-space helpers. Natural logarithms throughout unless a name says otherwise. */

export const LN2 = Math.LN2;
export const LN10 = Math.LN10;

/** 2^(j/256) for j = 0..255, and 2^-i for i = 0..1075: the two factors of expNonPositive. */
const EXP2_FRACTION = Float64Array.from({ length: 256 }, (_, j) => 2 ** (j / 256));
const EXP2_NEGATIVE = Float64Array.from({ length: 1076 }, (_, i) => 2 ** -i);
const STEPS_PER_UNIT = 256 / Math.LN2;
/** ln 2 / 256 in two parts (fdlibm's split of ln 2): k · STEP_HIGH is exact for the k used here. */
const STEP_HIGH = 6.9314718036912381649e-1 / 256;
const STEP_LOW = 1.90821492927058770002e-10 / 256;

/**
 * e^x for x ≤ 0 (a logit minus its row's largest), within 3.2e-16 of Math.exp's value (relative,
 * measured over 2 million arguments): about a third of its time in a log-softmax, since it is
 * arithmetic inlined where Math.exp is a call, and a language model's log-softmax makes one per
 * vocabulary entry (49,152 for SmolLM2) at every step. x = k · ln2/256 + r with k = trunc(x · 256/ln2),
 * so e^x = 2^(k/256) · e^r with -ln2/256 < r ≤ 0, e^r to degree 5. Other arguments: Math.exp.
 */
export function expNonPositive(x: number): number {
  if (!(x > -745)) return x === x ? 0 : x; // below the smallest double, or -Infinity; NaN stays
  if (x > 0) return Math.exp(x);
  const k = (x * STEPS_PER_UNIT) | 0;
  const r = x - k * STEP_HIGH - k * STEP_LOW;
  return EXP2_FRACTION[k & 255] * (1 + r * (1 + r * (0.5 + r * (1 / 6 + r * (1 / 24 + r / 120))))) * EXP2_NEGATIVE[-(k >> 8)];
}

/** log(sum(exp(x))) without overflow; -Infinity for an empty or all -Infinity input. */
export function logSumExp(values: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) if (values[i] > max) max = values[i];
  if (max === -Infinity) return -Infinity;
  if (max === Infinity) return Infinity;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += expNonPositive(values[i] - max);
  return max + Math.log(sum);
}

/** Numerically stable log-softmax: subtracts the maximum before exponentiating. */
export function logSoftmax(logits: ArrayLike<number>): Float64Array {
  const out = new Float64Array(logits.length);
  const lse = logSumExp(logits);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i] - lse;
  return out;
}

export function softmax(logits: ArrayLike<number>): Float64Array {
  const out = logSoftmax(logits);
  for (let i = 0; i < out.length; i++) out[i] = Math.exp(out[i]);
  return out;
}

/**
 * logSumExp of a model's logits, `length` of them from `offset` (one row of a run's output): the
 * same numbers, kept apart for float32 rows so that the loop every decode step runs sees one kind
 * of array.
 */
export function logSumExpOfLogits(logits: Float32Array, offset: number, length: number): number {
  let max = -Infinity;
  let nan = false;
  const end = offset + length;
  for (let i = offset; i < end; i++) {
    const v = logits[i];
    if (v > max) max = v;
    else if (v !== v) nan = true;
  }
  if (nan) return NaN;
  if (max === -Infinity) return -Infinity;
  if (max === Infinity) return Infinity;
  let sum = 0;
  // expNonPositive written out (x ≤ 0 here), with no other branch in the loop: V8 does not inline
  // the call, and this loop runs over the whole vocabulary at every decode step (0.27 ms a row of
  // 49,152 against 0.37 ms with the call). The same numbers to the bit.
  for (let i = offset; i < end; i++) {
    const x = logits[i] - max;
    if (!(x > -745)) continue;
    const k = (x * STEPS_PER_UNIT) | 0;
    const r = x - k * STEP_HIGH - k * STEP_LOW;
    sum += EXP2_FRACTION[k & 255] * (1 + r * (1 + r * (0.5 + r * (1 / 6 + r * (1 / 24 + r / 120))))) * EXP2_NEGATIVE[-(k >> 8)];
  }
  return max + Math.log(sum);
}

/** The log-softmax of a row of logits, written into `out` (its first `length` entries); `lse`: the row's logSumExp when already known. */
export function logSoftmaxOfLogits(
  logits: Float32Array,
  offset: number,
  length: number,
  out: Float64Array = new Float64Array(length),
  lse = logSumExpOfLogits(logits, offset, length),
): Float64Array {
  for (let i = 0; i < length; i++) out[i] = logits[offset + i] - lse;
  return out;
}
