/**
 * The status bar's number for a selection inside a running heat-map waits only while the
 * heat-map still has some of the selection's tokens to score (hostile31): from a heat-map of a
 * real text scored piece by piece, as the heat-map fills its ranks.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { LanguageModel } from '../../src/core/model';
import { scoreInChunks } from '../../src/editor/chunkedScoring';
import { scoredUpTo, selectionWaitsForRun } from '../../src/editor/heatmapFrontier';
import { loadModel } from '../../src/node/modelLoader';
import { CORPUS } from './helpers';

describe('heat-map frontier: how far a running heat-map has scored, and who waits for it', function () {
  this.timeout(120_000);
  let model: LanguageModel;
  before(async () => (model = await loadModel('gpt-classics')));
  after(() => model?.dispose?.());

  it('follows the pieces of a real heat-map: a selection behind the frontier is scored at once, one ahead of it waits', async function () {
    const text = fs.readFileSync(path.join(CORPUS, 'valid', 'poirot_investigates.txt'), 'utf8').slice(20_000, 26_000);
    const tokens = model.tokenizer.encode(text, true);
    const ranks = new Int32Array(tokens.length);
    const ids = tokens.map((t) => t.id);
    // A text of its own: token 0 is context, never scored.
    assert.strictEqual(scoredUpTo(tokens, ranks, 1, 0), tokens[1].start);
    const frontiers: number[] = [];
    await scoreInChunks(model, ids, 1, tokens.length, {
      onChunk: (start, r) => {
        ranks.set(r.ranks, start);
        const to = scoredUpTo(tokens, ranks, 1, 0);
        frontiers.push(to);
        const next = start + r.ranks.length;
        assert.strictEqual(to, next < tokens.length ? tokens[next].start : text.length, `after the piece ending at token ${next}`);
        const run = { busy: next < tokens.length, start: 0, end: text.length, scoredTo: to };
        // A selection that ends before the frontier: at once; one that reaches past it: waits.
        assert.strictEqual(selectionWaitsForRun(run, 0, Math.max(1, to - 1)), false);
        if (run.busy) assert.strictEqual(selectionWaitsForRun(run, to - 1, to + 10), true);
      },
    });
    assert.ok(frontiers.length >= 2, `scored in ${frontiers.length} pieces: the frontier moved piece by piece`);
    assert.ok(
      frontiers.every((f, i) => i === 0 || f > frontiers[i - 1]),
      'the frontier only moves on',
    );
  });

  it('a hole in the ranks (a piece left to score after an edit) holds the frontier at its first token', function () {
    const tokens = [0, 4, 9, 15, 20].map((start) => ({ start, length: start === 20 ? 3 : 5 }));
    assert.strictEqual(scoredUpTo(tokens, [0, 3, 0, 7, 1], 1, 0), 9);
    assert.strictEqual(scoredUpTo(tokens, [5, 3, 2, 7, 1], 0, 0), 23, 'all scored: the end of the last token');
    assert.strictEqual(scoredUpTo([], [], 0, 40), 40, 'no tokens yet (a server heat-map before its first answer): the range start');
  });

  it('never waits for a run that is done, or whose range the selection does not meet (drive21 L4)', function () {
    const run = { busy: true, start: 100, end: 500, scoredTo: 100 };
    assert.strictEqual(selectionWaitsForRun(run, 120, 140), true);
    assert.strictEqual(selectionWaitsForRun({ ...run, busy: false }, 120, 140), false);
    assert.strictEqual(selectionWaitsForRun(run, 20, 100), false, 'ends where the range starts');
    assert.strictEqual(selectionWaitsForRun(run, 500, 600), false, 'starts where the range ends');
    assert.strictEqual(selectionWaitsForRun(run, 20, 101), true, 'meets the range, not yet scored');
  });
});
