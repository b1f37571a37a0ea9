/**
 * The heat-map's colours as the user sees them: each token's background on screen against the
 * colour package.json declares for its bucket, the bucket worked out in the test from the CLI's rank
 * or probability and the thresholds the README states (not from the extension's bucket code).
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { REPO_ROOT } from '../../scripts/codeServer';
import type { Workbench } from './workbench';

export interface ScoredToken {
  text: string;
  start: number;
  length: number;
  rank: number;
  logprob: number;
}

type Rgba = [number, number, number, number];

/** `#rrggbbaa` as red, green, blue (0–255) and alpha (0–1). */
function fromHex(hex: string): Rgba {
  const n = (i: number) => parseInt(hex.slice(1 + 2 * i, 3 + 2 * i), 16);
  return [n(0), n(1), n(2), hex.length > 7 ? n(3) / 255 : 1];
}

/** A computed CSS colour, `rgb(…)` or `rgba(…)`. */
function fromCss(css: string): Rgba {
  const v = (/rgba?\(([^)]*)\)/.exec(css)?.[1] ?? '').split(',').map((x) => parseFloat(x));
  return [v[0], v[1], v[2], v.length > 3 ? v[3] : 1];
}

const same = (a: Rgba, b: Rgba) => a.slice(0, 3).every((x, i) => x === b[i]) && Math.abs(a[3] - b[3]) < 0.01;

/** The four bucket colours package.json declares for the theme kind on screen (most expected first). */
export async function bucketColours(wb: Workbench): Promise<Rgba[]> {
  const kind = await wb.page.evaluate(() => {
    const c = document.querySelector('.monaco-workbench')?.classList;
    return c?.contains('hc-light') ? 'highContrastLight' : c?.contains('hc-black') ? 'highContrast' : c?.contains('vs-dark') ? 'dark' : 'light';
  });
  const colors: { id: string; defaults: Record<string, string> }[] = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).contributes
    .colors;
  return [1, 2, 3, 4].map((i) => fromHex(colors.find((c) => c.id === `lmPlayground.heatmap.bucket${i}`)!.defaults[kind]));
}

/** The bucket of a rank under ascending thresholds, or of a probability under descending ones. */
export const rankBucket = (rank: number, t: number[]) => (rank <= t[0] ? 0 : rank <= t[1] ? 1 : rank <= t[2] ? 2 : 3);
export const probabilityBucket = (logprob: number, t: number[]) => {
  const p = Math.exp(logprob);
  return p >= t[0] ? 0 : p >= t[1] ? 1 : p >= t[2] ? 2 : 3;
};

/**
 * Checks the colour under every visible token of `text` (the active editor's, scrolled to the top,
 * the heat-map on) against `bucket(token)`. Whitespace-only tokens are skipped: they have no glyph.
 */
export async function assertTokenColours(wb: Workbench, text: string, tokens: ScoredToken[], bucket: (t: ScoredToken) => number): Promise<void> {
  const colours = await bucketColours(wb);
  const wrong: string[] = [];
  let checked = 0;
  for (const t of tokens) {
    const inner = t.text.trim();
    if (!inner) continue;
    // A character of the token itself, away from its edges (a neighbour's colour may touch them).
    const at = t.start + t.text.indexOf(inner) + Math.floor((inner.length - 1) / 2);
    const line = text.slice(0, at).split('\n').length - 1;
    const col = at - (text.lastIndexOf('\n', at - 1) + 1);
    const shown = (await wb.decorationColoursAt(line, col)).map(fromCss);
    const want = bucket(t);
    checked++;
    if (shown.length !== 1 || !same(shown[0], colours[want]))
      wrong.push(
        `${JSON.stringify(t.text)} (rank ${t.rank}, p ${Math.exp(t.logprob).toPrecision(3)}): bucket ${want + 1} ${JSON.stringify(colours[want])}, shown ${JSON.stringify(shown)}`,
      );
  }
  assert.ok(checked > 10, `${checked} tokens checked`);
  assert.deepStrictEqual(wrong, [], `tokens in the wrong colour:\n${wrong.join('\n')}`);
}
