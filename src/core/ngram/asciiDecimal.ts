/**
 * Decimal numbers read straight from ASCII bytes, as Number() reads them, for the common short
 * forms ("-0.6518771", "-99", "1.5e-05"): with at most 15 significant digits the digits are an
 * exact integer, and scaling it by an exact power of ten (at most 10^22) is one correctly
 * rounded operation, which is what Number() returns. Anything else gives NaN, and the caller
 * falls back to Number() on the text.
 */
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

export function parseAsciiDecimal(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  let negative = false;
  if (i < end && (buf[i] === 0x2d || buf[i] === 0x2b)) negative = buf[i++] === 0x2d;
  let mantissa = 0;
  let digits = 0;
  let scale = 0;
  let b: number;
  while (i < end && (b = buf[i] - 0x30) >= 0 && b <= 9) {
    mantissa = mantissa * 10 + b;
    digits++;
    i++;
  }
  if (i < end && buf[i] === 0x2e) {
    i++;
    while (i < end && (b = buf[i] - 0x30) >= 0 && b <= 9) {
      mantissa = mantissa * 10 + b;
      digits++;
      scale++;
      i++;
    }
  }
  if (digits === 0 || digits > 15) return NaN;
  let exponent = 0;
  if (i < end && (buf[i] === 0x65 || buf[i] === 0x45)) {
    i++;
    let negativeExponent = false;
    if (i < end && (buf[i] === 0x2d || buf[i] === 0x2b)) negativeExponent = buf[i++] === 0x2d;
    const first = i;
    while (i < end && (b = buf[i] - 0x30) >= 0 && b <= 9 && i - first < 4) {
      exponent = exponent * 10 + b;
      i++;
    }
    if (i === first) return NaN;
    if (negativeExponent) exponent = -exponent;
  }
  if (i !== end) return NaN;
  const p = exponent - scale;
  if (p < -22 || p > 22) return NaN;
  const value = p >= 0 ? mantissa * POW10[p] : mantissa / POW10[-p];
  return negative ? -value : value;
}
