import * as assert from 'assert';
import { CancelledError } from '../../src/core/errors';
import {
  blankLineRun,
  cancellation,
  endOfSequence,
  maxTokens,
  needsText,
  stopBeforeStep,
  stopInText,
  stopOnToken,
  stopSequences,
} from '../../src/core/stoppingCriteria';

describe('stopping criteria', () => {
  it('maxTokens ends before the step that would exceed n (0 generates nothing)', () => {
    assert.strictEqual(maxTokens(3).beforeStep!(2), undefined);
    assert.strictEqual(maxTokens(3).beforeStep!(3), 'length');
    assert.strictEqual(maxTokens(0).beforeStep!(0), 'length');
  });

  it('endOfSequence ends on the end-of-sequence token only; a model without one never ends so', () => {
    assert.strictEqual(endOfSequence(1).onToken!(1), 'eos');
    assert.strictEqual(endOfSequence(1).onToken!(2), undefined);
    assert.strictEqual(endOfSequence(undefined).onToken!(1), undefined);
  });

  it('cancellation throws once the signal is cancelled, and never without a signal', () => {
    const signal = { cancelled: false };
    const c = cancellation(signal);
    assert.strictEqual(c.beforeStep!(5), undefined);
    signal.cancelled = true;
    assert.throws(() => c.beforeStep!(5), CancelledError);
    assert.strictEqual(cancellation(undefined).beforeStep!(5), undefined);
  });

  it('stop sequences are matched on the text across token boundaries; the text ends before the match', () => {
    const s = stopSequences(['zx', 'END']);
    // Tokens "y", "z", "x": the match "zx" appears only with the third token, and spans two.
    assert.strictEqual(s.onText!('y', 0), -1);
    assert.strictEqual(s.onText!('yz', 1), -1);
    assert.strictEqual(s.onText!('yzx', 2), 1);
    // The earliest of several; a match at the very start gives an empty text.
    assert.strictEqual(s.onText!('aENDzx', 0), 1);
    assert.strictEqual(s.onText!('zx', 0), 0);
  });

  it('stop sequences look only where a new match can end (earlier text was searched at earlier steps)', () => {
    const s = stopSequences(['ab']);
    // "ab" lies wholly in the earlier text, so it cannot be new; one straddling the seam is found.
    assert.strictEqual(s.onText!('ab-xyz', 3), -1);
    assert.strictEqual(s.onText!('--ab', 3), 2);
  });

  it('blank-line runs end the text at a blank line after text, or at the start after two blank lines before any', () => {
    const b = blankLineRun();
    assert.strictEqual(b.onText!('The end.\n\nChapter', 0), 8);
    assert.strictEqual(b.onText!('The end.\n', 0), -1);
    assert.strictEqual(b.onText!('\n\nChapter one', 0), -1);
    assert.strictEqual(b.onText!('\n \n\n', 0), 0);
  });

  it('a list gives the first reason in order before a step and on a token, and the earliest end in the text', () => {
    const signal = { cancelled: true };
    assert.strictEqual(stopBeforeStep([maxTokens(2), cancellation(signal)], 2), 'length');
    assert.throws(() => stopBeforeStep([maxTokens(2), cancellation(signal)], 1), CancelledError);
    assert.strictEqual(stopOnToken([maxTokens(2), endOfSequence(4)], 4), 'eos');
    assert.strictEqual(stopOnToken([endOfSequence(4)], 3), undefined);
    assert.strictEqual(stopInText([stopSequences(['Chap']), blankLineRun()], 'The end.\n\nChapter', 0), 8);
    assert.strictEqual(stopInText([stopSequences(['end']), blankLineRun()], 'The end.\n\nChapter', 0), 4);
    assert.strictEqual(stopInText([maxTokens(1)], 'text', 0), -1);
  });

  it('only text criteria make generation decode the text at every step', () => {
    assert.strictEqual(needsText([maxTokens(1), endOfSequence(1), cancellation(undefined)]), false);
    assert.strictEqual(needsText([maxTokens(1), blankLineRun()]), true);
  });
});
