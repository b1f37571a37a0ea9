/**
 * `Math.fround(Math.log10(x))`, the log10 value a Float32Array keeps, at about half the cost:
 * Math.log is cheaper than Math.log10 here, and their quotient by ln 10 is within a few units in
 * the last place of log10's double; rounding to float32 gives the same value unless that double
 * lies next to a point halfway between two float32 values. Both ends of an interval 20 times wider
 * than the error are rounded: rounding is monotonic, so when they agree the exact value rounds
 * there too; when they do not (next to a halfway point, or x not a positive finite number),
 * Math.log10 itself decides.
 */
const INV_LN10 = 1 / Math.LN10;
/** Relative error allowed for Math.log(x) / ln 10 against Math.log10(x): about 20 times their combined error (a few units of 2^-53). */
const MARGIN = 1e-14;

export function log10f(x: number): number {
  const y = Math.log(x) * INV_LN10;
  const e = Math.abs(y) * MARGIN + 1e-300;
  const hi = Math.fround(y + e);
  return Math.fround(y - e) === hi ? hi : Math.fround(Math.log10(x));
}
