/** The playground's pure view logic: tooltip placement, the explorer's axis, typed temperatures. */
import * as assert from 'assert';
import { barAxis, niceCeil } from '../../src/playground/barAxis';
import { formatTemperature, parseTemperature } from '../../src/playground/temperature';
import { TOOLTIP_GAP, placeTooltip } from '../../src/webview/tooltipPlacement';

describe('token tooltip placement', () => {
  const viewport = { width: 800, height: 600 };
  const tip = { width: 300, height: 200 };
  const inside = (at: { left: number; top: number }) =>
    at.left >= 0 && at.top >= 0 && at.left + tip.width <= viewport.width && at.top + tip.height <= viewport.height;

  it('goes below the token when it fits', () => {
    assert.deepStrictEqual(placeTooltip({ left: 100, top: 50, bottom: 70 }, tip, viewport), { left: 100, top: 70 + TOOLTIP_GAP, side: 'below' });
  });

  it('flips above a token near the bottom of the panel instead of running off it', () => {
    const at = placeTooltip({ left: 100, top: 560, bottom: 580 }, tip, viewport);
    assert.deepStrictEqual(at, { left: 100, top: 560 - TOOLTIP_GAP - 200, side: 'above' });
    assert.ok(inside(at));
  });

  it('stays inside at the right edge and when it fits on neither side', () => {
    const right = placeTooltip({ left: 700, top: 50, bottom: 70 }, tip, viewport);
    assert.strictEqual(right.left, 800 - 300 - TOOLTIP_GAP);
    const small = { width: 800, height: 300 };
    const at = placeTooltip({ left: 10, top: 140, bottom: 160 }, tip, small);
    assert.ok(at.top >= 0 && at.top + tip.height <= small.height, JSON.stringify(at));
    // Taller than the panel: pinned to the top (it scrolls).
    assert.strictEqual(placeTooltip({ left: 10, top: 100, bottom: 120 }, { width: 100, height: 900 }, viewport).top, TOOLTIP_GAP);
  });
});

describe("the temperature explorer's axis", () => {
  it('ends at a round number just above the largest bar, so small p stay visible', () => {
    assert.strictEqual(niceCeil(0.6), 1);
    assert.strictEqual(niceCeil(0.03), 0.05);
    assert.strictEqual(niceCeil(0.2), 0.2);
    assert.strictEqual(niceCeil(0.0021), 0.0025);
    // Top-10 tokens of a flat distribution: p ≤ 3 %. On 0–1 these bars were 3 % high; now 60 %.
    const axis = barAxis([0.03, 0.02, 0.011, 0.004], 'linear');
    assert.deepStrictEqual(axis, { type: 'linear', min: 0, max: 0.05 });
    assert.deepStrictEqual(barAxis([0.4, 0.6, 1], 'linear'), { type: 'linear', min: 0, max: 1 });
  });

  it('on a log scale, spans the smallest to the largest positive bar', () => {
    assert.deepStrictEqual(barAxis([0.6, 0.004, 0, 0.05], 'log'), { type: 'logarithmic', min: 0.001, max: 1 });
    assert.deepStrictEqual(barAxis([0.03, 0.02], 'log'), { type: 'logarithmic', min: 0.01, max: 0.1 });
  });
});

describe('typed temperatures', () => {
  it('accept numbers ≥ 0 and ∞, and refuse the rest', () => {
    assert.strictEqual(parseTemperature('0.5'), 0.5);
    assert.strictEqual(parseTemperature(' ∞ '), Infinity);
    assert.strictEqual(parseTemperature('inf'), Infinity);
    assert.strictEqual(parseTemperature('-1'), undefined);
    assert.strictEqual(parseTemperature('hot'), undefined);
    assert.strictEqual(formatTemperature(Infinity), '∞');
  });
});
