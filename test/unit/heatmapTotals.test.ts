/**
 * While a heat-map scores a document, the status bar takes its bits/char from the heat-map's
 * per-token scores instead of walking the same text with the same model (the two took turns
 * throwing the model's cached sequence away). That is only right if the heat-map's tokens and
 * contexts are the status bar's: the sums must be equal, for each model family, across windows.
 * Also: the status bar's scoring says how far it is (ScoreOptions.onScored).
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { LanguageModel } from '../../src/core/model';
import { scoreText } from '../../src/core/scoring';
import { chunkContextStart, scoreInChunks } from '../../src/editor/chunkedScoring';
import { heatmapStoppedMessage, scorableTokens, totalsOfScored } from '../../src/editor/heatmapTotals';
import { openGguf } from '../../src/node/gguf/ggufFile';
import { loadModel } from '../../src/node/modelLoader';
import { planRescore } from '../../src/editor/rescorePlan';
import { percentDone } from '../../src/vscode/metricsTooltip';
import { CORPUS, REPO } from './helpers';

/** The heat-map's arrays for the whole text, as TokenHeatmap.show fills them (token 0 is given). */
async function heatmapOf(model: LanguageModel, text: string, upTo?: number) {
  const tokens = model.tokenizer.encode(text, true, 0);
  const logProbs = new Float64Array(tokens.length);
  const ranks = new Int32Array(tokens.length);
  const contexts = new Int32Array(tokens.length);
  await scoreInChunks(
    model,
    tokens.map((t) => t.id),
    1,
    upTo ?? tokens.length,
    {
      targetMs: 1,
      onChunk: (start, r) => {
        logProbs.set(r.logProbs, start);
        ranks.set(r.ranks, start);
        for (let i = start; i < start + r.logProbs.length; i++) contexts[i] = i - chunkContextStart(model, i);
      },
    },
  );
  return { tokens, logProbs, ranks, contexts };
}

async function sameSums(model: LanguageModel, text: string, tolerance: number): Promise<void> {
  let reported = 0;
  let pieces = 0;
  const own = await scoreText(model, text, {
    pieceMs: 1,
    onScored: (n) => {
      reported += n;
      pieces++;
    },
  });
  const h = await heatmapOf(model, text);
  const totals = totalsOfScored(h.tokens, h.logProbs, h.ranks, model.bosId, model.unkId);
  assert.ok(totals, 'every token of the heat-map is scored');
  const summary = totals.summary(own.summary.chars);
  assert.strictEqual(summary.tokens, own.summary.tokens, 'tokens');
  assert.strictEqual(summary.oov, own.summary.oov, 'unknown tokens');
  assert.ok(
    Math.abs(summary.logProbNats - own.summary.logProbNats) <= tolerance * Math.max(1, Math.abs(own.summary.logProbNats)),
    `Σ ln p: ${summary.logProbNats} from the heat-map, ${own.summary.logProbNats} by scoreText`,
  );
  assert.strictEqual(summary.bitsPerChar.toFixed(2), own.summary.bitsPerChar.toFixed(2), 'the number the item shows');
  // Progress: every token counted once, in more than one step.
  assert.strictEqual(reported, h.tokens.length - 1, 'tokens reported as scored');
  assert.ok(pieces > 1, `${pieces} progress steps`);
  // A heat-map not yet done gives no number.
  const part = await heatmapOf(model, text, Math.floor(h.tokens.length / 2));
  assert.strictEqual(totalsOfScored(part.tokens, part.logProbs, part.ranks, model.bosId, model.unkId), undefined);
}

describe('the status bar’s number from a heat-map’s scores', function () {
  this.timeout(180000);
  const text = fs.readFileSync(path.join(CORPUS, 'valid', 'poirot_investigates.txt'), 'utf8').slice(0, 3000);

  it('an n-gram model (ngram-classics): exactly', async () => {
    await sameSums(await loadModel('ngram-classics'), text, 0);
  });

  it('a neural model (gpt-classics), over several windows', async () => {
    const lm = await loadModel('gpt-classics');
    try {
      assert.ok(lm.tokenizer.encode(text, true).length > 2 * lm.info.contextLength, 'several windows');
      await sameSums(lm, text, 1e-6);
    } finally {
      await lm.dispose?.();
    }
  });

  it('a heat-map whose scores an edit moved into other windows gives no number (gpt-classics): they are not the ones lmp score sums', async () => {
    const lm = await loadModel('gpt-classics');
    try {
      const sameContext = (contexts: Int32Array) => (i: number) => contexts[i] === i - chunkContextStart(lm, i);
      const h = await heatmapOf(lm, text);
      assert.ok(totalsOfScored(h.tokens, h.logProbs, h.ranks, lm.bosId, lm.unkId, sameContext(h.contexts)), 'as scored: a number');
      // A word typed near the start, the heat-map re-scored as TokenHeatmap.rescore does: one window after the edit.
      const edited = text.slice(0, 40) + ' indeed' + text.slice(40);
      const tokens = lm.tokenizer.encode(edited, true, 0);
      const plan = planRescore(h.tokens, tokens, lm.info.contextLength);
      assert.ok(plan.shift !== 0 && plan.to < tokens.length, 'tokens moved, and some keep their scores');
      const logProbs = new Float64Array(tokens.length);
      const ranks = new Int32Array(tokens.length);
      const contexts = new Int32Array(tokens.length);
      for (let i = 0; i < tokens.length; i++) {
        if (i >= plan.from && i < plan.to) continue;
        const old = i < plan.from ? i : i + plan.shift;
        logProbs[i] = h.logProbs[old];
        ranks[i] = h.ranks[old];
        contexts[i] = h.contexts[old];
      }
      await scoreInChunks(
        lm,
        tokens.map((t) => t.id),
        Math.max(1, plan.from),
        plan.to,
        {
          onChunk: (start, r) => {
            logProbs.set(r.logProbs, start);
            ranks.set(r.ranks, start);
            for (let i = start; i < start + r.logProbs.length; i++) contexts[i] = i - chunkContextStart(lm, i);
          },
        },
      );
      const kept = totalsOfScored(tokens, logProbs, ranks, lm.bosId, lm.unkId);
      const own = (await scoreText(lm, edited)).summary;
      assert.ok(kept && Math.abs(kept.summary(own.chars).logProbNats - own.logProbNats) > 1e-6, 'the kept scores sum to another number');
      assert.strictEqual(totalsOfScored(tokens, logProbs, ranks, lm.bosId, lm.unkId, sameContext(contexts)), undefined);
    } finally {
      await lm.dispose?.();
    }
  });

  it('a GGUF model on llama.cpp (tiny Llama, F32)', async () => {
    const lm = await openGguf(path.join(REPO, 'test', 'fixtures', 'models', 'gguf', 'tiny-llama-f32.gguf'), 'tiny-llama', { threads: 1 });
    try {
      await sameSums(lm, text.slice(0, 1500), 1e-6);
    } finally {
      await lm.dispose?.();
    }
  });

  it('the heat-map counts the same tokens while running and after Stop: the first token of a document has no context', async () => {
    const model = await loadModel('ngram-classics');
    const tokens = model.tokenizer.encode(text, true, 0).length;
    // The running notification's total: the tokens of the first scoring's range, [1, tokens).
    const h = await heatmapOf(model, text);
    let running = 0;
    for (let i = 0; i < h.ranks.length; i++) if (h.ranks[i] > 0) running++;
    assert.strictEqual(scorableTokens(tokens, false), running);
    assert.match(heatmapStoppedMessage(336, scorableTokens(tokens, false)), new RegExp(`the 336 of ${running.toLocaleString('en-US')} tokens scored`));
    // A selection after text: its first token is predicted from that text.
    assert.strictEqual(scorableTokens(tokens, true), tokens);
    assert.strictEqual(heatmapStoppedMessage(336, 104715), 'LM: token probabilities stopped; the 336 of 104,715 tokens scored keep their colours.');
  });

  it('the item’s percentage: whole percents, never 100 % before the end', () => {
    assert.strictEqual(percentDone(0, 9876), '0%');
    assert.strictEqual(percentDone(1232, 109946), '1%');
    assert.strictEqual(percentDone(9875, 9876), '99%');
    assert.strictEqual(percentDone(5, 0), '99%');
  });
});
