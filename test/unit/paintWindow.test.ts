/**
 * The heat-map colours only the lines in sight and a margin (editor/paintWindow.ts): checked on a
 * whole novel tokenized by the embedded n-gram model, scrolled through as a reader would.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { Token } from '../../src/core/model';
import { clipSight, MARGIN_CHARS, needsRepaint, spanToPaint, tokensOverlapping, type Span } from '../../src/editor/paintWindow';
import { loadModel } from '../../src/node/modelLoader';
import { CORPUS } from './helpers';

describe('heat-map paint window: the tokens in sight and a margin, not the whole document', function () {
  this.timeout(120_000);
  let text: string;
  let tokens: Token[];
  /** Offset of each line's start. */
  let lineStarts: number[];

  before(async () => {
    text = fs.readFileSync(path.join(CORPUS, 'train', 'emma.txt'), 'utf8');
    const model = await loadModel('ngram-classics');
    try {
      tokens = model.tokenizer.encode(text, true).filter((t) => t.length > 0);
    } finally {
      await model.dispose?.();
    }
    lineStarts = [0];
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  });

  /** The tokens a linear walk finds overlapping [start, end). */
  function overlappingByWalk(start: number, end: number): number[] {
    const found: number[] = [];
    tokens.forEach((t, i) => {
      if (t.start < end && t.start + t.length > start) found.push(i);
    });
    return found;
  }

  it('finds the tokens overlapping a range as a walk over all of them does, at the edges of tokens and inside them', function () {
    assert.ok(tokens.length > 150_000, `a novel's tokens: ${tokens.length}`);
    const probes: [number, number][] = [
      [0, 0],
      [0, 1],
      [text.length - 1, text.length],
      [text.length, text.length],
      [0, text.length],
    ];
    // Ranges that start or end on a token's first character, its last, and between tokens.
    for (let k = 0; k < 200; k++) {
      const t = tokens[Math.floor((k * 7919) % tokens.length)];
      const u = tokens[Math.min(tokens.length - 1, Math.floor((k * 7919) % tokens.length) + (k % 50))];
      probes.push([t.start, u.start + u.length], [t.start + t.length - 1, u.start + 1], [t.start + t.length, u.start]);
    }
    for (const [start, end] of probes) {
      const [first, last] = tokensOverlapping(tokens, start, end);
      const walk = overlappingByWalk(start, end);
      assert.deepStrictEqual(
        Array.from({ length: last - first }, (_, i) => first + i),
        walk,
        `characters ${start}-${end}`,
      );
    }
    assert.deepStrictEqual(tokensOverlapping([], 0, 10), [0, 0]);
  });

  it('scrolled through screen by screen, every line in sight is always painted, with far fewer paints than scrolls and a bounded number of tokens each', function () {
    const lineCount = lineStarts.length;
    const screen = 45;
    const lineEnd = (line: number) => (line + 1 < lineCount ? lineStarts[line + 1] - 1 : text.length);
    const sightOf = (top: number): Span => ({ start: lineStarts[top], end: lineEnd(Math.min(lineCount - 1, top + screen - 1)) });
    let painted: Span | undefined;
    let paints = 0;
    let mostTokens = 0;
    // Down the whole novel three lines at a time (a mouse wheel), then back up a page at a time.
    const steps: number[] = [];
    for (let top = 0; top + screen < lineCount; top += 3) steps.push(top);
    for (let top = steps[steps.length - 1]; top >= 0; top -= screen) steps.push(top);
    for (const top of steps) {
      const sight = sightOf(top);
      if (!painted || needsRepaint(sight, painted, text.length)) {
        painted = spanToPaint(sight, text.length);
        paints++;
        const [first, end] = tokensOverlapping(tokens, painted.start, painted.end);
        mostTokens = Math.max(mostTokens, end - first);
      }
      assert.ok(
        painted.start <= sight.start && sight.end <= painted.end,
        `characters ${sight.start}-${sight.end} in sight, ${painted.start}-${painted.end} painted`,
      );
      // What comes into sight next is painted too, unless the document ends first.
      assert.ok(painted.end >= Math.min(text.length, sight.end + MARGIN_CHARS / 4), `characters after ${sight.end} painted ahead`);
      assert.ok(painted.start <= Math.max(0, sight.start - MARGIN_CHARS / 4), `characters before ${sight.start} painted ahead`);
    }
    assert.ok(paints * 10 < steps.length, `${paints} paints for ${steps.length} scrolls`);
    // A screen and two margins: thousands of tokens, not the whole novel's.
    assert.ok(mostTokens < 15_000, `at most ${mostTokens} tokens a paint, of ${tokens.length}`);
  });

  it('a screen of long wrapped lines (a paragraph a line) paints a margin of characters, not of lines', function () {
    // 2,000-character lines: a hundred lines either side would be 400,000 characters.
    const sight = { start: 1_000_000, end: 1_010_000 };
    const span = spanToPaint(sight, 2_000_000);
    assert.deepStrictEqual(span, { start: 1_000_000 - MARGIN_CHARS, end: 1_010_000 + MARGIN_CHARS });
  });

  it('paints from the top of an editor not laid out yet, and to the ends of a short document', function () {
    assert.deepStrictEqual(spanToPaint(undefined, 5_000_000), { start: 0, end: MARGIN_CHARS });
    assert.deepStrictEqual(spanToPaint({ start: 10, end: 300 }, 400), { start: 0, end: 400 });
    assert.strictEqual(needsRepaint(undefined, { start: 0, end: 10 }, 5000), false);
    // Painted to both ends: no scroll calls for another paint.
    assert.strictEqual(needsRepaint({ start: 0, end: 400 }, { start: 0, end: 400 }, 400), false);
  });

  it('a screen of more characters than the margin (a small font, a tall window) is painted whole around the cursor', function () {
    const sight = { start: 100_000, end: 130_000 };
    const span = spanToPaint(clipSight(sight, 115_000), 1_000_000);
    assert.ok(span.start <= sight.start && span.end >= sight.end, JSON.stringify(span));
    assert.strictEqual(needsRepaint(clipSight(sight, 115_000), span, 1_000_000), false);
  });

  it('a document that is one long line paints the part around the cursor, and follows the cursor along it (drive48 H1)', function () {
    // The novel without its line breaks: one line, in sight whole whatever part of it the editor shows.
    const line = { start: 0, end: text.length };
    const at = 600_000;
    const span = spanToPaint(clipSight(line, at), text.length);
    assert.ok(span.start <= at - MARGIN_CHARS && span.end >= at + MARGIN_CHARS, JSON.stringify(span));
    const [first, end] = tokensOverlapping(tokens, span.start, span.end);
    assert.ok(end - first < 20_000, `${end - first} tokens a paint, of ${tokens.length}`);
    // The cursor moved a little: no paint; far along the line: a paint there.
    assert.strictEqual(needsRepaint(clipSight(line, at + 1000), span, text.length), false);
    assert.strictEqual(needsRepaint(clipSight(line, at + 3 * MARGIN_CHARS), span, text.length), true);
    // The cursor out of sight: the part at the start of what is in sight; near the line's end: up to it.
    assert.deepStrictEqual(clipSight({ start: 1000, end: 900_000 }, 950_000), { start: 1000, end: 1000 + MARGIN_CHARS });
    assert.deepStrictEqual(clipSight(line, text.length), { start: text.length - MARGIN_CHARS, end: text.length });
    // A screen of ordinary lines is not clipped.
    assert.deepStrictEqual(clipSight({ start: 5000, end: 9000 }, undefined), { start: 5000, end: 9000 });
  });
});
