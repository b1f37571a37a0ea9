/**
 * GGUF models on llama.cpp against independent references: the fixtures' PyTorch log-probs
 * (reference.json, float32) and their python tokenizers' ids, for the GGUF files that
 * training/export_gguf.py writes from the same weights; and for consistency, the same model's ONNX
 * export on onnxruntime, llama.cpp's own tokenizer, and ranks counted over whole distributions.
 */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GgufMetadata, GgufNeedMoreBytes, parseGgufHeader } from '../../src/core/gguf/ggufHeader';
import { ggufTokenizer } from '../../src/core/gguf/ggufTokenizer';
import type { LanguageModel } from '../../src/core/model';
import { ggufBackend } from '../../src/node/backends/ggufBackend';
import { openGguf, readGgufHeader } from '../../src/node/gguf/ggufFile';
import { getLlama } from '../../src/node/gguf/llamaRuntime';
import { findLocalGgufModels, ggufSearchFolders } from '../../src/node/localGgufModels';
import { loadModel, recognizeModel } from '../../src/node/modelLoader';
import { describeFacts } from '../../src/node/modelSummary';
import { formatBytes } from '../../src/core/modelLimits';
import { loadHuggingFaceFolder } from '../../src/node/neuralLoader';
import { CORPUS, REPO } from './helpers';

const FIXTURES = path.join(REPO, 'test', 'fixtures', 'models');
const gguf = (name: string) => path.join(FIXTURES, 'gguf', `${name}.gguf`);

interface Reference {
  text: string;
  add_bos: boolean;
  input_ids: number[];
  token_logprobs: number[];
  top5: { position: number; ids: number[]; logprobs: number[] }[];
}
const reference = (fixture: string): Reference => JSON.parse(fs.readFileSync(path.join(FIXTURES, fixture, 'reference.json'), 'utf8'));

/** Most a float32 log-prob of llama.cpp may differ from PyTorch's (as for the ONNX export). */
const PYTORCH_TOLERANCE = 1e-4;

/** 1 + tokens strictly more probable: the rank counted over a whole distribution. */
function rankIn(logProbs: Float64Array, token: number): number {
  let rank = 1;
  for (const lp of logProbs) if (lp > logProbs[token]) rank++;
  return rank;
}

describe('GGUF header and tokenizer (core)', () => {
  it('reads the fixtures’ headers: architecture, shape, precision, weights', () => {
    const meta = readGgufHeader(gguf('tiny-llama-f32'));
    assert.strictEqual(meta.header.version, 3);
    assert.strictEqual(meta.architecture, 'llama');
    assert.strictEqual(meta.int('llama.block_count'), 2);
    assert.strictEqual(meta.precision, 'F32');
    assert.strictEqual(readGgufHeader(gguf('tiny-qwen2-q8_0')).precision, 'Q8_0');
    // What Select Model shows, without loading the model.
    assert.strictEqual(
      describeFacts(ggufBackend.facts({ location: gguf('tiny-qwen2-q8_0'), name: 'q' }, {})!),
      `qwen2 transformer (GGUF, Q8_0), 2 layers, d = 64 · 0.1 M parameters · ${formatBytes(fs.statSync(gguf('tiny-qwen2-q8_0')).size)} · byte-level BPE (qwen2), 512 tokens · context 1,024 tokens`,
    );
    // 512 × 64 embedding + untied output, 2 layers of (64·64·2 + 64·32·2 + 3·64·128 + 2·64) + final norm.
    assert.strictEqual(meta.parameters, 2 * 512 * 64 + 2 * (2 * 64 * 64 + 2 * 64 * 32 + 3 * 64 * 128 + 2 * 64) + 64);
  });

  it('asks for more bytes when given a cut header, and names a file that is not GGUF', () => {
    const bytes = fs.readFileSync(gguf('tiny-llama-f32'));
    assert.throws(() => parseGgufHeader(bytes.subarray(0, 100), 'x.gguf'), GgufNeedMoreBytes);
    assert.throws(() => parseGgufHeader(new TextEncoder().encode('\\data\\\nngram 1=2'), 'x.gguf'), /x\.gguf.*not a GGUF file/);
    const badVersion = Buffer.from(bytes.subarray(0, 64));
    badVersion.writeUInt32LE(7, 4);
    assert.throws(() => parseGgufHeader(badVersion, 'x.gguf'), /GGUF version 7/);
  });

  for (const fixture of ['tiny-llama', 'tiny-qwen2']) {
    it(`${fixture}: the host tokenizer built from the header gives the reference tokenizer's ids, with BOS as the ONNX backend puts it`, async () => {
      const ref = reference(fixture);
      const tokenizer = await ggufBackend.hostTokenizer!({ location: gguf(`${fixture}-f32`), name: fixture }, {});
      const ids = tokenizer.encode(ref.text, true).map((t) => t.id);
      // tiny-qwen2 has no BOS: a text is conditioned on <|endoftext|> (500), as with its ONNX export.
      assert.deepStrictEqual(ids, ref.add_bos ? ref.input_ids : [500, ...ref.input_ids]);
      assert.strictEqual(tokenizer.decode(ref.input_ids.slice(ref.add_bos ? 1 : 0), false), ref.text);
    });
  }

  it('refuses a byte-level tokenizer whose pre-tokenizer it does not know, naming it', () => {
    const meta = readGgufHeader(gguf('tiny-qwen2-f32'));
    meta.header.metadata.set('tokenizer.ggml.pre', 'made-up');
    assert.throws(() => ggufTokenizer(meta), /pre-tokenizer "made-up"/);
    const copy = new GgufMetadata(meta.header, 'q.gguf');
    copy.header.metadata.set('tokenizer.ggml.model', 'bert');
    assert.throws(() => ggufTokenizer(copy), /q\.gguf.*tokenizer type "bert"/);
  });
});

describe('GGUF models on llama.cpp against PyTorch and their ONNX export', function () {
  this.timeout(120000);
  const opened: LanguageModel[] = [];
  const open = async (name: string, rankTop?: number) => {
    const model = await openGguf(gguf(name), name, { threads: 1, rankTop });
    opened.push(model);
    return model;
  };
  after(async () => {
    for (const m of opened) await m.dispose?.();
  });

  it('is recognised by the registry from a .gguf name and from its first bytes (an Ollama blob), named by its file', () => {
    const model = recognizeModel(gguf('tiny-llama-f32'));
    assert.strictEqual(model.backend.id, 'gguf');
    assert.strictEqual(model.name, 'tiny-llama-f32');
    const blob = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-gguf-')), 'sha256-0123abcd');
    fs.copyFileSync(gguf('tiny-llama-q8_0'), blob);
    try {
      assert.strictEqual(recognizeModel(blob).backend.id, 'gguf');
    } finally {
      fs.rmSync(path.dirname(blob), { recursive: true });
    }
  });

  it("llama.cpp's own tokenizer gives the reference ids (the host tokenizer's are checked against the same ids above)", async () => {
    const llama = await getLlama();
    for (const fixture of ['tiny-llama', 'tiny-qwen2']) {
      const model = await llama.loadModel({ modelPath: gguf(`${fixture}-f32`), gpuLayers: 0 });
      try {
        const ref = reference(fixture);
        assert.deepStrictEqual(model.tokenize(ref.text), ref.add_bos ? ref.input_ids.slice(1) : ref.input_ids, fixture);
        // And the host's tokenizer equals llama.cpp's on 30,000 characters of the corpus with digits, symbols and an emoji.
        const valid = path.join(CORPUS, 'valid');
        const text =
          fs.readFileSync(path.join(valid, fs.readdirSync(valid).sort()[0]), 'utf8').slice(0, 30000) + ' In 1984, 12345 people paid $3.50 — naïve 🙂\n\n  x  ';
        const host = await ggufBackend.hostTokenizer!({ location: gguf(`${fixture}-f32`), name: fixture }, {});
        const ids = host.encode(text, true).map((t) => t.id);
        // Without the start token the host puts first (BOS, or tiny-qwen2's <|endoftext|>).
        assert.deepStrictEqual(ids.slice(1), model.tokenize(text), fixture);
      } finally {
        await model.dispose();
      }
    }
  });

  for (const fixture of ['tiny-llama', 'tiny-qwen2']) {
    it(`${fixture} (f32): every token's log-prob equals PyTorch's, and each position's top 5`, async () => {
      const ref = reference(fixture);
      const model = await open(`${fixture}-f32`);
      const scores = await model.sequenceScores(ref.input_ids, 1);
      assert.strictEqual(scores.logProbs.length, ref.token_logprobs.length);
      let worst = 0;
      scores.logProbs.forEach((lp, i) => (worst = Math.max(worst, Math.abs(lp - ref.token_logprobs[i]))));
      assert.ok(worst < PYTORCH_TOLERANCE, `a log-prob differs from PyTorch's by ${worst}`);
      for (const top of ref.top5) {
        const logProbs = await model.nextLogProbs(ref.input_ids.slice(0, top.position + 1));
        const ids = [...logProbs.keys()].sort((a, b) => logProbs[b] - logProbs[a]).slice(0, 5);
        assert.deepStrictEqual(ids, top.ids, `top 5 after position ${top.position}`);
        top.logprobs.forEach((lp, k) => assert.ok(Math.abs(logProbs[top.ids[k]] - lp) < PYTORCH_TOLERANCE, `position ${top.position}, rank ${k + 1}`));
        let mass = 0;
        for (const lp of logProbs) mass += Math.exp(lp);
        assert.ok(Math.abs(mass - 1) < 1e-9, `the distribution sums to ${mass}`);
      }
    });

    it(`${fixture}: the GGUF file gives its ONNX export's numbers (log-probs and ranks), on the same token ids`, async () => {
      const ref = reference(fixture);
      const model = await open(`${fixture}-f32`);
      const onnx = await loadHuggingFaceFolder(path.join(FIXTURES, fixture), fixture, { dtype: { setting: 'fp32' } });
      try {
        const ids = onnx.tokenizer.encode(ref.text, true).map((t) => t.id);
        assert.deepStrictEqual(
          model.tokenizer.encode(ref.text, true).map((t) => t.id),
          ids,
        );
        assert.strictEqual(model.bosId, onnx.bosId);
        const [a, b] = [await model.sequenceScores(ids, 1), await onnx.sequenceScores(ids, 1)];
        let worst = 0;
        a.logProbs.forEach((lp, i) => (worst = Math.max(worst, Math.abs(lp - b.logProbs[i]))));
        assert.ok(worst < PYTORCH_TOLERANCE, `llama.cpp and onnxruntime differ by ${worst}`);
        const differ = [...a.ranks.keys()].filter((i) => a.ranks[i] !== b.ranks[i]);
        assert.deepStrictEqual(differ, [], `ranks differ at ${differ.slice(0, 5)}`);
      } finally {
        await onnx.dispose();
      }
    });
  }

  it('slides its 1,024-token window over a longer text as the ONNX export does: full windows, then half a window carried over', async () => {
    const model = await open('tiny-qwen2-f32');
    const onnx = await loadHuggingFaceFolder(path.join(FIXTURES, 'tiny-qwen2'), 'tiny-qwen2', { dtype: { setting: 'fp32' } });
    try {
      const valid = path.join(CORPUS, 'valid');
      const ids = onnx.tokenizer
        .encode(fs.readFileSync(path.join(valid, fs.readdirSync(valid).sort()[0]), 'utf8').slice(0, 9000), true)
        .map((t) => t.id)
        .slice(0, 1800);
      assert.strictEqual(ids.length, 1800);
      assert.strictEqual(model.info.contextLength, onnx.info.contextLength);
      const [a, b] = [await model.sequenceScores(ids, 1), await onnx.sequenceScores(ids, 1)];
      let worst = 0;
      a.logProbs.forEach((lp, i) => (worst = Math.max(worst, Math.abs(lp - b.logProbs[i]))));
      assert.ok(worst < PYTORCH_TOLERANCE, `llama.cpp and onnxruntime differ by ${worst}`);
      // A context of a whole window (1,024 tokens), asked alone: every token of it counts.
      const [x, y] = [await model.nextLogProbs(ids.slice(0, 1024)), await onnx.nextLogProbs(ids.slice(0, 1024))];
      worst = 0;
      x.forEach((lp, i) => (worst = Math.max(worst, Math.abs(lp - y[i]))));
      assert.ok(worst < PYTORCH_TOLERANCE, `after a whole window, llama.cpp and onnxruntime differ by ${worst}`);
    } finally {
      await onnx.dispose();
    }
  });

  it('ranks below the top logits come from a second evaluation and equal ranks counted over whole distributions (q8_0 run as it is)', async () => {
    const ref = reference('tiny-llama');
    // Only the top 8 logits per position: most targets need the second evaluation. llama.cpp's sums
    // depend on how tokens are batched (float32, about 1e-6 relative), hence the tolerance.
    const model = await open('tiny-llama-q8_0', 8);
    assert.strictEqual(model.info.precision, 'Q8_0');
    const ids = ref.input_ids.slice(0, 80);
    const scores = await model.sequenceScores(ids, 1);
    assert.ok([...scores.ranks].filter((r) => r > 8).length > 20, 'enough targets below the top 8');
    for (let t = 1; t < ids.length; t++) {
      const logProbs = await model.nextLogProbs(ids.slice(0, t));
      assert.strictEqual(scores.ranks[t - 1], rankIn(logProbs, ids[t]), `rank of token ${t}`);
      assert.ok(
        Math.abs(scores.logProbs[t - 1] - logProbs[ids[t]]) < PYTORCH_TOLERANCE,
        `log-prob of token ${t}: ${scores.logProbs[t - 1]} against ${logProbs[ids[t]]}`,
      );
    }
    // Quantised weights (and llama.cpp's 8-bit activations with them) stay near the float32 reference.
    const all = await model.sequenceLogProbs(ref.input_ids, 1);
    const mean = all.reduce((s, lp, i) => s + Math.abs(lp - ref.token_logprobs[i]), 0) / all.length;
    assert.ok(mean < 0.05, `mean difference from float32 ${mean}`);
  });

  it("runs in the engine's worker thread as the extension runs it: the host keeps the header's tokenizer, the numbers are the same", async () => {
    const ref = reference('tiny-llama');
    const model = await loadModel(gguf('tiny-llama-f32'), undefined, { inWorker: true, threads: 1 });
    opened.push(model);
    assert.strictEqual(model.info.backend, 'gguf');
    assert.ok(/GGUF F32/.test(model.info.description), model.info.description);
    assert.deepStrictEqual(
      model.tokenizer.encode(ref.text, true).map((t) => t.id),
      ref.input_ids,
    );
    const scores = await model.sequenceScores(ref.input_ids, 1);
    scores.logProbs.forEach((lp, i) => assert.ok(Math.abs(lp - ref.token_logprobs[i]) < PYTORCH_TOLERANCE, `token ${i + 1}`));
  });

  it('sequenceLogProbs (no ranks) gives sequenceScores’ log-probs, and a later nextLogProbs reuses nothing stale', async () => {
    const ref = reference('tiny-qwen2');
    const model = await open('tiny-qwen2-f32');
    const a = await model.sequenceLogProbs(ref.input_ids, 5);
    const b = await model.sequenceScores(ref.input_ids, 5);
    a.forEach((lp, i) => assert.ok(Math.abs(lp - b.logProbs[i]) < PYTORCH_TOLERANCE, `${i}: ${lp} against ${b.logProbs[i]}`));
    const short = await model.nextLogProbs(ref.input_ids.slice(0, 3));
    assert.ok(Math.abs(short[ref.input_ids[3]] - ref.token_logprobs[2]) < PYTORCH_TOLERANCE);
    const other = await model.nextLogProbs([ref.input_ids[0], ref.input_ids[5], ref.input_ids[2]]);
    assert.notDeepStrictEqual(other, short);
  });
});

describe('GGUF models where llama.cpp has no binary (the universal package)', function () {
  this.timeout(60000);
  it('the built CLI laid out as a package without bin/llama refuses a GGUF model with the reason; with the binary it scores it', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-universal-'));
    try {
      // The layout of an installed package: dist/ (the bundles), bin/ only in the platform packages.
      fs.mkdirSync(path.join(root, 'dist'));
      fs.copyFileSync(path.join(REPO, 'dist', 'cli.js'), path.join(root, 'dist', 'cli.js'));
      fs.cpSync(path.join(REPO, 'dist', 'llama'), path.join(root, 'dist', 'llama'), { recursive: true });
      const text = path.join(root, 'text.txt');
      fs.writeFileSync(text, 'The little café on the corner.');
      const run = () =>
        spawnSync(process.execPath, [path.join(root, 'dist', 'cli.js'), 'score', '--model', gguf('tiny-llama-f32'), '--json', text], { encoding: 'utf8' });
      const refused = run();
      assert.strictEqual(refused.status, 1, refused.stdout);
      assert.match(
        refused.stderr,
        /GGUF models need llama\.cpp's binary, which only LM Playground's packages for linux-x64 and linux-arm64 carry.*the universal one/,
      );
      fs.cpSync(path.join(REPO, 'bin', 'llama'), path.join(root, 'bin', 'llama'), { recursive: true });
      const scored = run();
      assert.strictEqual(scored.status, 0, scored.stderr);
      assert.strictEqual(JSON.parse(scored.stdout).model, 'tiny-llama-f32');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("Find GGUF models: LM Studio's and Ollama's folders", () => {
  let home: string;
  beforeEach(() => (home = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-home-'))));
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  it("lists LM Studio's publisher/repository/file.gguf (not its vision projectors) and Ollama's models by manifest, each a GGUF the registry opens", () => {
    const studio = path.join(home, '.lmstudio', 'models', 'lmstudio-community', 'Tiny-GGUF');
    fs.mkdirSync(studio, { recursive: true });
    fs.copyFileSync(gguf('tiny-llama-q8_0'), path.join(studio, 'tiny-Q8_0.gguf'));
    fs.writeFileSync(path.join(studio, 'mmproj-tiny-f16.gguf'), 'GGUF');
    const old = path.join(home, '.cache', 'lm-studio', 'models', 'a', 'b');
    fs.mkdirSync(old, { recursive: true });
    fs.copyFileSync(gguf('tiny-qwen2-q8_0'), path.join(old, 'qwen.gguf'));
    const ollama = path.join(home, 'ollama-store');
    const digest = 'a'.repeat(64);
    fs.mkdirSync(path.join(ollama, 'blobs'), { recursive: true });
    fs.copyFileSync(gguf('tiny-qwen2-f32'), path.join(ollama, 'blobs', `sha256-${digest}`));
    const manifest = path.join(ollama, 'manifests', 'registry.ollama.ai', 'library', 'tinyqwen');
    fs.mkdirSync(manifest, { recursive: true });
    const layers = [
      { mediaType: 'application/vnd.ollama.image.model', digest: `sha256:${digest}`, size: 1 },
      { mediaType: 'application/vnd.ollama.image.template', digest: `sha256:${'b'.repeat(64)}`, size: 1 },
    ];
    fs.writeFileSync(path.join(manifest, 'latest'), JSON.stringify({ schemaVersion: 2, layers }));
    // A manifest whose blob is missing is left out.
    fs.writeFileSync(
      path.join(manifest, 'gone'),
      JSON.stringify({ layers: [{ mediaType: 'application/vnd.ollama.image.model', digest: `sha256:${'c'.repeat(64)}` }] }),
    );

    const found = findLocalGgufModels(home, { OLLAMA_MODELS: ollama });
    assert.deepStrictEqual(
      found.map((m) => [m.source, m.label]),
      [
        ['LM Studio', 'a/b/qwen.gguf'],
        ['LM Studio', 'lmstudio-community/Tiny-GGUF/tiny-Q8_0.gguf'],
        ['Ollama', 'tinyqwen:latest'],
      ],
    );
    for (const m of found) assert.strictEqual(recognizeModel(m.path).backend.id, 'gguf', m.label);
    assert.strictEqual(found[2].bytes, fs.statSync(gguf('tiny-qwen2-f32')).size);
  });

  it('finds nothing, without failing, where neither tool is installed', () => {
    assert.deepStrictEqual(findLocalGgufModels(home, {}), []);
    assert.strictEqual(ggufSearchFolders(home, {}).ollama, path.join(home, '.ollama', 'models'));
  });
});
