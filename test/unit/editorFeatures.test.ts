import * as assert from 'assert';
import * as path from 'path';
import { CancelledError } from '../../src/core/errors';
import { generate } from '../../src/core/generation';
import type { LanguageModel } from '../../src/core/model';
import { scoreText, sequenceScoresFromDistributions } from '../../src/core/scoring';
import { AdaptiveDelay } from '../../src/editor/adaptiveDelay';
import { chunkContextStart, scoreInChunks } from '../../src/editor/chunkedScoring';
import { cumulativeSurprisal, hiddenUnder, sameCurveAs } from '../../src/editor/cumulativeSurprisal';
import { bucketOf, type HeatmapSettings } from '../../src/editor/heatmapBuckets';
import { InlineCompletionEngine, type InlineOptions, type InlineRequest } from '../../src/editor/inlineEngine';
import { planRescore } from '../../src/editor/rescorePlan';
import { applyStopRules, repeatsTextAfterCursor } from '../../src/editor/stopRules';
import { CACHE_TAIL, SuggestionCache } from '../../src/editor/suggestionCache';
import { loadModel } from '../../src/node/modelLoader';
import { loadHuggingFaceFolder } from '../../src/node/neuralLoader';
import { NgramTrainingJob } from '../../src/node/trainingHost';
import { ngramFromBytes } from '../../src/core/ngram/ngramFromBytes';
import { splitHeldOut } from '../../src/editor/heldOut';
import { ONNX_FIXTURES, REPO } from './helpers';

const TEXT =
  'It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife.\n' +
  'However little known the feelings or views of such a man may be on his first entering a neighbourhood, this truth is so well fixed.';

describe('inline completions: debounce, cache, stop rules', () => {
  it('waits at least the configured delay, longer when the model is slower, capped at 1 s', () => {
    let base = 150;
    const d = new AdaptiveDelay(() => base);
    assert.strictEqual(d.delayMs, 150);
    for (const ms of [20, 30, 25]) d.record(ms);
    assert.strictEqual(d.delayMs, 150, 'a fast model does not shorten the configured delay');
    for (const ms of [400, 420, 380, 410]) d.record(ms);
    assert.strictEqual(d.delayMs, 380, 'median of the last latencies');
    for (let i = 0; i < 20; i++) d.record(5000);
    assert.strictEqual(d.delayMs, 1000);
    base = 0;
    const fresh = new AdaptiveDelay(() => base);
    assert.strictEqual(fresh.delayMs, 0);
  });

  it('reuses a suggestion while the user types its own characters, and only then', () => {
    const c = new SuggestionCache();
    const before = 'x'.repeat(300) + 'the mouse ate';
    c.set('doc', 1000, before, ' the cheese');
    assert.strictEqual(c.lookup('doc', 1000, before), ' the cheese');
    assert.strictEqual(c.lookup('doc', 1002, before + ' t'), 'he cheese');
    assert.strictEqual(c.lookup('doc', 1002, before + ' x'), undefined, 'typed something else');
    assert.strictEqual(c.lookup('doc', 1011, before + ' the cheese'), undefined, 'typed all of it');
    assert.strictEqual(c.lookup('doc', 999, before.slice(0, -1)), undefined, 'moved back');
    assert.strictEqual(c.lookup('other', 1000, before), undefined);
    // The place is recognised by the last CACHE_TAIL characters before the cursor: an edit further
    // back keeps the suggestion, an edit within them drops it.
    const edited = (i: number) => before.slice(0, i) + '#' + before.slice(i + 1);
    assert.ok(before.length > CACHE_TAIL);
    assert.strictEqual(c.lookup('doc', 1000, edited(before.length - CACHE_TAIL - 1)), ' the cheese');
    assert.strictEqual(c.lookup('doc', 1000, edited(before.length - CACHE_TAIL)), undefined);
  });

  it('cuts suggestions at the line end and after N words, and drops ones that repeat the text after the cursor', () => {
    assert.strictEqual(applyStopRules(' the cheese.\nThen', { stopAtLineEnd: true, maxWords: 0 }), ' the cheese.');
    assert.strictEqual(applyStopRules(' one two three four', { stopAtLineEnd: true, maxWords: 2 }), ' one two');
    assert.strictEqual(applyStopRules('\nnext line', { stopAtLineEnd: true, maxWords: 0 }), '');
    assert.strictEqual(applyStopRules('a\nb c', { stopAtLineEnd: false, maxWords: 2 }), 'a\nb');
    assert.ok(repeatsTextAfterCursor(' the', ' the cheese'));
    assert.ok(!repeatsTextAfterCursor(' a', ' the cheese'));
    assert.ok(!repeatsTextAfterCursor('x', ''));
  });
});

describe('inline completion engine', function () {
  this.timeout(60_000);
  let model: LanguageModel;
  before(async () => {
    model = await loadModel('ngram-classics');
  });

  const options: InlineOptions = { debounceMs: 30, maxTokens: 16, temperature: 0, stopAtLineEnd: true, maxWords: 4, stopSequences: [] };
  const request = (prompt: string, extra: Partial<InlineRequest> = {}): InlineRequest => ({
    doc: 'd',
    offset: prompt.length,
    prompt,
    atStart: true,
    textBefore: prompt,
    after: '',
    manual: false,
    ...extra,
  });
  const never = new AbortController().signal;
  /** The promise, and whether it has settled: read after the microtasks that settle it have run. */
  const watched = <T>(p: Promise<T>) => {
    const w = { settled: false, promise: p.finally(() => (w.settled = true)) };
    return w;
  };
  /** Lets every pending microtask run (a macrotask later), before any timer can fire. */
  const afterMicrotasks = () => new Promise<void>((resolve) => setImmediate(resolve));

  it('suggests the greedy continuation, healing a word cut by the cursor', async () => {
    const engine = new InlineCompletionEngine(
      async () => model,
      () => options,
    );
    const full = await engine.suggest(request('the mouse ate the'), never);
    const [greedy] = await generate(model, 'the mouse ate the', { maxTokens: 16, temperature: 0, stopSequences: ['\n'], seed: 0, noLeadingLineBreak: true });
    assert.strictEqual(full?.text, applyStopRules(greedy.text, options));
    // "the mou": the model sees "the" and a word starting with " mou", not an unknown " mou".
    const healed = await engine.suggest(request('the little mou', { doc: 'e' }), never);
    assert.ok(healed && /^[a-z]/.test(healed.text), `continues the word: ${JSON.stringify(healed?.text)}`);
    assert.ok(
      model.tokenizer.encode('the little mou' + healed!.text.split(' ')[0], true).every((t) => t.id !== model.unkId),
      `spells a known word: mou${healed!.text}`,
    );
  });

  it('answers from the cache while the user types the suggestion', async () => {
    const engine = new InlineCompletionEngine(
      async () => model,
      () => options,
    );
    const first = await engine.suggest(request('she said that'), never);
    assert.ok(first && first.text.length > 2 && !first.fromCache);
    const typed = 'she said that' + first.text.slice(0, 2);
    const second = await engine.suggest(request(typed), never);
    assert.deepStrictEqual([second?.text, second?.fromCache], [first.text.slice(2), true]);
  });

  it('keeps one request in flight per document: a newer one cancels the older', async () => {
    let calls = 0;
    const counting: LanguageModel = Object.create(model, {
      nextLogProbs: {
        value: (ctx: readonly number[], signal?: { cancelled: boolean }) => {
          calls++;
          return model.nextLogProbs(ctx, signal);
        },
      },
    });
    const engine = () =>
      new InlineCompletionEngine(
        async () => counting,
        () => options,
      );
    const alone = await engine().suggest(request('the mouse ate'), never);
    const callsAlone = calls;
    assert.ok(alone && callsAlone > 0);
    calls = 0;
    const both = engine();
    const older = watched(both.suggest(request('the mouse'), never));
    const newer = watched(both.suggest(request('the mouse ate'), never));
    await afterMicrotasks();
    // The newer request ended the older one at once, in its debounce, before the model ran.
    assert.ok(older.settled && !newer.settled, 'the older request still waits after a newer one came');
    assert.strictEqual(await older.promise, undefined, 'the superseded request gives nothing');
    assert.strictEqual(calls, 0);
    assert.deepStrictEqual((await newer.promise)?.text, alone.text);
    assert.strictEqual(calls, callsAlone, 'the model ran for the newer request only');
  });

  it('gives nothing when cancelled during the debounce, at once, and asks at once when triggered by hand', async () => {
    const engine = new InlineCompletionEngine(
      async () => model,
      () => ({ ...options, debounceMs: 5000 }),
    );
    const cancel = new AbortController();
    const pending = watched(engine.suggest(request('the mouse'), cancel.signal));
    await afterMicrotasks();
    assert.ok(!pending.settled, 'waits for the debounce');
    cancel.abort();
    await afterMicrotasks();
    // Ordering, not timing: settled before any timer could fire, so not at the 5 s debounce.
    assert.ok(pending.settled, 'still waiting for the debounce after the cancellation');
    assert.strictEqual(await pending.promise, undefined);
    const aborted = new AbortController();
    aborted.abort();
    assert.strictEqual(await engine.suggest(request('the mouse', { doc: 'c' }), aborted.signal), undefined, 'cancelled before it was asked');
    const manual = await engine.suggest(request('the mouse', { manual: true, doc: 'm' }), never);
    assert.ok(manual && manual.text.length > 0);
  });

  it('drops a suggestion that only repeats the text after the cursor', async () => {
    const engine = new InlineCompletionEngine(
      async () => model,
      () => options,
    );
    const plain = await engine.suggest(request('the mouse ate', { doc: 'a' }), never);
    assert.ok(plain);
    const repeated = await engine.suggest(request('the mouse ate', { doc: 'b', after: plain.text + ' and more' }), never);
    assert.strictEqual(repeated, undefined);
  });

  it('shows in ghost text only what Complete Selection would insert: no control characters, no broken bytes, a lone \\r as a line break (drive8)', async () => {
    const llama = await loadHuggingFaceFolder(path.join(ONNX_FIXTURES, 'tiny-llama'), 'tiny-llama', { device: 'native', dtype: { setting: 'fp32' } });
    try {
      const ids = (text: string) => llama.tokenizer.encode(text, false).map((t) => t.id);
      /** The token whose bytes are `b` alone (the tokenizer's byte fallback). */
      const byte = (b: number) => {
        for (let id = 0; id < llama.vocabSize; id++) {
          const bytes = llama.tokenizer.tokenBytes!(id);
          if (bytes.length === 1 && bytes[0] === b) return id;
        }
        throw new Error(`no token for the byte 0x${b.toString(16)}`);
      };
      // What a random-weights byte-level model generates (drive8): SYN inside a word, the first byte
      // of a three-byte character that never completes, then a carriage return with no line feed.
      const script = (tail: number[]) => [...ids(' mou'), byte(0x16), ...ids('se ate'), ...tail, ...ids(' the cheese')];
      const scripted = (tail: number[]): LanguageModel => {
        const next = script(tail);
        let step = 0;
        const nextLogProbs = async () => {
          const row = new Float64Array(llama.vocabSize).fill(-Infinity);
          row[step < next.length ? next[step++] : llama.eosId!] = 0;
          return row;
        };
        return Object.create(llama, {
          nextLogProbs: { value: nextLogProbs },
          nextLogProbsInto: { value: undefined },
          warmContext: { value: undefined },
          generateInEngine: { value: undefined },
          // Its steps are this script's, not the model's own.
          holdForGeneration: { value: undefined },
        }) as LanguageModel;
      };
      const suggest = (tail: number[]) =>
        new InlineCompletionEngine(
          async () => scripted(tail),
          () => ({ ...options, maxWords: 0, maxTokens: 40 }),
        ).suggest(request('A story.', { manual: true }), never);
      assert.strictEqual((await suggest([byte(0xe2)]))?.text, ' mouse ate the cheese', 'the SYN and the unfinished character are left out');
      assert.strictEqual((await suggest([byte(0x0d)]))?.text, ' mouse ate', 'the lone carriage return ends the line');
    } finally {
      llama.dispose?.();
    }
  });
});

describe('n-gram training in a worker thread (Train N-gram Model on Workspace)', function () {
  this.timeout(60_000);

  const utf8 = (text: string) => new TextEncoder().encode(text);

  it('keeps a tenth of each file for held-out scoring, at a line start', () => {
    const text = Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n');
    const { train, heldOut } = splitHeldOut(utf8(text));
    assert.strictEqual(train + heldOut, text);
    assert.ok(heldOut.startsWith('line 18') || heldOut.startsWith('line 17'), heldOut);
    assert.deepStrictEqual(splitHeldOut(utf8('one line')), { train: 'one line', heldOut: '' });
  });

  it('trains on texts sent to the worker, scores the held-out part, and returns a loadable model', async () => {
    const job = new NgramTrainingJob(3);
    const parts = [TEXT, TEXT.replace(/truth/g, 'fact')].map((t) => splitHeldOut(utf8(t)));
    let tokens = 0;
    for (const p of parts) tokens = await job.add(p.train, p.heldOut);
    assert.ok(tokens > 20);
    const done = await job.finish({ name: 'test-3gram', tokenizer: 'editor', order: 3 });
    const model = ngramFromBytes(done.bytes, 'test', 'test');
    assert.strictEqual(model.info.name, 'test-3gram');
    // The held-out figures recomputed without the scoring code: each held-out text from its start
    // (<s> given), every token looked up in the returned model's table after its n-1 tokens.
    const expected = { logProb: 0, tokens: 0, chars: 0 };
    for (const p of parts) {
      assert.ok(p.heldOut.trim().length > 0);
      const ids = model.tokenizer.encode(p.heldOut, true).map((t) => t.id);
      assert.strictEqual(ids[0], model.bosId);
      for (let i = 1; i < ids.length; i++) expected.logProb += model.ngram.logProb10(ids.slice(Math.max(0, i - 2), i), ids[i]) * Math.LN10;
      expected.tokens += ids.length - 1;
      expected.chars += [...p.heldOut].length;
    }
    assert.strictEqual(done.heldOut.tokens, expected.tokens);
    assert.strictEqual(done.heldOut.chars, expected.chars);
    assert.ok(Math.abs(done.heldOut.logProb - expected.logProb) <= 1e-12 * -expected.logProb, `${done.heldOut.logProb} vs ${expected.logProb}`);
  });

  it('stops when cancelled', async () => {
    const job = new NgramTrainingJob(3);
    const pending = job.add(TEXT.repeat(2000), '');
    job.cancel();
    await assert.rejects(pending, CancelledError);
    await assert.rejects(job.add(TEXT, ''), CancelledError);
  });
});

describe('token probabilities (heat-map)', function () {
  this.timeout(120_000);

  it('ranks from sequenceScores equal ranks from full distributions (n-gram and neural)', async () => {
    const neural = await loadHuggingFaceFolder(path.join(REPO, 'models', 'gpt-classics'), 'gpt-classics');
    try {
      for (const model of [await loadModel('ngram-classics'), neural]) {
        const ids = model.tokenizer.encode(TEXT, true).map((t) => t.id);
        const fast = await model.sequenceScores(ids, 1);
        const slow = await sequenceScoresFromDistributions(model, ids.slice(0, Math.min(ids.length, 120)), 1);
        for (let i = 0; i < slow.ranks.length; i++) {
          assert.strictEqual(fast.ranks[i], slow.ranks[i], `${model.info.name} rank at ${i + 1}`);
          assert.ok(Math.abs(fast.logProbs[i] - slow.logProbs[i]) < 1e-4, `${model.info.name} log p at ${i + 1}`);
        }
        const plain = await model.sequenceLogProbs(ids, 1);
        plain.forEach((lp, i) => assert.ok(Math.abs(lp - fast.logProbs[i]) < 1e-9, `sequenceLogProbs agrees at ${i + 1}`));
      }
    } finally {
      neural.dispose();
    }
  });

  it('scores in chunks exactly as in one call, and can be cancelled', async () => {
    const model = await loadModel('ngram-classics');
    const ids = model.tokenizer.encode(TEXT.repeat(20), true).map((t) => t.id);
    const whole = await model.sequenceScores(ids, 1);
    const ranks = new Int32Array(ids.length);
    const logProbs = new Float64Array(ids.length);
    let chunks = 0;
    await scoreInChunks(model, ids, 1, ids.length, {
      targetMs: 1,
      onChunk: (start, s) => {
        chunks++;
        ranks.set(s.ranks, start);
        logProbs.set(s.logProbs, start);
      },
    });
    assert.ok(chunks > 1);
    assert.deepStrictEqual(Array.from(logProbs.subarray(1)), Array.from(whole.logProbs));
    assert.deepStrictEqual(Array.from(ranks.subarray(1)), Array.from(whole.ranks));
    const signal = { cancelled: false };
    await assert.rejects(scoreInChunks(model, ids, 1, ids.length, { signal, onChunk: () => (signal.cancelled = true) }), CancelledError);
  });

  it('with a rest ratio, leaves the thread idle between chunks for that share of each chunk, with the same scores', async () => {
    const model = await loadModel('ngram-classics');
    const ids = model.tokenizer.encode(TEXT.repeat(60), true).map((t) => t.id);
    const whole = await model.sequenceScores(ids, 1);
    // Each chunk's time as the loop sees it: from its request to its scores, then the gap to the next request.
    const spans: { asked: number; answered: number }[] = [];
    const timed: LanguageModel = Object.create(model, {
      sequenceScores: {
        value: async (part: readonly number[], from: number) => {
          const asked = performance.now();
          const r = await model.sequenceScores(part, from);
          spans.push({ asked, answered: performance.now() });
          return r;
        },
      },
    });
    const ranks = new Int32Array(ids.length);
    await scoreInChunks(timed, ids, 1, ids.length, { targetMs: 20, restRatio: 0.5, onChunk: (start, s) => ranks.set(s.ranks, start) });
    assert.deepStrictEqual(Array.from(ranks.subarray(1)), Array.from(whole.ranks));
    assert.ok(spans.length > 3, `${spans.length} chunks`);
    for (let i = 1; i < spans.length; i++) {
      const busy = spans[i - 1].answered - spans[i - 1].asked;
      const rest = spans[i].asked - spans[i - 1].answered;
      // The loop times a chunk with Date.now and timers round to the millisecond: 2 ms of slack.
      assert.ok(rest >= busy * 0.5 - 2, `chunk ${i}: ${rest.toFixed(1)} ms of rest after ${busy.toFixed(1)} ms of scoring`);
    }
    model.dispose?.();
  });

  it("scores a long text in a neural model's windows counted from its start, whatever the chunks: the numbers of the status bar's scoring and of the hover", async () => {
    const model = await loadHuggingFaceFolder(path.join(REPO, 'models', 'gpt-classics'), 'gpt-classics');
    try {
      const text = TEXT.repeat(8);
      const ids = model.tokenizer.encode(text, true).map((t) => t.id);
      assert.ok(ids.length > 3 * model.info.contextLength, `${ids.length} tokens: several windows of ${model.info.contextLength}`);
      const whole = await scoreText(model, text);
      for (const targetMs of [1, 1000]) {
        const logProbs = new Float64Array(ids.length);
        await scoreInChunks(model, ids, 1, ids.length, { targetMs, onChunk: (start, s) => logProbs.set(s.logProbs, start) });
        whole.tokens.forEach((t, i) =>
          assert.ok(Math.abs(logProbs[i + 1] - t.logProb) < 1e-4, `token ${i + 1} (chunks of ~${targetMs} ms): ${logProbs[i + 1]} vs ${t.logProb}`),
        );
      }
      // The hover asks for one token with the context chunkContextStart names, and gets the same number.
      for (const i of [200, 300, ids.length - 1]) {
        const dist = await model.nextLogProbs(ids.slice(chunkContextStart(model, i), i));
        assert.ok(Math.abs(dist[ids[i]] - whole.tokens[i - 1].logProb) < 1e-4, `token ${i}: ${dist[ids[i]]} vs ${whole.tokens[i - 1].logProb}`);
      }
    } finally {
      model.dispose();
    }
  });

  it('after an edit, rescoring only the planned tokens gives the same scores as scoring everything', async () => {
    const model = await loadModel('ngram-classics');
    const edits: [string, string][] = [
      [TEXT, TEXT.replace('single man', 'single woman')],
      [TEXT, TEXT.replace('It is', 'It was')],
      [TEXT, TEXT + ' The end.'],
      [TEXT, TEXT.replace(' of a wife.', '')],
      [TEXT, 'Yes. ' + TEXT],
    ];
    for (const [before, after] of edits) {
      const oldTokens = model.tokenizer.encode(before, true);
      const newTokens = model.tokenizer.encode(after, true);
      const oldScores = await model.sequenceScores(
        oldTokens.map((t) => t.id),
        0,
      );
      const want = await model.sequenceScores(
        newTokens.map((t) => t.id),
        0,
      );
      const plan = planRescore(oldTokens, newTokens, model.info.contextLength);
      assert.ok(plan.to - plan.from < newTokens.length, `only part of the text is rescored: ${JSON.stringify(plan)}`);
      const got = new Float64Array(newTokens.length);
      got.set(oldScores.logProbs.subarray(0, plan.from));
      for (let i = plan.to; i < newTokens.length; i++) got[i] = oldScores.logProbs[i + plan.shift];
      const fresh = await model.sequenceScores(newTokens.map((t) => t.id).slice(0, plan.to), plan.from);
      got.set(fresh.logProbs, plan.from);
      got.forEach((lp, i) =>
        assert.ok(Math.abs(lp - want.logProbs[i]) < 1e-12 || (i === 0 && Number.isNaN(lp)), `${JSON.stringify(after.slice(0, 30))}: token ${i}`),
      );
    }
    // A model with unbounded context rescores everything after the first change.
    const a = model.tokenizer.encode(TEXT, true);
    const b = model.tokenizer.encode(TEXT.replace('truth', 'fact'), true);
    assert.strictEqual(planRescore(a, b, Infinity).to, b.length);
    assert.deepStrictEqual(planRescore(a, a, 3), { from: a.length, to: a.length, shift: 0 });
  });

  it('buckets tokens by rank (GLTR) or by probability', () => {
    const s: HeatmapSettings = { mode: 'rank', rankThresholds: [10, 100, 1000], probabilityThresholds: [0.1, 0.01, 0.001] };
    assert.deepStrictEqual(
      [1, 10, 11, 100, 1000, 1001].map((r) => bucketOf(r, 0, s)),
      [0, 0, 1, 1, 2, 3],
    );
    const p = { ...s, mode: 'probability' as const };
    assert.deepStrictEqual(
      [0.5, 0.1, 0.05, 0.001, 0.0001].map((x) => bucketOf(1, Math.log(x), p)),
      [0, 0, 1, 2, 3],
    );
  });

  it('draws cumulative surprisal by character, ending at the total', async () => {
    const model = await loadModel('ngram-classics');
    const text = 'naïve 😀 café\nthe end';
    const { tokens, summary } = await scoreText(model, text);
    const curve = cumulativeSurprisal(text, tokens, 1000);
    assert.strictEqual(curve.x[curve.x.length - 1], [...text].length);
    assert.ok(Math.abs(curve.y[curve.y.length - 1] - -summary.logProbNats / Math.LN2) < 1e-9);
    assert.ok(curve.y.every((y, i) => i === 0 || y >= curve.y[i - 1]));
    const small = cumulativeSurprisal(TEXT.repeat(30), (await scoreText(model, TEXT.repeat(30))).tokens, 50);
    assert.strictEqual(small.x.length, 50);
  });

  it('finds a curve that coincides with an earlier one (the same model on a server and here), to dash it and say so (drive #14)', () => {
    const local = { x: [1, 2, 3], y: [1, 2.5, 4] };
    const other = { x: [1, 2, 3], y: [1.2, 2.4, 5] };
    const server = { x: [1, 2, 3], y: [1, 2.5 + 1e-6, 4 - 1e-6] };
    assert.deepStrictEqual(sameCurveAs([local, other, server]), [undefined, undefined, 0]);
  });

  it('finds a curve within a pixel of an earlier one all along (gpt-classics as ONNX and GGUF, drive-gguf4 8), to dash it and say how close', () => {
    // 1,000 bits high: 2.166 against 2.164 bits/char over 500 characters is 1 bit apart at the end.
    const onnx = { x: [0, 250, 500], y: [0, 541.5, 1083] };
    const gguf = { x: [0, 250, 500], y: [0, 541, 1082] };
    const ngram = { x: [0, 250, 500], y: [0, 516, 1032] };
    assert.deepStrictEqual(sameCurveAs([ngram, gguf, onnx]), [undefined, undefined, undefined]);
    assert.deepStrictEqual(hiddenUnder([ngram, gguf, onnx]), [undefined, undefined, { under: 1, apartBits: 1 }]);
    // The same values: said as such, not as near.
    assert.deepStrictEqual(hiddenUnder([gguf, { ...gguf }]), [undefined, undefined]);
  });
});

describe('a Windows (CRLF) document', function () {
  this.timeout(60_000);
  it('an n-gram model trained on LF text reads its line breaks as line breaks, not as unknown words', async () => {
    const model = await loadModel('ngram-classics');
    const lf = 'It was a fine morning.\nThe travellers set out\nalong the road to the town.\n\nCHAPTER II.\n';
    const crlf = lf.replace(/\n/g, '\r\n');
    const a = model.tokenizer.encode(lf, true);
    const b = model.tokenizer.encode(crlf, true);
    assert.deepStrictEqual(
      b.map((t) => t.id),
      a.map((t) => t.id),
    );
    // Offsets and texts stay the document's own: the heat-map and the hover colour "\r\n" as one token.
    const br = b.find((t) => t.text === '\r\n')!;
    assert.strictEqual(br.length, 2);
    assert.strictEqual(crlf.slice(br.start, br.start + br.length), '\r\n');
    const [sa, sb] = [(await scoreText(model, lf)).summary, (await scoreText(model, crlf)).summary];
    assert.ok(Math.abs(sa.logProbNats - sb.logProbNats) < 1e-9, `log p ${sa.logProbNats} (LF) against ${sb.logProbNats} (CRLF)`);
    assert.strictEqual(sb.oov, sa.oov);
  });
});
