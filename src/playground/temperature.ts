/** The temperature as a person types it: a number ≥ 0, or ∞ ("∞", "inf", "infinity"). */
export function parseTemperature(text: string): number | undefined {
  const t = text.trim().toLowerCase();
  if (t === '∞' || t === 'inf' || t === 'infinity') return Infinity;
  if (t === '') return undefined;
  const v = Number(t);
  return Number.isFinite(v) && v >= 0 ? v : undefined;
}

export function formatTemperature(T: number): string {
  return T === Infinity ? '∞' : String(T);
}
