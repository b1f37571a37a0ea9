import * as assert from 'assert';
import { textWindowAt } from '../../src/core/contextWindow';
import { warmLine } from '../../src/editor/warmTarget';

describe('warmLine: which visible line the hover warm-up runs the context of', () => {
  /** Window starts by line: `starts[i]` for line i. */
  const from = (starts: number[]) => (line: number) => starts[line];

  it('the end of the visible lines when all their windows start in one place, or only one line shows', () => {
    assert.strictEqual(warmLine(0, 5, from([0, 0, 0, 0, 0, 0])), 5);
    assert.strictEqual(warmLine(3, 3, from([0, 0, 0, 7])), 3);
  });

  it('the last line sharing the top line’s start when more lines share it than the bottom’s (drive11 M2)', () => {
    // Lines 10-16 start at 100, lines 17-19 at 200.
    const starts = Array.from({ length: 20 }, (_, i) => (i < 17 ? 100 : 200));
    assert.strictEqual(warmLine(10, 19, from(starts)), 16);
    // More below: the end.
    assert.strictEqual(warmLine(15, 19, from(starts)), 19);
    // As many above as below: the end.
    assert.strictEqual(warmLine(14, 19, from(starts)), 19);
  });

  it('the end of the longest run of one start when the screen holds three', () => {
    // Lines 0-3 at 10, 4-8 at 20, 9-10 at 30: the middle run is the longest.
    assert.strictEqual(warmLine(0, 10, from([10, 10, 10, 10, 20, 20, 20, 20, 20, 30, 30])), 8);
    assert.strictEqual(warmLine(0, 10, from([10, 10, 10, 10, 10, 10, 20, 20, 20, 30, 30])), 5);
  });

  it('on a hard-wrapped text, the line it picks has the window that most visible lines have', () => {
    const lines = Array.from({ length: 600 }, (_, i) => `line ${i} ` + 'word '.repeat(12));
    const text = lines.join('\n');
    const lineEnd: number[] = [];
    for (let i = 0, at = 0; i < lines.length; at += lines[i].length + 1, i++) lineEnd.push(at + lines[i].length);
    const start = (line: number) => textWindowAt((a, b) => text.slice(a, b), lineEnd[line], 4000, { sentencePerLine: false }).startOffset;
    for (let top = 100; top < 400; top += 7) {
      const bottom = top + 40;
      const picked = warmLine(top, bottom, start);
      const sharing = (line: number) => Array.from({ length: bottom - top + 1 }, (_, i) => top + i).filter((l) => start(l) === start(line)).length;
      for (let l = top; l <= bottom; l++)
        assert.ok(sharing(picked) >= sharing(l), `screen ${top}-${bottom}: line ${picked} (${sharing(picked)} lines) against line ${l} (${sharing(l)})`);
    }
  });
});
