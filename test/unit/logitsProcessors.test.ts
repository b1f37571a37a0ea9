import * as assert from 'assert';
import { applyLogitsProcessors, banTokens, firstTokenAmong, noLeadingLineBreak } from '../../src/core/logitsProcessors';

const NONE = { generated: [] };
const lp = () => Float64Array.from([0.1, 0.2, 0.3, 0.4], Math.log);

describe('logits processors (masks)', () => {
  it("banTokens sets the banned ids to -Infinity in a copy, leaving the model's log-probs as they are", () => {
    const input = lp();
    const out = banTokens([0, 2])(input, NONE);
    assert.deepStrictEqual(Array.from(out), [-Infinity, Math.log(0.2), -Infinity, Math.log(0.4)]);
    assert.strictEqual(input[0], Math.log(0.1));
    assert.strictEqual(banTokens([])(input, NONE), input, 'nothing banned: no copy');
  });

  it("banTokens reuses its copy from step to step, each step masking that step's log-probs", () => {
    const ban = banTokens([1]);
    const first = ban(lp(), NONE);
    const secondInput = Float64Array.from([0.4, 0.3, 0.2, 0.1], Math.log);
    const second = ban(secondInput, NONE);
    assert.strictEqual(second, first, 'one buffer');
    assert.deepStrictEqual(Array.from(second), [Math.log(0.4), -Infinity, Math.log(0.2), Math.log(0.1)]);
    assert.strictEqual(secondInput[1], Math.log(0.3));
    assert.deepStrictEqual(Array.from(ban(Float64Array.from([0.5, 0.5], Math.log), NONE)), [Math.log(0.5), -Infinity], 'another vocabulary size');
  });

  it('firstTokenAmong allows only the given tokens at the first step, and everything after', () => {
    const mask = firstTokenAmong(Uint8Array.from([0, 1, 0, 1]));
    const input = lp();
    assert.deepStrictEqual(Array.from(mask(input, NONE)), [-Infinity, Math.log(0.2), -Infinity, Math.log(0.4)]);
    assert.strictEqual(input[0], Math.log(0.1));
    assert.strictEqual(mask(input, { generated: [{ text: 'a' }] }), input);
  });

  it('noLeadingLineBreak bans tokens starting with \\n or \\r until visible text, the healed word not counting', () => {
    const texts = ['a', '\nb', '\r\n', 'b\n'];
    const mask = noLeadingLineBreak(texts, 'mou');
    const input = lp();
    const banned = [-Infinity, -Infinity];
    assert.deepStrictEqual(Array.from(mask(input, NONE)), [Math.log(0.1), ...banned, Math.log(0.4)]);
    assert.deepStrictEqual(Array.from(mask(input, { generated: [{ text: 'mou' }] })), [Math.log(0.1), ...banned, Math.log(0.4)]);
    assert.strictEqual(mask(input, { generated: [{ text: 'mouse' }] }), input);
    assert.strictEqual(mask(input, { generated: [{ text: 'mou' }, { text: 'se' }] }), input);
    assert.strictEqual(noLeadingLineBreak(texts)(input, { generated: [{ text: 'mou' }] }), input, 'without healing any token is visible');
  });

  it('applies a list in order, each mask adding to the last', () => {
    const out = applyLogitsProcessors([banTokens([3]), firstTokenAmong(Uint8Array.from([1, 1, 0, 1]))], lp(), NONE);
    assert.deepStrictEqual(Array.from(out), [Math.log(0.1), Math.log(0.2), -Infinity, -Infinity]);
    const input = lp();
    assert.strictEqual(applyLogitsProcessors([], input, NONE), input);
  });
});
