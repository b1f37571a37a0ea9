/**
 * How numbers read on screen, the same everywhere (hover, heat-map line, playground): a
 * probability as a percentage, surprisal and entropy in bits, tokens with their whitespace visible.
 */

/** Below this p (0.01 %) a percentage gets a power of ten instead of a row of zeros. */
export const PERCENT_FLOOR = 1e-4;

const SUPERSCRIPT: Record<string, string> = { '-': '⁻', '0': '⁰', '1': '¹', '2': '²', '3': '³', '4': '⁴', '5': '⁵', '6': '⁶', '7': '⁷', '8': '⁸', '9': '⁹' };

/**
 * p as a percentage with 3 significant digits: "45.2%", "0.0123%"; below 0.01 % the same
 * percentage in scientific notation: "4.68×10⁻⁴%" (p = 4.68e-6). Never switches unit.
 */
export function formatProbability(p: number): string {
  if (!Number.isFinite(p) || p < 0) return '–';
  if (p === 0) return '0%';
  const percent = Math.min(p, 1) * 100;
  if (p >= PERCENT_FLOOR) return `${percent.toPrecision(3)}%`;
  const [mantissa, exponent] = percent.toExponential(2).split('e');
  return `${mantissa}×10${[...exponent.replace('+', '')].map((c) => SUPERSCRIPT[c]).join('')}%`;
}

/**
 * p given as ln p, in formatProbability's format, also where p itself is below the smallest double
 * (a long path's product, ln p = −800): the power of ten then comes from log₁₀ p, never "0%".
 */
export function formatLogProbability(logProb: number): string {
  if (Number.isNaN(logProb) || logProb > 0) return formatProbability(NaN);
  if (logProb === -Infinity) return '0%';
  const p = Math.exp(logProb);
  if (p >= 1e-300) return formatProbability(p);
  const log10Percent = logProb / Math.LN10 + 2;
  let exponent = Math.floor(log10Percent);
  let mantissa = (10 ** (log10Percent - exponent)).toFixed(2);
  // 9.996 rounds up to 10.00: one power of ten more, as toExponential would write it.
  if (mantissa === '10.00') [mantissa, exponent] = ['1.00', exponent + 1];
  return `${mantissa}×10${[...String(exponent)].map((c) => SUPERSCRIPT[c]).join('')}%`;
}

/** A count with its noun, singular for 1: "1 guess", "3 guesses", "1,234 tokens". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

/** Surprisal −log₂ p in bits from a natural-log probability. */
export function surprisalBits(logProbNats: number): number {
  return -logProbNats / Math.LN2;
}

export function formatBits(bits: number, digits = 2): string {
  return Number.isFinite(bits) ? `${bits.toFixed(digits)} bits` : '∞ bits';
}

/** The symbols that stand for invisible characters in a token, with their legend. */
export const WHITESPACE_SYMBOLS: readonly { char: string; symbol: string; name: string }[] = [
  { char: ' ', symbol: '␣', name: 'space' },
  { char: '\n', symbol: '⏎', name: 'line break' },
  { char: '\r', symbol: '␍', name: 'carriage return' },
  { char: '\t', symbol: '⇥', name: 'tab' },
];

/** A token's text with spaces, line breaks and tabs drawn as ␣ ⏎ ␍ ⇥ and other control characters escaped. */
export function visibleToken(text: string): string {
  let out = '';
  for (const ch of text) {
    const ws = WHITESPACE_SYMBOLS.find((w) => w.char === ch);
    if (ws) out += ws.symbol;
    // Control characters are shown as escapes: that is the point of this test.
    // eslint-disable-next-line no-control-regex
    else if (/[\u0000-\u001f\u007f]/.test(ch)) out += `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out;
}

/** "␣ = space, ⏎ = line break" for the invisible characters that occur in `texts`, or '' when none does. */
export function whitespaceLegend(texts: readonly string[]): string {
  const used = WHITESPACE_SYMBOLS.filter((w) => texts.some((t) => t.includes(w.char)));
  return used.map((w) => `${w.symbol} = ${w.name}`).join(', ');
}
