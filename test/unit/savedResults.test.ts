/** The playground's results as kept between sessions and in query files: read back whole, or refused with the field named. */
import * as assert from 'assert';
import type { Completion, GeneratedToken } from '../../src/core/generation';
import { BranchTree } from '../../src/playground/branchTree';
import { SEED_MAX, SEED_MIN } from '../../src/core/random';
import { DEFAULT_SETTINGS, parseQuery, serializeQuery } from '../../src/playground/query';
import { buildRequests } from '../../src/playground/requests';
import { MAX_SAVED_RESULTS_CHARS, decodeResults, describeResults, encodeResults, type SavedResults } from '../../src/playground/savedResults';

const tok = (id: number, text: string, logProb: number, extra: Partial<GeneratedToken> = {}): GeneratedToken => ({
  id,
  text,
  logProb,
  rank: 1,
  alternatives: [
    { id, text, logProb },
    { id: id + 100, text: `${text}'`, logProb: logProb - 1 },
  ],
  ...extra,
});

function results(): SavedResults {
  const tokens = [tok(1, ' cat', -0.5), tok(2, ' sat', -Infinity), tok(3, ' é', -2, { bytes: [0xc3] }), tok(4, '\n', -0.1)];
  const completion: Completion = { text: ' cat sat é\n', tokens, logProb: -Infinity, finishReason: 'length', seed: 0, index: 0 };
  const tree = new BranchTree(tokens, 'length');
  const b1 = tree.branchFrom(0, 1, tokens[1].alternatives![1]).branch;
  tree.finish(b1.id, [tok(9, ' on', -1)], 'eos');
  const b2 = tree.branchFrom(b1.id, 2, { id: 77, text: ' in', logProb: -3 }).branch;
  tree.append(b2.id, [tok(10, ' a', -0.2)]);
  return {
    cards: [
      {
        request: {
          bindings: { x: 'a' },
          model: 'ngram-classics',
          prompt: 'the',
          options: { maxTokens: 4, temperature: Infinity, topKPerToken: 2, seed: 3, stopSequences: ['\n\n'] },
        },
        completions: [{ completion, branches: tree.saved() }],
      },
    ],
    differ: ['x'],
    chosen: { card: 0, completion: 0, branch: 2, index: 3 },
  };
}

describe('saved playground results', () => {
  it('come back whole: infinities and NaN, byte tokens, the tree of branches (paths and path probabilities), the chosen token', () => {
    const r = results();
    const back = decodeResults(encodeResults(r), 'state');
    assert.deepStrictEqual(back, r);
    assert.strictEqual(back.cards[0].request.options.temperature, Infinity);
    const saved = r.cards[0].completions[0];
    const before = BranchTree.restore(saved.completion.tokens, 'length', saved.branches);
    const after = BranchTree.restore(back.cards[0].completions[0].completion.tokens, 'length', back.cards[0].completions[0].branches);
    assert.strictEqual(after.size, 3);
    for (const id of [0, 1, 2]) {
      assert.deepStrictEqual(after.path(id), before.path(id));
      assert.strictEqual(after.pathLogProb(id), before.pathLogProb(id));
    }
    assert.deepStrictEqual(after.divergence(2), before.divergence(2));
    assert.strictEqual(describeResults(back), '1 result and 2 branches');
  });

  it('go into a query file and out again; a bad file is refused naming the field', () => {
    const query = { prompt: 'the', environments: 'x: [a]', settings: { ...DEFAULT_SETTINGS, model: 'ngram-classics' } };
    const text = serializeQuery({ ...query, results: encodeResults(results()) });
    const read = parseQuery(text, 'q.lmquery.json');
    assert.deepStrictEqual({ ...read, results: undefined }, { ...query, results: undefined });
    assert.deepStrictEqual(decodeResults(read.results!, 'q'), results());
    // Without results, the file is as before.
    assert.ok(!('results' in parseQuery(serializeQuery(query))));
    const broken = (edit: (json: { results: SavedResults }) => void) => {
      const json = JSON.parse(text) as { results: SavedResults };
      edit(json);
      return () => parseQuery(JSON.stringify(json), 'q.lmquery.json');
    };
    assert.throws(
      broken((j) => ((j.results.cards[0].completions[0].completion.tokens[0] as unknown as { logProb: string }).logProb = 'much')),
      /q\.lmquery\.json: results\.cards\[0\]\.completions\[0\]\.completion\.tokens\[0\]\.logProb must be a number/,
    );
    assert.throws(
      broken((j) => (j.results.cards[0].completions[0].branches[1].parent = 5)),
      /results\.cards\[0\]\.completions\[0\]\.branches\[1\]\.parent must be an earlier branch/,
    );
    assert.throws(
      broken((j) => (j.results.cards[0].completions[0].branches[0].at = 9)),
      /results\.cards\[0\]\.completions\[0\]\.branches\[0\]\.at is not a token of branch 0's own/,
    );
    assert.throws(
      broken((j) => (j.results.cards[0].completions[0].completion.tokens[2].bytes = [300])),
      /bytes\[0\] must be a byte/,
    );
    assert.throws(
      broken((j) => (j.results.cards[0].request.options.maxTokens = -1)),
      /request\.options\.maxTokens must be a whole number/,
    );
    assert.throws(
      broken((j) => (j.results.cards[0].completions[0].completion.finishReason = 'tired' as 'eos')),
      /finishReason must be "length", "stop" or "eos"/,
    );
    // A chosen token that is not in the results is dropped, not an error.
    const json = JSON.parse(text) as { results: SavedResults };
    json.results.chosen = { card: 0, completion: 0, branch: 2, index: 40 };
    assert.strictEqual(decodeResults(parseQuery(JSON.stringify(json)).results!, 'q').chosen, undefined);
  });

  it('are refused past the size kept', () => {
    const big = `{"cards":[],"differ":["${'x'.repeat(MAX_SAVED_RESULTS_CHARS)}"]}`;
    assert.throws(() => decodeResults(big, 'state'), /state: results larger than 4 MiB/);
  });
});

describe('the seed box', () => {
  it('takes the seeds lmp generate --seed takes, no more: a seed past 2^32 would reproduce a smaller one under its own name', () => {
    const query = (seed: string) => ({ prompt: 'p', environments: '', settings: { ...DEFAULT_SETTINGS, model: 'ngram-classics', seed } });
    assert.strictEqual(buildRequests(query('4294967295'))[0].options.seed, SEED_MAX);
    assert.strictEqual(buildRequests(query('-2147483648'))[0].options.seed, SEED_MIN);
    for (const seed of ['4294967296', '-2147483649', '9007199254740991'])
      assert.throws(() => buildRequests(query(seed)), /seed must be a whole number from -2147483648 to 4294967295 \(as lmp generate --seed\)/);
  });
});
