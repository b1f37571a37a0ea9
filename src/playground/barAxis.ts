/**
 * The value axis of the temperature explorer's bars. A fixed 0–1 axis hides small probabilities
 * (p = 0.3 % is a bar of 0.3 % of the height), so the linear axis ends at a round number just
 * above the largest bar, and a log axis shows every bar down to the smallest.
 */

export type AxisScale = 'linear' | 'log';

export interface Axis {
  type: 'linear' | 'logarithmic';
  min: number;
  max: number;
}

/** The smallest of 1, 2, 2.5, 5 × 10^k at or above x (x > 0). */
export function niceCeil(x: number): number {
  const k = Math.floor(Math.log10(x));
  for (const m of [1, 2, 2.5, 5, 10]) {
    const v = m * 10 ** k;
    // Rounding of 10^k (0.1 * 3 style) must not push a bar past the top.
    if (v >= x * (1 - 1e-12)) return Number(v.toPrecision(12));
  }
  return 10 ** (k + 1);
}

export function barAxis(values: readonly number[], scale: AxisScale): Axis {
  const positive = values.filter((v) => Number.isFinite(v) && v > 0);
  if (positive.length === 0) return { type: scale === 'log' ? 'logarithmic' : 'linear', min: scale === 'log' ? 1e-3 : 0, max: 1 };
  const max = Math.min(1, niceCeil(Math.max(...positive)));
  if (scale === 'linear') return { type: 'linear', min: 0, max };
  // Whole decades, at least one: the smallest bar stands above the axis's bottom.
  const top = Math.min(1, 10 ** Math.ceil(Math.log10(Math.max(...positive))));
  const bottom = 10 ** Math.floor(Math.log10(Math.min(...positive)) - 1e-9);
  return { type: 'logarithmic', min: Math.min(bottom, top / 10), max: top };
}
