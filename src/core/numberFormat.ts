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
 * A whole number with commas between groups of three digits, as toLocaleString('en-US') writes
 * it, without Intl: its first use loads locale data (about 90 ms measured), on the model's load path.
 */
export function groupDigits(n: number): string {
  const digits = String(Math.abs(n));
  let out = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let i = out.length; i < digits.length; i += 3) out += `,${digits.slice(i, i + 3)}`;
  return n < 0 ? `-${out}` : out;
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

/**
 * The symbols that stand for invisible characters in a token, with their legend. A carriage return
 * is escaped as `\r`, like the other controls: code-server's hover font has no glyph for ␍ (an
 * empty box, drive-gguf5 Low 8).
 */
export const WHITESPACE_SYMBOLS: readonly { char: string; symbol: string; name: string }[] = [
  { char: ' ', symbol: '␣', name: 'space' },
  { char: '\n', symbol: '⏎', name: 'line break' },
  { char: '\r', symbol: '\\r', name: 'carriage return' },
  { char: '\t', symbol: '⇥', name: 'tab' },
];

/**
 * Characters a font draws as nothing or as a box: the other C0 controls, DEL, the C1 controls (a
 * byte-level token may decode to U+0085), zero-width and directional marks, the line and paragraph
 * separators, the byte order mark, and lone surrogates.
 */
// Control characters are what this matches.
// eslint-disable-next-line no-control-regex
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff\ud800-\udfff]/;

/** A token's text with spaces, line breaks and tabs drawn as ␣ ⏎ \r ⇥ and other invisible characters escaped (\x07, \u200b). */
export function visibleToken(text: string): string {
  let out = '';
  // Code units, not code points: a lone surrogate is escaped alone, a pair stays one character.
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length && /[\udc00-\udfff]/.test(text[i + 1])) {
      out += ch + text[++i];
      continue;
    }
    const ws = WHITESPACE_SYMBOLS.find((w) => w.char === ch);
    out += ws ? ws.symbol : (invisibleEscape(ch) ?? ch);
  }
  return out;
}

/** A character a font would draw as nothing or a box, as an escape (\\x07, \\u200b); undefined for any other character (spaces, tabs and line breaks included). */
export function invisibleEscape(ch: string): string | undefined {
  if (ch.length !== 1 || ch === '\t' || ch === '\n' || ch === '\r' || !INVISIBLE.test(ch)) return undefined;
  const code = ch.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** "␣ = space, ⏎ = line break" for the invisible characters that occur in `texts`, or '' when none does. */
export function whitespaceLegend(texts: readonly string[]): string {
  const used = WHITESPACE_SYMBOLS.filter((w) => texts.some((t) => t.includes(w.char)));
  return used.map((w) => `${w.symbol} = ${w.name}`).join(', ');
}

/**
 * The hover's legend for what its token labels draw in place of characters: the whitespace symbols
 * that occur, an escape (\x0c, \u200b) of an invisible character, and <0xD2>, a byte of a character
 * split over several tokens (what the first-time user saw unexplained); '' when none occurs.
 */
export function tokenLegend(texts: readonly string[]): string {
  const parts = [whitespaceLegend(texts)].filter(Boolean);
  const escaped = texts.flatMap((t) => Array.from(t, invisibleEscape)).find((e) => e !== undefined);
  if (escaped) parts.push(`${escaped} = an invisible or control character, by its code`);
  const byte = texts.flatMap((t) => t.match(/<0x[0-9A-F]{2}>/g) ?? [])[0];
  if (byte) parts.push(`${byte} = one byte of a character spelled by several tokens`);
  return parts.join(', ');
}
