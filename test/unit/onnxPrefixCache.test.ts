/**
 * The transformer's cache of the last sequence it ran: a hover further on in the same document,
 * one after an edit near the end, one on an earlier word, and the heat-map's chunks run only the
 * tokens after the prefix they share with it, and give the numbers of a cold run (the cache
 * forgotten first) to 1e-5, also where the window slides past the model's context.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { InferenceSession } from 'onnxruntime-common';
import type { LanguageModel } from '../../src/core/model';
import { OnnxCausalLm, type OrtModule } from '../../src/core/neural/onnxCausalLm';
import { readFolderFiles } from '../../src/node/neuralLoader';
import { onnxBackend } from '../../src/node/backends/onnxBackend';
import { startEngineWorker } from '../../src/node/workerHost';
import { chunkContextStart, scoreInChunks } from '../../src/editor/chunkedScoring';
import { hoverFactsAt } from '../../src/editor/hoverFacts';
import { InlineCompletionEngine } from '../../src/editor/inlineEngine';
import { ONNX_FIXTURES as FIXTURES } from './helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ort = require('onnxruntime-node') as OrtModule;

const ids = (name: string): number[] => (JSON.parse(fs.readFileSync(path.join(FIXTURES, name, 'reference.json'), 'utf8')) as { input_ids: number[] }).input_ids;

/** The model, and the number of tokens each of its forward passes ran (read from the session's feeds). */
async function open(name: string, maxCacheBytes?: number): Promise<{ lm: OnnxCausalLm; ran: number[] }> {
  const dir = path.join(FIXTURES, name);
  const lm = await OnnxCausalLm.create(
    ort,
    { ...readFolderFiles(dir), onnx: path.join(dir, 'onnx', 'model.onnx') },
    { name, device: 'native', ...(maxCacheBytes ? { maxCacheBytes } : {}) },
  );
  const ran: number[] = [];
  const session = (lm as unknown as { session: InferenceSession }).session;
  const run = session.run.bind(session) as (feeds: InferenceSession.FeedsType, fetches: string[]) => Promise<InferenceSession.ReturnType>;
  (session as unknown as { run: typeof run }).run = (feeds, fetches) => {
    ran.push(feeds.input_ids.dims[1]);
    return run(feeds, fetches);
  };
  return { lm, ran };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.strictEqual(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** Tokens run by `fn`. */
async function tokensRun(ran: number[], fn: () => Promise<unknown>): Promise<number> {
  ran.length = 0;
  await fn();
  return ran.reduce((s, n) => s + n, 0);
}

describe('a transformer keeps the last sequence it ran: later requests run only the tokens after the shared prefix, with a cold run’s numbers', function () {
  this.timeout(120000);

  for (const name of ['tiny-llama', 'tiny-qwen2']) {
    it(`${name}: hovers further on, on an earlier word and after an edit near the end`, async () => {
      const { lm, ran } = await open(name);
      try {
        const doc = ids(name);
        const edited = [...doc.slice(0, 200), (doc[200] + 7) % lm.vocabSize, ...doc.slice(201)];
        const cold = async (ctx: number[]) => {
          await lm.forgetContext();
          return lm.nextLogProbs(ctx);
        };
        // [context, tokens a warm run may run at most]
        const steps: [number[], number][] = [
          [doc.slice(0, 180), 180], // cold: the whole context
          [doc.slice(0, 181), 1], // the word's next token
          [doc.slice(0, 230), 49], // a later word
          [doc.slice(0, 150), 1], // an earlier word: one token on the cut cache, the longer cache kept
          [doc.slice(0, 240), 10],
          [edited.slice(0, 250), 50], // an edit at token 200: from there on
          [edited.slice(0, 251), 1],
          [doc.slice(0, 251), 51], // the edit undone
        ];
        const warm: Float64Array[] = [];
        for (const [ctx, most] of steps) {
          const n = await tokensRun(ran, async () => warm.push((await lm.nextLogProbs(ctx)).slice()));
          assert.ok(n <= most, `${ctx.length} tokens of context: ran ${n} tokens, expected at most ${most}`);
        }
        for (let s = 0; s < steps.length; s++) {
          const d = maxDiff(warm[s], await cold(steps[s][0]));
          assert.ok(d < 1e-5, `step ${s} (${steps[s][0].length} tokens): ${d} from the cold run`);
        }
      } finally {
        await lm.dispose();
      }
    });
  }

  it('the heat-map’s chunks and a hover between them reuse the cache, windows sliding past the context included, with the numbers of one cold run', async () => {
    // tiny-llama's cache is 512 bytes a token: a window of 64 tokens over 270.
    const { lm, ran } = await open('tiny-llama', 512 * 64);
    try {
      assert.strictEqual(lm.info.contextLength, 64);
      const doc = ids('tiny-llama');
      const edited = [...doc.slice(0, 250), (doc[250] + 3) % lm.vocabSize, ...doc.slice(251)];
      for (const seq of [doc, edited]) {
        await lm.forgetContext();
        const whole = await lm.sequenceScores(seq, 1);
        const logProbs = new Float64Array(seq.length - 1);
        const ranks = new Int32Array(seq.length - 1);
        // The heat-map's way: chunk by chunk, each from its window's start, a hover in between.
        ran.length = 0;
        await scoreInChunks(lm, seq, 1, seq.length, {
          targetMs: 0.001,
          onChunk: (start, s) => {
            logProbs.set(s.logProbs, start - 1);
            ranks.set(s.ranks, start - 1);
          },
        });
        assert.ok(maxDiff(logProbs, whole.logProbs) < 1e-5, `chunks against one run: ${maxDiff(logProbs, whole.logProbs)}`);
        assert.deepStrictEqual(Array.from(ranks), Array.from(whole.ranks));
        const chunked = ran.reduce((s, n) => s + n, 0);
        // Each window's tokens run once: 64 for the first, then 32 new ones per window (which runs all of its 64 the first time).
        assert.ok(chunked <= 64 + Math.ceil((seq.length - 64) / 32) * 64, `the chunks ran ${chunked} tokens`);
        const at = seq.length - 2;
        const hoverCtx = seq.slice(chunkContextStart(lm, at), at);
        const warm = (await lm.nextLogProbs(hoverCtx)).slice();
        await lm.forgetContext();
        assert.ok(maxDiff(warm, await lm.nextLogProbs(hoverCtx)) < 1e-5);
      }
      // After the edit at 250 the heat-map's last window runs again from the token before the edit (whose row predicts it) on only.
      await lm.forgetContext();
      await scoreInChunks(lm, doc, 1, doc.length, { targetMs: 1e9 });
      const last = chunkContextStart(lm, doc.length - 1);
      const scores = { a: undefined as Float64Array | undefined };
      const n = await tokensRun(ran, async () => (scores.a = (await lm.sequenceScores(edited.slice(last), 250 - last)).logProbs));
      assert.ok(n <= doc.length - 249, `after the edit: ran ${n} tokens`);
      await lm.forgetContext();
      assert.ok(maxDiff(scores.a!, (await lm.sequenceScores(edited.slice(last), 250 - last)).logProbs) < 1e-5);
    } finally {
      await lm.dispose();
    }
  });

  it('a model in its worker thread forgets the cache when asked (its document closed), and answers as before', async () => {
    const remote = await startEngineWorker({ backend: onnxBackend, location: path.join(FIXTURES, 'tiny-qwen2'), name: 'qwen' }, { device: 'native' });
    try {
      const doc = ids('tiny-qwen2');
      const warm = await remote.nextLogProbs(doc.slice(0, 100));
      assert.ok(remote.forgetContext);
      await remote.forgetContext();
      assert.ok(maxDiff(warm, await remote.nextLogProbs(doc.slice(0, 100))) < 1e-5);
    } finally {
      remote.dispose();
    }
  });

  it('a hover scores its word’s tokens in one forward pass, with the numbers of a cold run of each', async () => {
    for (const name of ['tiny-llama', 'tiny-qwen2']) {
      const { lm, ran } = await open(name);
      try {
        const { text } = JSON.parse(fs.readFileSync(path.join(FIXTURES, name, 'reference.json'), 'utf8')) as { text: string };
        const tokens = lm.tokenizer.encode(text, true, 0);
        const cold = await lm.sequenceLogProbs(
          tokens.map((t) => t.id),
          1,
        );
        const seq = { tokens, fromDocumentStart: true, contextStart: (i: number) => chunkContextStart(lm, i) };
        const stepwise: LanguageModel = {
          info: lm.info,
          tokenizer: lm.tokenizer,
          vocabSize: lm.vocabSize,
          bosId: lm.bosId,
          eosId: lm.eosId,
          unkId: lm.unkId,
          unsampleableIds: lm.unsampleableIds,
          nextLogProbs: async (c) => {
            await lm.forgetContext();
            return lm.nextLogProbs(c);
          },
          sequenceLogProbs: (ids, from) => lm.sequenceLogProbs(ids, from),
          sequenceScores: (ids, from) => lm.sequenceScores(ids, from),
        };
        let multi = 0;
        for (const m of text.matchAll(/\p{L}{4,}/gu)) {
          await lm.forgetContext();
          const line = { text: text.slice(text.lastIndexOf('\n', m.index) + 1).split('\n')[0], start: text.lastIndexOf('\n', m.index) + 1 };
          ran.length = 0;
          const facts = await hoverFactsAt(lm, seq, m.index + 1, line, 5);
          assert.ok(facts, `${name}: no hover on ${m[0]}`);
          assert.strictEqual(ran.length, 1, `${name}: ${m[0]} took ${ran.length} forward passes`);
          const i = tokens.findIndex((t) => t.start === facts.start && t.length === facts.length && t.length > 0);
          // The same hover step by step (a model without spanScores), each step cold.
          const steps = await hoverFactsAt(stepwise, seq, m.index + 1, line, 5);
          assert.ok(steps);
          assert.ok(Math.abs(facts.logProb - steps.logProb) < 1e-5, `${name}: ${m[0]}: ${facts.logProb} against ${steps.logProb}`);
          assert.deepStrictEqual(
            facts.alternatives.map((x) => x.id),
            steps.alternatives.map((x) => x.id),
          );
          assert.ok(maxDiff(facts.word?.parts.map((p) => p.logProb) ?? [], steps.word?.parts.map((p) => p.logProb) ?? []) < 1e-5, `${name}: ${m[0]}'s parts`);
          if (i > 0 && !facts.bytes) assert.ok(Math.abs(facts.logProb - cold[i - 1]) < 1e-5);
          if ((facts.word?.parts.length ?? 0) > 1) multi++;
        }
        assert.ok(multi >= 3, `${name}: only ${multi} words of several tokens`);
      } finally {
        await lm.dispose();
      }
    }
  });

  for (const name of ['tiny-llama', 'tiny-qwen2']) {
    it(`${name}: a decode step written into the caller's row (nextLogProbsInto) has nextLogProbs' numbers to the bit, and leaves the cache as it does`, async () => {
      const a = await open(name);
      const b = await open(name);
      try {
        const doc = ids(name).slice(0, 40);
        const row = new Float64Array(b.lm.vocabSize);
        // A prefill, then decode steps of one token each, then the same context again (answered from the cache).
        // [context length, tokens its forward passes run]
        const steps: [number, number][] = [
          [20, 20],
          [21, 1],
          [22, 1],
          [23, 1],
          [30, 7],
          [30, 0],
        ];
        for (const [end, runs] of steps) {
          const expected = await a.lm.nextLogProbs(doc.slice(0, end));
          assert.strictEqual(await tokensRun(b.ran, () => b.lm.nextLogProbsInto(doc.slice(0, end), row)), runs, `${end} tokens of context`);
          for (let i = 0; i < row.length; i++)
            assert.ok(Object.is(row[i], expected[i]), `${end} tokens: entry ${i} is ${row[i]}, nextLogProbs gives ${expected[i]}`);
        }
        // The cache's own distribution, asked for after a step written into the row: the same numbers, no forward pass.
        const again = await tokensRun(b.ran, async () =>
          assert.deepStrictEqual(await b.lm.nextLogProbs(doc.slice(0, 30)), await a.lm.nextLogProbs(doc.slice(0, 30))),
        );
        assert.strictEqual(again, 0);
        await assert.rejects(b.lm.nextLogProbsInto(doc.slice(0, 31), new Float64Array(3)), /the row has 3 entries, the vocabulary \d+/);
      } finally {
        await a.lm.dispose();
        await b.lm.dispose();
      }
    });
  }
  it('inline suggestions typed a character at a time run only the tokens after the prompt they share with the last one, and suggest what a fresh run does', async () => {
    for (const name of ['tiny-llama', 'tiny-qwen2']) {
      const { lm, ran } = await open(name);
      const { lm: ref } = await open(name);
      try {
        const { text } = JSON.parse(fs.readFileSync(path.join(FIXTURES, name, 'reference.json'), 'utf8')) as { text: string };
        const options = () => ({ debounceMs: 0, maxTokens: 8, temperature: 0, stopSequences: [], stopAtLineEnd: false, maxWords: 0 });
        const typing = new InlineCompletionEngine(async () => lm, options);
        const fresh = new InlineCompletionEngine(async () => ref, options);
        const never = new AbortController().signal;
        const from = text.indexOf(' ', 200);
        let suggestions = 0;
        for (let end = from; end < from + 40; end++) {
          const prompt = text.slice(0, end);
          // A new document each time: no suggestion comes from the engine's cache of the last one.
          const request = { doc: `d${end}`, offset: end, prompt, atStart: true, textBefore: prompt, after: '', manual: true };
          ran.length = 0;
          const got = await typing.suggest(request, never);
          const tokens = ran.reduce((s, n) => s + n, 0);
          await ref.forgetContext();
          const want = await fresh.suggest(request, never);
          assert.strictEqual(got?.text, want?.text, `${name}, typed to ${end}`);
          const promptTokens = lm.tokenizer.encode(prompt, true).length;
          if (end > from) {
            // The prompt's new tokens (a character can retokenize the word it ends) and one per generated token.
            assert.ok(tokens <= 8 + 4, `${name}, typed to ${end}: ran ${tokens} tokens for a prompt of ${promptTokens}`);
          }
          if (got) suggestions++;
        }
        assert.ok(suggestions > 30, `${name}: ${suggestions} suggestions`);
      } finally {
        await lm.dispose();
        await ref.dispose();
      }
    }
  });
});
