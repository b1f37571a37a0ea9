import * as assert from 'assert';
import { CancelledError } from '../../src/core/errors';
import { runInTurn } from '../../src/editor/modelsInTurn';

describe('runInTurn: Compare Models scoring each model in turn', () => {
  const entries = ['gpt', 'ngram', 'trained'].map((label) => ({ label }));

  it('a cancel while the second model scores keeps the first one’s result and names those left out', async () => {
    const signal = { cancelled: false };
    const ran: string[] = [];
    const outcome = await runInTurn(
      entries,
      async (e) => {
        ran.push(e.label);
        if (e.label === 'ngram') {
          signal.cancelled = true; // the user presses Cancel while this model scores
          throw new CancelledError();
        }
        return `${e.label} scored`;
      },
      signal,
    );
    assert.deepStrictEqual(outcome, { results: ['gpt scored'], failures: [], notScored: ['ngram', 'trained'] });
    assert.deepStrictEqual(ran, ['gpt', 'ngram'], 'no model runs after the cancel');
  });

  it('a model that finishes after the cancel was asked for is kept; the rest are not run', async () => {
    const signal = { cancelled: false };
    const outcome = await runInTurn(
      entries,
      async (e) => {
        if (e.label === 'gpt') signal.cancelled = true;
        return e.label;
      },
      signal,
    );
    assert.deepStrictEqual(outcome, { results: ['gpt'], failures: [], notScored: ['ngram', 'trained'] });
  });

  it('a failing model is a failure of its own and the others still run; no cancel leaves nothing unscored', async () => {
    const warned: string[] = [];
    const outcome = await runInTurn(
      entries,
      async (e) => {
        if (e.label === 'ngram') throw new Error('corrupt file');
        return e.label;
      },
      { cancelled: false },
      (e, message) => warned.push(`${e.label} ${message}`),
    );
    assert.deepStrictEqual(outcome, { results: ['gpt', 'trained'], failures: ['ngram: corrupt file'], notScored: [] });
    assert.deepStrictEqual(warned, ['ngram corrupt file']);
  });

  it('names the models left out and the failures as it is told to (a file by its name, not its path)', async () => {
    const files = ['/models/big5.arpa', '/models/corrupt.arpa', '/models/small3.ngram'].map((label) => ({ label }));
    const signal = { cancelled: false };
    const outcome = await runInTurn(
      files,
      async (e) => {
        if (e.label.includes('corrupt')) throw new Error('line 3: not an ARPA file');
        signal.cancelled = e.label.includes('big5');
        return e.label;
      },
      signal,
      undefined,
      (e) => e.label.split('/').pop()!,
    );
    assert.deepStrictEqual(outcome, { results: ['/models/big5.arpa'], failures: [], notScored: ['corrupt.arpa', 'small3.ngram'] });
    const failed = await runInTurn(
      files.slice(1, 2),
      async () => assert.fail('corrupt'),
      { cancelled: false },
      undefined,
      (e) => e.label.split('/').pop()!,
    );
    assert.match(failed.failures[0], /^corrupt\.arpa: /);
  });

  it('cancelled before the first model: nothing scored, every model named as not scored', async () => {
    const outcome = await runInTurn(entries, async () => assert.fail('no model runs'), { cancelled: true });
    assert.deepStrictEqual(outcome, { results: [], failures: [], notScored: ['gpt', 'ngram', 'trained'] });
  });

  it('an error that comes from the cancel (not a CancelledError) counts as the cancel, not as a failure', async () => {
    const signal = { cancelled: false };
    const outcome = await runInTurn(
      entries,
      async (e) => {
        if (e.label === 'gpt') return e.label;
        signal.cancelled = true;
        throw new Error('the engine was stopped');
      },
      signal,
    );
    assert.deepStrictEqual(outcome, { results: ['gpt'], failures: [], notScored: ['ngram', 'trained'] });
  });
});
