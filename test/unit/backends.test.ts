/**
 * The registry of model backends: which backend recognises each kind of reference and what it
 * opens, the capabilities each declares (and that the models it opens carry), where the extension
 * runs them, and the error for a reference that no backend recognises.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { WorkerLanguageModel } from '../../src/core/engine/engineClient';
import type { EngineResponse } from '../../src/core/engine/protocol';
import { LmError } from '../../src/core/errors';
import type { LanguageModel } from '../../src/core/model';
import { NgramLanguageModel } from '../../src/core/ngram/ngramLanguageModel';
import { OnnxCausalLm } from '../../src/core/neural/onnxCausalLm';
import { ggufBackend } from '../../src/node/backends/ggufBackend';
import { ngramBackend } from '../../src/node/backends/ngramBackend';
import { onnxBackend } from '../../src/node/backends/onnxBackend';
import { BACKENDS, acceptedReferences, backendById, modelFileExtensions, recognize } from '../../src/node/backends/registry';
import { EMBEDDED_DTYPE, listEmbeddedModels, loadModel, openOptions, recognizeModel } from '../../src/node/modelLoader';
import { GgufLanguageModel } from '../../src/node/gguf/ggufLanguageModel';
import { fromRelay, toRelay } from '../../src/webview/relayMessages';
import { ONNX_FIXTURES, REPO } from './helpers';

const EMBEDDED = path.join(REPO, 'models');
const ARPA = '\\data\\\nngram 1=3\n\n\\1-grams:\n-0.5\t<s>\n-0.5\t</s>\n-0.3\tword\n\n\\end\\\n';

describe('model backends: the registry', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-backends-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: string | Uint8Array) => {
    const p = path.join(dir, name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
    return p;
  };

  it('recognises the embedded models by name, each with its backend, and says they are embedded', () => {
    const ngram = recognizeModel('ngram-classics', EMBEDDED);
    assert.strictEqual(ngram.backend, ngramBackend);
    assert.strictEqual(ngram.location, path.join(EMBEDDED, 'ngram-classics', 'model.ngram'));
    assert.deepStrictEqual([ngram.name, ngram.embedded], ['ngram-classics', true]);
    const gpt = recognizeModel(' gpt-classics ', EMBEDDED);
    assert.strictEqual(gpt.backend, onnxBackend);
    assert.strictEqual(gpt.location, path.join(EMBEDDED, 'gpt-classics'));
    assert.deepStrictEqual([gpt.name, gpt.spec, gpt.embedded], ['gpt-classics', 'gpt-classics', true]);
    // By path the same folder is not "embedded": the dtype setting is the user's.
    const byPath = recognizeModel(path.join(EMBEDDED, 'gpt-classics'), EMBEDDED);
    assert.deepStrictEqual([byPath.backend, byPath.name, byPath.embedded], [onnxBackend, 'gpt-classics', false]);
    assert.deepStrictEqual(openOptions(gpt, { dtype: { setting: 'fp32' } }).dtype, EMBEDDED_DTYPE);
    assert.deepStrictEqual(openOptions(byPath, { dtype: { setting: 'fp32' } }).dtype, { setting: 'fp32' });
    assert.deepStrictEqual(listEmbeddedModels(EMBEDDED), ['gpt-classics', 'ngram-classics']);
  });

  it('recognises n-gram files (.arpa, .arpa.gz, .ngram, .ngram.gz, any other name) and folders holding one', () => {
    const binary = fs.readFileSync(path.join(EMBEDDED, 'ngram-classics', 'model.ngram'));
    const files = [
      file('a/my.arpa', ARPA),
      file('b/my.arpa.gz', zlib.gzipSync(ARPA)),
      file('c/model.ngram', binary),
      file('d/trained.ngram.gz', zlib.gzipSync(binary)),
      file('e/kenlm.lm', ARPA),
    ];
    for (const f of files) {
      const m = recognizeModel(f, EMBEDDED);
      assert.strictEqual(m.backend, ngramBackend, f);
      assert.strictEqual(m.location, f);
      assert.strictEqual(m.name, path.basename(path.dirname(f)), 'named after its folder');
      assert.strictEqual(m.embedded, false);
    }
    // A folder: model.ngram, else model.ngram.gz, else its first .arpa file by name.
    file('f/model.ngram.gz', zlib.gzipSync(binary));
    file('f/z.arpa', ARPA);
    assert.strictEqual(recognizeModel(path.join(dir, 'f'), EMBEDDED).location, path.join(dir, 'f', 'model.ngram.gz'));
    file('f/model.ngram', binary);
    assert.strictEqual(recognizeModel(path.join(dir, 'f'), EMBEDDED).location, path.join(dir, 'f', 'model.ngram'));
    file('g/z.arpa', ARPA);
    file('g/b.arpa', ARPA);
    const g = recognizeModel(path.join(dir, 'g'), EMBEDDED);
    assert.deepStrictEqual([g.backend, g.location, g.name], [ngramBackend, path.join(dir, 'g', 'b.arpa'), 'g']);
  });

  it('recognises a Hugging Face folder by its config.json before anything else in it', () => {
    const folder = path.join(dir, 'hf');
    fs.mkdirSync(path.join(folder, 'onnx'), { recursive: true });
    for (const f of ['config.json', 'tokenizer.json', 'onnx/model_quantized.onnx'])
      fs.copyFileSync(path.join(EMBEDDED, 'gpt-classics', f), path.join(folder, f));
    file('hf/stray.arpa', ARPA);
    const m = recognizeModel(folder, EMBEDDED);
    assert.deepStrictEqual([m.backend, m.location, m.name], [onnxBackend, folder, 'hf']);
    // A relative path is taken from the base folder given (the CLI: the current one).
    assert.strictEqual(recognizeModel('hf', EMBEDDED, dir).location, folder);
  });

  it('refuses a reference no backend recognises, naming what is accepted', () => {
    const empty = path.join(dir, 'empty');
    fs.mkdirSync(empty);
    assert.throws(
      () => recognizeModel(empty, EMBEDDED),
      (e: Error) =>
        e instanceof LmError &&
        e.message.startsWith(`${empty} is not a model LM Playground can open; give the name of an embedded model (gpt-classics, ngram-classics); `) &&
        BACKENDS.every((b) => e.message.includes(b.accepts)),
    );
    for (const b of BACKENDS) assert.ok(acceptedReferences().includes(b.accepts));
    assert.match(acceptedReferences(), /config\.json.*; or an ARPA file/);
    assert.throws(
      () => recognizeModel(path.join(dir, 'missing.arpa'), EMBEDDED),
      /model not found: .*missing\.arpa is neither a file, a folder nor an embedded model \(gpt-classics, ngram-classics\)/,
    );
    assert.throws(() => recognizeModel('  ', EMBEDDED), /no model given/);
    assert.throws(
      () => backendById('kenlm'),
      (e: Error) => e instanceof LmError && e.message === 'no model backend "kenlm" (there are onnx, gguf, remote, ngram)',
    );
    // Without a path (a reference that names no file), only the remote backend may claim it, and only a well-formed one.
    assert.strictEqual(recognize({ spec: 'https://example.org/v1' }), undefined);
    assert.strictEqual(recognize({ spec: 'https://example.org/v1#m' })?.backend.id, 'remote');
  });

  it('declares capabilities; every model a backend opens carries them and its name', async () => {
    assert.deepStrictEqual(ngramBackend.capabilities, {
      distribution: 'full',
      batchedScoring: false,
      context: 'markov',
      placements: ['host', 'node-worker', 'webview-worker'],
      devices: [],
      inside: ['ngram-backoff'],
    });
    assert.deepStrictEqual(onnxBackend.capabilities, {
      distribution: 'full',
      batchedScoring: true,
      context: 'window',
      placements: ['host', 'node-worker', 'webview-worker'],
      devices: ['native', 'wasm', 'webgpu'],
    });
    for (const b of BACKENDS) {
      // What the hosts rely on: a backend that runs in a worker gives the host its tokenizer, one that runs in a webview its files.
      const { placements, devices } = b.capabilities;
      if (placements.includes('node-worker') || placements.includes('node-process') || devices.includes('webgpu'))
        assert.ok(b.hostTokenizer, `${b.id}: hostTokenizer`);
      if (placements.includes('webview-worker')) assert.ok(b.webviewFiles, `${b.id}: webviewFiles`);
      assert.strictEqual(backendById(b.id), b);
    }
    const arpa = file('open/my.arpa', ARPA);
    const gguf = path.join(ONNX_FIXTURES, 'gguf', 'tiny-qwen2-q8_0.gguf');
    for (const spec of ['ngram-classics', 'gpt-classics', arpa, gguf]) {
      const m = recognizeModel(spec, EMBEDDED);
      const lm: LanguageModel = await m.backend.open(m, openOptions(m, {}));
      try {
        assert.strictEqual(lm.info.backend, m.backend.id, spec);
        // An ONNX model adds the inside views its graph's outputs allow (gpt-classics has both).
        const inside = spec === 'gpt-classics' ? { inside: ['logit-lens', 'attention'] } : {};
        assert.deepStrictEqual(lm.info.capabilities, { ...m.backend.capabilities, ...inside }, spec);
        const expected = m.backend === ngramBackend ? NgramLanguageModel : m.backend === ggufBackend ? GgufLanguageModel : OnnxCausalLm;
        assert.strictEqual(Object.getPrototypeOf(lm).constructor, expected, spec);
      } finally {
        await lm.dispose?.();
      }
    }
  });

  it('the extension runs a backend in a worker thread exactly when it can run in one', async () => {
    const ngram = await loadModel('ngram-classics', EMBEDDED, { inWorker: true });
    assert.ok(ngram instanceof NgramLanguageModel, 'n-gram models run on the host thread');
    const gpt = await loadModel('gpt-classics', EMBEDDED, { inWorker: true, device: 'native' });
    try {
      assert.ok(gpt instanceof WorkerLanguageModel, 'ONNX models run in a worker thread');
      assert.strictEqual(gpt.info.backend, 'onnx');
      assert.deepStrictEqual(
        gpt.info.capabilities,
        { ...onnxBackend.capabilities, inside: ['logit-lens', 'attention'] },
        "the model's capabilities cross the worker boundary",
      );
      assert.strictEqual(gpt.info.name, 'gpt-classics');
    } finally {
      gpt.dispose?.();
    }
  });

  it('keeps an n-gram model on the host up to 16 MiB of ARPA text or 36 MiB of binary data (a .gz counted at 3× its size)', () => {
    const onHost = (f: string) => ngramBackend.prefersHost!(recognizeModel(f, EMBEDDED));
    const binary = fs.readFileSync(path.join(EMBEDDED, 'ngram-classics', 'model.ngram'));
    assert.ok(binary.length > 16 * 2 ** 20 && binary.length < 36 * 2 ** 20, `the embedded model's ${binary.length} bytes lie between the thresholds`);
    assert.ok(onHost('ngram-classics'), 'the embedded model, uncompressed');
    assert.ok(onHost(file('host/small.arpa', ARPA)), 'a small ARPA file');
    // Padding after \end\ stands for a long ARPA file: only the size and the first bytes are looked at.
    assert.ok(!onHost(file('worker/big.arpa', Buffer.concat([Buffer.from(ARPA), Buffer.alloc(17 * 2 ** 20, 0x20)]))), 'ARPA text of 17 MiB');
    assert.ok(!onHost(file('worker/model.ngram.gz', zlib.gzipSync(binary))), 'the embedded model gzipped: 3× its size is above 36 MiB');
  });

  it('lists for a webview exactly the files its worker loads, with their limits', () => {
    const arpa = file('page/my.arpa', ARPA);
    const n = recognizeModel(arpa, EMBEDDED);
    const nf = ngramBackend.webviewFiles!(n, {});
    assert.deepStrictEqual(Object.keys(nf.files), ['file']);
    assert.deepStrictEqual([nf.files.file.path, nf.files.file.name, nf.runtime], [arpa, 'my.arpa', undefined]);
    const g = recognizeModel('gpt-classics', EMBEDDED);
    const gf = onnxBackend.webviewFiles!(g, openOptions(g, {}));
    assert.strictEqual(gf.runtime, 'onnxruntime-web');
    assert.deepStrictEqual(Object.fromEntries(Object.entries(gf.files).map(([role, f]) => [role, f.name])), {
      config: 'config.json',
      tokenizer: 'tokenizer.json',
      tokenizerConfig: 'tokenizer_config.json',
      generationConfig: 'generation_config.json',
      onnx: 'onnx/model_quantized.onnx',
    });
    for (const f of Object.values(gf.files)) assert.strictEqual(f.path, path.join(EMBEDDED, 'gpt-classics', f.name));
    assert.ok(gf.files.onnx.maxBytes > gf.files.config.maxBytes);
  });

  it('offers every backend file ending in the file dialog', () => {
    assert.deepStrictEqual(modelFileExtensions(), ['gguf', 'arpa', 'ngram', 'gz']);
  });
});

describe('the engine relay through a webview page', () => {
  it('carries results with typed arrays as plain arrays, and gives them back typed', () => {
    const scores: EngineResponse = {
      id: 3,
      ok: true,
      op: 'sequenceScores',
      result: { logProbs: Float64Array.of(-0.5, -1.25), ranks: Int32Array.of(1, 7) },
    };
    const wire = toRelay(scores);
    // What a JSON-serialising channel makes of it.
    const back = fromRelay(JSON.parse(JSON.stringify(wire)));
    assert.deepStrictEqual(back, scores);
    assert.ok(back.ok && 'result' in back && back.result instanceof Object);
    const top: EngineResponse = {
      id: 4,
      ok: true,
      op: 'topTokens',
      result: { top: [{ id: 1, text: 'a', logProb: -0.1 }], entropy: 0.3, logProbs: Float64Array.of(-0.1, -2.4) },
    };
    assert.deepStrictEqual(fromRelay(JSON.parse(JSON.stringify(toRelay(top)))), top);
    const failure: EngineResponse = { id: 5, ok: false, error: 'cancelled', reason: 'cancelled' };
    assert.deepStrictEqual(fromRelay(toRelay(failure)), failure);
    const partial: EngineResponse = { id: 6, ok: true, op: 'generate', partial: { completion: 0, tokens: [] } };
    assert.deepStrictEqual(fromRelay(toRelay(partial)), partial);
  });
});
