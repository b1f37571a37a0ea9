/**
 * The status bar's scoring asks the model in pieces (ScoreOptions.pieceMs), so that a hover waits
 * behind one piece and not behind a whole document (a first-time user's GGUF drive: minutes). The
 * numbers must be those of one request, for each model family, across windows.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { CancelSignal } from '../../src/core/errors';
import type { LanguageModel } from '../../src/core/model';
import { scoreText } from '../../src/core/scoring';
import { openGguf } from '../../src/node/gguf/ggufFile';
import { loadModel } from '../../src/node/modelLoader';
import { CORPUS, REPO } from './helpers';

/** The model, with its sequenceLogProbs calls counted and a hover asked between the first two. */
function counted(lm: LanguageModel): { model: LanguageModel; calls: { n: number }; hovers: Promise<Float64Array>[] } {
  const calls = { n: 0 };
  const hovers: Promise<Float64Array>[] = [];
  const model = Object.create(lm, {
    sequenceLogProbs: {
      value: (ids: readonly number[], from: number, signal?: CancelSignal) => {
        if (++calls.n === 2) hovers.push(lm.nextLogProbs(ids.slice(0, 5)));
        return lm.sequenceLogProbs(ids, from, signal);
      },
    },
  }) as LanguageModel;
  return { model, calls, hovers };
}

async function samePieces(lm: LanguageModel, text: string, tolerance: number): Promise<void> {
  const one = counted(lm);
  const whole = await scoreText(one.model, text);
  await Promise.all(one.hovers);
  const { model, calls, hovers } = counted(lm);
  const pieces = await scoreText(model, text, { pieceMs: 1 });
  // One request a window without pieces; with them, more.
  assert.ok(calls.n > one.calls.n, `${calls.n} requests in pieces, ${one.calls.n} without, for ${whole.tokens.length} tokens`);
  assert.strictEqual(hovers.length, 1);
  const hover = await hovers[0];
  assert.ok(hover.length > 0, 'the hover between two pieces was answered');
  assert.strictEqual(pieces.tokens.length, whole.tokens.length);
  pieces.tokens.forEach((t, i) => {
    const w = whole.tokens[i];
    assert.strictEqual(t.id, w.id, `token ${i}`);
    assert.ok(Math.abs(t.logProb - w.logProb) <= tolerance, `token ${i}: ${t.logProb} in pieces, ${w.logProb} whole`);
  });
  assert.ok(Math.abs(pieces.summary.bitsPerChar - whole.summary.bitsPerChar) <= tolerance, 'bits per character');
}

describe('scoring in pieces (the status bar’s bits per character)', function () {
  this.timeout(180000);
  const text = fs.readFileSync(path.join(CORPUS, 'valid', 'poirot_investigates.txt'), 'utf8').slice(0, 3000);

  it('a neural model (gpt-classics): the numbers of one request, over several windows', async () => {
    const lm = await loadModel('gpt-classics');
    try {
      assert.ok(lm.tokenizer.encode(text, true).length > 2 * lm.info.contextLength, 'several windows');
      // Pieces run on the prefix cache: a batch of other rows may round the last bit differently.
      await samePieces(lm, text, 1e-5);
    } finally {
      await lm.dispose?.();
    }
  });

  it('a GGUF model on llama.cpp (tiny Llama, F32)', async () => {
    const lm = await openGguf(path.join(REPO, 'test', 'fixtures', 'models', 'gguf', 'tiny-llama-f32.gguf'), 'tiny-llama', { threads: 1 });
    try {
      await samePieces(lm, text.slice(0, 1500), 1e-5);
    } finally {
      await lm.dispose?.();
    }
  });

  it('an n-gram model (ngram-classics): exactly', async () => {
    const lm = await loadModel('ngram-classics');
    await samePieces(lm, text, 0);
  });
});
