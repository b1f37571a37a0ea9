import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ModelFormatError } from '../../src/core/errors';
import { generate } from '../../src/core/generation';
import { OnnxCausalLm } from '../../src/core/neural/onnxCausalLm';
import { scoreText } from '../../src/core/scoring';
import { loadHuggingFaceFolder } from '../../src/node/neuralLoader';
import { onnxBackend } from '../../src/node/backends/onnxBackend';
import { startEngineWorker } from '../../src/node/workerHost';
import { CancelledError, type CancelSignal } from '../../src/core/errors';
import type { LanguageModel } from '../../src/core/model';
import { CORPUS, REPO } from './helpers';

const MODEL_DIR = process.env.LMP_TEST_NEURAL_MODEL ?? path.join(REPO, 'models', 'gpt-classics');

describe('neural model on onnxruntime-node (embedded gpt-classics)', function () {
  this.timeout(120000);
  let lm: OnnxCausalLm;
  before(async () => {
    lm = await loadHuggingFaceFolder(MODEL_DIR, 'gpt-classics');
  });
  after(() => lm?.dispose());

  it('incremental (KV cache) log-probs equal a full recompute within 1e-4', async () => {
    const tokens = lm.tokenizer.encode('It was a fine morning, and Elizabeth walked out into the garden to think.', true).map((t) => t.id);
    const full = await lm.sequenceLogProbs(tokens, 1);
    for (let t = 1; t < tokens.length; t++) {
      const step = await lm.nextLogProbs(tokens.slice(0, t)); // extends the cache by one token each time
      assert.ok(Math.abs(step[tokens[t]] - full[t - 1]) < 1e-4, `token ${t}: ${step[tokens[t]]} vs ${full[t - 1]}`);
    }
  });

  it('scores with details from the windows’ own pass: no KV-cache step (and no cache copy) per token, the numbers of the step-by-step path', async () => {
    const text = fs.readFileSync(path.join(CORPUS, 'valid', 'poirot_investigates.txt'), 'utf8').slice(0, 2500);
    const steps = { n: 0 };
    const counted = Object.create(lm, {
      nextLogProbs: { value: (context: readonly number[], signal?: CancelSignal) => (steps.n++, lm.nextLogProbs(context, signal)) },
    }) as LanguageModel;
    const batched = await scoreText(counted, text, { details: true, topK: 4 });
    assert.ok(batched.tokens.length > 2 * lm.info.contextLength, `${batched.tokens.length} tokens: several windows`);
    assert.strictEqual(steps.n, 0, 'a KV-cache step per token');
    // The step-by-step path: a model without sequenceDistributions.
    const stepwise = Object.create(lm, { sequenceDistributions: { value: undefined } }) as LanguageModel;
    const reference = await scoreText(stepwise, text, { details: true, topK: 4 });
    assert.strictEqual(batched.tokens.length, reference.tokens.length);
    batched.tokens.forEach((t, i) => {
      const r = reference.tokens[i];
      assert.strictEqual(t.logProb, r.logProb, `token ${i}`);
      assert.strictEqual(t.rank, r.rank, `token ${i}`);
      assert.ok(Math.abs(t.entropy! - r.entropy!) < 1e-4, `token ${i}: entropy ${t.entropy} vs ${r.entropy}`);
      assert.deepStrictEqual(
        t.alternatives!.map((a) => a.id),
        r.alternatives!.map((a) => a.id),
        `token ${i}`,
      );
      t.alternatives!.forEach((a, k) => assert.ok(Math.abs(a.logProb - r.alternatives![k].logProb) < 1e-4));
    });
  });

  it('generates deterministically at T=0 and reproducibly from a seed', async () => {
    const a = await generate(lm, 'It was a dark and', { maxTokens: 12, temperature: 0 });
    const b = await generate(lm, 'It was a dark and', { maxTokens: 12, temperature: 0 });
    assert.strictEqual(a[0].text, b[0].text);
    assert.ok(a[0].text.length > 0);
    const s1 = await generate(lm, 'She said', { maxTokens: 10, temperature: 1, seed: 7, numCompletions: 2 });
    const s2 = await generate(lm, 'She said', { maxTokens: 10, temperature: 1, seed: 7, numCompletions: 2 });
    assert.deepStrictEqual(
      s1.map((c) => c.text),
      s2.map((c) => c.text),
    );
  });

  it("generates past the context window with the numbers of a direct run over each token's window", async () => {
    const W = lm.config.contextLength;
    const [long] = await generate(lm, 'The', { maxTokens: W + 20, temperature: 1, seed: 1 });
    assert.strictEqual(long.tokens.length, W + 20);
    const prompt = lm.tokenizer.encode('The', true).map((t) => t.id);
    const ids = [...prompt, ...long.tokens.map((t) => t.id)];
    // The README's schedule, restated: the context is read in a window of W tokens; a context that
    // outgrows it starts a new window half a window before its end.
    const windowStart: number[] = [];
    for (let i = prompt.length, start = 0; i < ids.length; i++) {
      if (i - start > W) start = i - Math.floor(W / 2);
      windowStart.push(start);
    }
    assert.ok(windowStart[windowStart.length - 1] > 0, 'the window slid');
    // Each token recomputed by one run over its window alone, last token first, so that no run
    // extends the cache of the one before.
    const fresh = await loadHuggingFaceFolder(MODEL_DIR, 'reference');
    try {
      for (let k = long.tokens.length - 1; k >= 0; k--) {
        const i = prompt.length + k;
        const direct = await fresh.nextLogProbs(ids.slice(windowStart[k], i));
        const diff = Math.abs(direct[ids[i]] - long.tokens[k].logProb);
        assert.ok(diff < 1e-4, `token ${i} (window from ${windowStart[k]}): ${long.tokens[k].logProb} vs ${direct[ids[i]]}`);
      }
    } finally {
      await fresh.dispose();
    }
  });

  it('tokenizes with exact offsets, also for non-ASCII text', async () => {
    const text = 'Naïve café — “quoted” 東京 😀!\n  two  spaces';
    const tokens = lm.tokenizer.encode(text, true);
    assert.strictEqual(tokens[0].id, lm.bosId);
    assert.strictEqual(
      tokens
        .slice(1)
        .map((t) => t.text)
        .join(''),
      text,
    );
    for (const t of tokens.slice(1)) assert.strictEqual(text.slice(t.start, t.start + t.length), t.text);
    assert.strictEqual(
      lm.tokenizer.decode(
        tokens.slice(1).map((t) => t.id),
        false,
      ),
      text,
    );
    const { summary } = await scoreText(lm, text);
    assert.strictEqual(summary.chars, [...text].length);
    assert.ok(summary.bitsPerChar > 0);
  });
});

describe('neural model disposal', function () {
  this.timeout(60000);

  it('waits for the scoring in progress, then releases the session', async () => {
    const lm = await loadHuggingFaceFolder(MODEL_DIR, 'gpt-classics');
    const ids = lm.tokenizer.encode('It was a dark and stormy night. '.repeat(100), true).map((t) => t.id);
    const scoring = lm.sequenceLogProbs(ids, 1);
    const disposed = lm.dispose();
    const scores = await scoring; // not "Session already disposed"
    await disposed;
    const fresh = await loadHuggingFaceFolder(MODEL_DIR, 'gpt-classics');
    try {
      assert.deepStrictEqual(scores, await fresh.sequenceLogProbs(ids, 1));
    } finally {
      await fresh.dispose();
    }
    await assert.rejects(lm.nextLogProbs(ids.slice(0, 3)));
  });
});

describe('neural engine hosts: worker thread, native and WASM give the same numbers', function () {
  this.timeout(120000);
  const text = 'Poirot looked at the letter for a long time before he spoke.';

  it('a worker-thread model (native) equals the in-process one; the WASM backend agrees within 1e-4', async () => {
    const local = await loadHuggingFaceFolder(MODEL_DIR, 'local');
    const remote = await startEngineWorker({ backend: onnxBackend, location: MODEL_DIR, name: 'remote' }, { device: 'native' });
    const wasm = await startEngineWorker({ backend: onnxBackend, location: MODEL_DIR, name: 'wasm' }, { device: 'wasm' });
    try {
      assert.strictEqual(remote.info.device, 'native');
      assert.strictEqual(wasm.info.device, 'wasm');
      const ids = remote.tokenizer.encode(text, true).map((t) => t.id);
      assert.deepStrictEqual(
        ids,
        local.tokenizer.encode(text, true).map((t) => t.id),
      );
      const a = await local.nextLogProbs(ids);
      const b = await remote.nextLogProbs(ids);
      const c = await wasm.nextLogProbs(ids);
      for (let i = 0; i < a.length; i++) {
        assert.ok(Math.abs(a[i] - b[i]) < 1e-9);
        assert.ok(Math.abs(a[i] - c[i]) < 1e-4, `token ${i}: native ${a[i]} vs wasm ${c[i]}`);
      }
      const greedyRemote = await generate(remote, 'It was', { maxTokens: 8, temperature: 0 });
      const greedyLocal = await generate(local, 'It was', { maxTokens: 8, temperature: 0 });
      assert.strictEqual(greedyRemote[0].text, greedyLocal[0].text);
      // Cancelling a request in the worker rejects it with CancelledError.
      const signal = { cancelled: true };
      await assert.rejects(remote.nextLogProbs(ids, signal), CancelledError);
    } finally {
      local.dispose();
      remote.dispose();
      wasm.dispose();
    }
  });

  it('a worker reports a model that does not load, naming the file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-worker-'));
    fs.cpSync(MODEL_DIR, dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'onnx', 'model.onnx'), 'garbage');
    await assert.rejects(
      startEngineWorker({ backend: onnxBackend, location: dir, name: 'x' }, { device: 'native' }),
      (e: Error) => e instanceof ModelFormatError && /model\.onnx: onnxruntime cannot load it/.test(e.message),
    );
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('neural model folders with bad files', function () {
  this.timeout(60000);
  let dir: string;
  const copy = (name: string) => {
    const d = path.join(dir, name);
    fs.cpSync(MODEL_DIR, d, { recursive: true });
    return d;
  };
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-neural-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('names the file that is missing, not JSON, corrupt, or does not fit', async () => {
    const noTok = copy('no-tokenizer');
    fs.rmSync(path.join(noTok, 'tokenizer.json'));
    await assert.rejects(loadHuggingFaceFolder(noTok, 'x'), (e: Error) => e instanceof ModelFormatError && /tokenizer\.json: missing/.test(e.message));

    const badJson = copy('bad-json');
    fs.writeFileSync(path.join(badJson, 'config.json'), '{ "model_type": ');
    await assert.rejects(loadHuggingFaceFolder(badJson, 'x'), /config\.json: not valid JSON/);

    const corrupt = copy('corrupt-onnx');
    fs.writeFileSync(path.join(corrupt, 'onnx', 'model.onnx'), Buffer.from('this is not a protobuf graph'));
    await assert.rejects(loadHuggingFaceFolder(corrupt, 'x'), /model\.onnx: onnxruntime cannot load it/);

    const wrongVocab = copy('wrong-vocab');
    const config = JSON.parse(fs.readFileSync(path.join(wrongVocab, 'config.json'), 'utf8'));
    fs.writeFileSync(path.join(wrongVocab, 'config.json'), JSON.stringify({ ...config, vocab_size: 100 }));
    // The graph's logits say config.json is wrong, not the tokenizer (hostile13 L3).
    await assert.rejects(loadHuggingFaceFolder(wrongVocab, 'x'), /config\.json.*logits have \d+ entries per token but config\.json says vocab_size 100/);

    const wrongShape = copy('wrong-shape');
    fs.writeFileSync(path.join(wrongShape, 'config.json'), JSON.stringify({ ...config, n_head: config.n_head * 2 }));
    // The export fixed the cache's heads: the graph's metadata shows the mismatch before any run.
    await assert.rejects(
      loadHuggingFaceFolder(wrongShape, 'x'),
      /config\.json: the graph .*model\.onnx caches 8 key\/value heads per layer but config\.json says 16 .*they do not belong together/,
    );
    const wrongVocabSize = copy('wrong-vocab-size');
    fs.writeFileSync(path.join(wrongVocabSize, 'config.json'), JSON.stringify({ ...config, vocab_size: config.vocab_size + 8 }));
    await assert.rejects(
      loadHuggingFaceFolder(wrongVocabSize, 'x'),
      /model\.onnx: the graph does not run with the shapes in config\.json: logits have \d+ entries per token/,
    );
  });
});
