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
import { GgufMetadata, GgufNeedMoreBytes, ggufDataEnd, parseGgufHeader } from '../../src/core/gguf/ggufHeader';
import { ggufTokenizer } from '../../src/core/gguf/ggufTokenizer';
import { CancelledError, ModelFormatError } from '../../src/core/errors';
import { WorkerLanguageModel } from '../../src/core/engine/engineClient';
import type { LanguageModel } from '../../src/core/model';
import { ggufBackend } from '../../src/node/backends/ggufBackend';
import { ggufShape, openGguf, readGgufHeader, refuseNonCausal, refuseWhatLlamaAborts } from '../../src/node/gguf/ggufFile';
import type { GgufLanguageModel, GgufModelSetup } from '../../src/node/gguf/ggufLanguageModel';
import { minPFor, rankFromCounts, stepFloat32 } from '../../src/node/gguf/minPThreshold';
import { getLlama } from '../../src/node/gguf/llamaRuntime';
import { findLocalGgufModels, ggufSearchFolders } from '../../src/node/localGgufModels';
import { loadModel, recognizeModel } from '../../src/node/modelLoader';
import { describeFacts } from '../../src/node/modelSummary';
import { formatBytes } from '../../src/core/modelLimits';
import { loadHuggingFaceFolder } from '../../src/node/neuralLoader';
import { CORPUS, REPO, corpusFiles } from './helpers';

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

  it('chooses min-p thresholds just above and just below a logit, on their side whichever way logf rounds', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 2000; i++) {
      const max = Math.fround(random() * 40 - 10);
      const logit = Math.fround(max - (random() < 0.1 ? random() * 1e-4 : random() * 30));
      if (!(logit < max)) continue;
      for (const side of [1, -1] as const) {
        const p = minPFor(logit, max, side);
        assert.ok(p !== undefined && p === Math.fround(p) && p > 0 && p <= 1, `${logit} ${max} ${side}: p ${p}`);
        const y = Math.fround(Math.log(p));
        for (const k of [-1, 0, 1]) {
          // llama.cpp: min_logit = max + logf(p), in float32; logf within one float32 step of the true value.
          const m = Math.fround(max + stepFloat32(y, k));
          assert.ok(side === 1 ? m > logit && m <= max : m <= logit, `${logit} ${max} ${side}: threshold ${m}`);
          // Near: within a few steps of the grid that max + logf(p) can express.
          const grid = Math.max(stepFloat32(max, 1) - max, stepFloat32(Math.abs(y), 1) - Math.abs(y));
          assert.ok(Math.abs(m - logit) <= 8 * grid, `${logit} ${max}: threshold ${m} is ${Math.abs(m - logit)} away (grid ${grid})`);
        }
      }
    }
    assert.strictEqual(rankFromCounts({ count: 41, keptTarget: false }, { count: 42, keptTarget: true }), 42);
    // Another logit between the thresholds, a tie with the target's included: not settled.
    assert.strictEqual(rankFromCounts({ count: 41, keptTarget: false }, { count: 43, keptTarget: true }), undefined);
    assert.strictEqual(rankFromCounts({ count: 41, keptTarget: true }, { count: 42, keptTarget: true }), undefined);
    assert.strictEqual(rankFromCounts({ count: 41, keptTarget: false }, { count: 42, keptTarget: false }), undefined);
  });

  it('knows where each fixture’s tensor data ends, and names a file cut short before llama.cpp sees it (f32, Q8_0, Q4_0)', async () => {
    const files = [gguf('tiny-llama-f32'), gguf('tiny-qwen2-q8_0')];
    const q4 = path.join(os.tmpdir(), `lmp-q4-${process.pid}.gguf`);
    const r = spawnSync('/usr/bin/python3', [path.join(REPO, 'training', 'export_gguf.py'), path.join(FIXTURES, 'tiny-llama'), q4, '--type', 'q4_0'], {
      encoding: 'utf8',
    });
    assert.strictEqual(r.status, 0, r.stderr);
    files.push(q4);
    const cut = path.join(os.tmpdir(), `lmp-cut-${process.pid}.gguf`);
    try {
      for (const file of files) {
        const size = fs.statSync(file).size;
        const end = ggufDataEnd(readGgufHeader(file).header)!;
        // The last tensor ends at the file's end (the writer pads nothing after it).
        assert.strictEqual(end.end, size, path.basename(file));
        fs.writeFileSync(cut, fs.readFileSync(file).subarray(0, size - 100));
        assert.throws(
          () => readGgufHeader(cut),
          (e: Error) =>
            e instanceof ModelFormatError &&
            e.message.includes(
              `the file is cut: the data of its tensor ${end.tensor} ends at byte ${size.toLocaleString('en-US')}, but the file has ${(size - 100).toLocaleString('en-US')} bytes`,
            ),
        );
        await assert.rejects(openGguf(cut, 'cut'), /the file is cut/);
      }
    } finally {
      fs.rmSync(cut, { force: true });
      fs.rmSync(q4, { force: true });
    }
  });

  it('reads a vocabulary without token types as llama.cpp does: <0xNN> tokens are bytes, so no character becomes <unk>', () => {
    // A SentencePiece vocabulary (byte-level BPE has no byte tokens to tell).
    const meta = readGgufHeader(gguf('tiny-llama-f32'));
    const metadata = new Map(meta.header.metadata);
    metadata.delete('tokenizer.ggml.token_type');
    const without = ggufTokenizer(new GgufMetadata({ ...meta.header, metadata }, meta.file));
    // The same tokenizer as with the types the converter writes: byte fallback, <s> </s> <unk> special.
    assert.deepStrictEqual(without.json, ggufTokenizer(meta).json);
  });

  it('refuses a declared context below 2 positions, naming the key, and keeps a small one as declared', () => {
    const meta = readGgufHeader(gguf('tiny-llama-f32'));
    const withContext = (n: number) => {
      const metadata = new Map(meta.header.metadata);
      metadata.set('llama.context_length', n);
      return new GgufMetadata({ ...meta.header, metadata }, meta.file);
    };
    assert.throws(
      () => ggufShape(withContext(0)),
      (e: Error) => e instanceof ModelFormatError && /llama\.context_length is 0: a model reads at least 2 positions/.test(e.message),
    );
    assert.throws(() => ggufShape(withContext(1)), /llama\.context_length is 1/);
    assert.strictEqual(ggufShape(withContext(2)).window, 2);
    assert.strictEqual(ggufShape(withContext(12)).window, 12);
  });

  it('refuses, naming the key, header values on which llama.cpp aborts the process instead of failing (hostile G1, G2)', () => {
    const edited = (fixture: string, edit: (m: Map<string, unknown>) => void) => {
      const meta = readGgufHeader(gguf(fixture));
      const metadata = new Map(meta.header.metadata);
      edit(metadata);
      return new GgufMetadata({ ...meta.header, metadata: metadata as typeof meta.header.metadata }, meta.file);
    };
    const refused = (fixture: string, edit: (m: Map<string, unknown>) => void, message: RegExp) =>
      assert.throws(
        () => refuseWhatLlamaAborts(edited(fixture, edit)),
        (e: Error) => e instanceof ModelFormatError && message.test(e.message) && /llama\.cpp cannot run it/.test(e.message),
      );
    refuseWhatLlamaAborts(edited('tiny-llama-f32', () => undefined));
    refuseWhatLlamaAborts(edited('tiny-qwen2-f32', () => undefined));
    refused('tiny-llama-f32', (m) => m.set('llama.attention.head_count', 0), /llama\.attention\.head_count is 0/);
    refused('tiny-llama-f32', (m) => m.set('llama.attention.head_count_kv', 0), /head_count_kv is 0/);
    refused('tiny-llama-f32', (m) => m.set('llama.attention.layer_norm_rms_epsilon', -1), /layer_norm_rms_epsilon is -1/);
    refused('tiny-llama-f32', (m) => m.set('llama.rope.freq_base', 0), /rope\.freq_base is 0/);
    refused('tiny-qwen2-f32', (m) => m.set('qwen2.rope.freq_base', NaN), /rope\.freq_base is NaN/);
    // A per-layer array of KV heads may hold 0 (layers without attention).
    refuseWhatLlamaAborts(edited('tiny-llama-f32', (m) => m.set('llama.attention.head_count_kv', [0, 2])));
    // A SentencePiece vocabulary without a line-break piece: renamed, as older conversions without byte fallback have it.
    const noLineBreak = (m: Map<string, unknown>) =>
      m.set(
        'tokenizer.ggml.tokens',
        (m.get('tokenizer.ggml.tokens') as string[]).map((t) => (t === '<0x0A>' ? 'zq0Azq' : t)),
      );
    refused('tiny-llama-f32', noLineBreak, /no token for a line break/);
    // Hostile round 3 (M1): four more, each a GGML_ASSERT that ended `lmp` with exit 134.
    refused('tiny-llama-f32', (m) => m.set('llama.feed_forward_length', 0), /llama\.feed_forward_length is 0/);
    refused('tiny-llama-f32', (m) => (m.set('llama.expert_used_count', 2), m.set('llama.expert_count', 0)), /expert_used_count is 2, more than its 0 experts/);
    refused('tiny-qwen2-f32', (m) => m.set('qwen2.expert_used_count', 3), /expert_used_count is 3, more than its 0 experts/);
    refused('tiny-llama-f32', (m) => m.set('llama.rope.scaling.type', 'bogus'), /rope\.scaling\.type is "bogus", not one of none, linear, yarn, longrope/);
    refuseWhatLlamaAborts(edited('tiny-llama-f32', (m) => m.set('llama.rope.scaling.type', 'linear')));
    refuseWhatLlamaAborts(edited('tiny-llama-f32', (m) => (m.set('llama.expert_used_count', 2), m.set('llama.expert_count', 8))));
    const twice = (m: Map<string, unknown>) => {
      const tokens = [...(m.get('tokenizer.ggml.tokens') as string[])];
      tokens[301] = tokens[300];
      m.set('tokenizer.ggml.tokens', tokens);
    };
    refused('tiny-llama-f32', twice, /has the token .* twice \(ids 300 and 301\)/);
    // Hostile round 4 (M1, L1): five more, each a GGML_ASSERT or a JavaScript error while loading.
    refused(
      'tiny-llama-f32',
      (m) => m.set('llama.expert_count', 4),
      /expert_count is 4 but llama\.expert_used_count is 0: a mixture of experts that uses none/,
    );
    refused('tiny-llama-f32', (m) => (m.set('llama.expert_count', 4), m.set('llama.expert_used_count', 0)), /uses none/);
    refused('tiny-llama-f32', (m) => m.set('llama.feed_forward_length', [0, 0]), /llama\.feed_forward_length is 0 in every layer/);
    refused('tiny-llama-f32', (m) => m.set('llama.attention.head_count_kv', [0, 0]), /head_count_kv is 0 in every layer/);
    refused('tiny-llama-f32', (m) => m.set('llama.block_count', 600), /block_count is 600, more than the 512 layers llama\.cpp allows/);
    refused('tiny-llama-f32', (m) => m.set('general.alignment', 0), /general\.alignment is 0, not a power of two/);
    refused('tiny-llama-f32', (m) => m.set('general.alignment', 3), /general\.alignment is 3, not a power of two/);
    refuseWhatLlamaAborts(edited('tiny-llama-f32', (m) => m.set('general.alignment', 64)));
    refuseWhatLlamaAborts(edited('tiny-llama-f32', (m) => m.set('llama.feed_forward_length', [0, 64])));
  });

  it('refuses a model whose attention is not causal (an embedding model’s header: its numbers would mean nothing; hostile round 3, M4)', () => {
    const meta = readGgufHeader(gguf('tiny-qwen2-f32'));
    refuseNonCausal(meta);
    meta.header.metadata.set('qwen2.attention.causal', true);
    refuseNonCausal(meta);
    meta.header.metadata.set('qwen2.attention.causal', false);
    assert.throws(
      () => refuseNonCausal(meta),
      (e: Error) => e instanceof ModelFormatError && /qwen2\.attention\.causal is false: an encoder or embedding model/.test(e.message),
    );
  });

  it('refuses a byte-level vocabulary without a token for a byte text can hold, naming the byte (hostile G6: it was dropped from the text)', () => {
    ggufTokenizer(readGgufHeader(gguf('tiny-qwen2-f32')));
    const meta = readGgufHeader(gguf('tiny-qwen2-f32'));
    // "Ċ" is the line feed's byte (0x0A) in GPT-2's byte alphabet.
    meta.header.metadata.set(
      'tokenizer.ggml.tokens',
      (meta.header.metadata.get('tokenizer.ggml.tokens') as string[]).map((t) => (t === 'Ċ' ? 'zqzq' : t)),
    );
    assert.throws(
      () => ggufTokenizer(meta),
      (e: Error) => e instanceof ModelFormatError && /no token for the byte 0x0A: text holding it could not be scored/.test(e.message),
    );
  });

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
  const open = async (name: string, ranks: Pick<GgufModelSetup, 'ranksFrom'> = {}) => {
    const model = await openGguf(gguf(name), name, { threads: 1, ...ranks });
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

  for (const [way, ranks] of [
    ['counted in llama.cpp', {}],
    ['read from whole distributions', { ranksFrom: 'distributions' }],
  ] as const) {
    it(`ranks ${way} equal ranks counted over whole distributions, log-probs too (q8_0 run as it is)`, async () => {
      const ref = reference('tiny-llama');
      const model = (await open('tiny-llama-q8_0', ranks)) as GgufLanguageModel;
      assert.strictEqual(model.info.precision, 'Q8_0');
      // Longer than a chunk (64 positions), from a later start: chunks begin inside the text.
      const ids = ref.input_ids.slice(0, 150);
      const scores = await model.sequenceScores(ids, 3);
      const notFirst = [...scores.ranks].filter((r) => r > 1).length;
      assert.ok(notFirst > 50, `enough targets below the first: ${notFirst}`);
      const { counted, whole } = model.rankSources;
      if (ranks.ranksFrom === 'distributions') assert.deepStrictEqual([counted, whole], [0, notFirst]);
      // Counted, but for targets with another logit within float32 rounding of theirs (a few at most).
      else assert.ok(counted >= notFirst - 3 && counted + whole === notFirst, `counted ${counted}, whole ${whole}, of ${notFirst}`);
      // llama.cpp's sums depend on how tokens are batched (float32, about 1e-6 relative), hence the tolerance.
      for (let t = 3; t < ids.length; t++) {
        const logProbs = await model.nextLogProbs(ids.slice(0, t));
        assert.strictEqual(scores.ranks[t - 3], rankIn(logProbs, ids[t]), `rank of token ${t}`);
        assert.ok(
          Math.abs(scores.logProbs[t - 3] - logProbs[ids[t]]) < PYTORCH_TOLERANCE,
          `log-prob of token ${t}: ${scores.logProbs[t - 3]} against ${logProbs[ids[t]]}`,
        );
      }
      // Quantised weights (and llama.cpp's 8-bit activations with them) stay near the float32 reference.
      const all = await model.sequenceLogProbs(ref.input_ids, 1);
      const mean = all.reduce((s, lp, i) => s + Math.abs(lp - ref.token_logprobs[i]), 0) / all.length;
      assert.ok(mean < 0.05, `mean difference from float32 ${mean}`);
    });
  }

  it("reads the writer's Q6_K blocks as the values the writer means them to be (equal log-probs with those values in float32)", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-q6k-'));
    const [q6k, f32] = [path.join(dir, 'q6k.gguf'), path.join(dir, 'f32.gguf')];
    try {
      const r = spawnSync('/usr/bin/python3', [path.join(REPO, 'training', 'q6k_pair.py'), path.join(REPO, 'models', 'gpt-classics'), q6k, f32], {
        encoding: 'utf8',
      });
      assert.strictEqual(r.status, 0, r.stderr);
      const types = (file: string) => Object.fromEntries(readGgufHeader(file).header.tensors.map((t) => [t.name, t.type]));
      assert.deepStrictEqual([types(q6k)['token_embd.weight'], types(f32)['token_embd.weight']], [14, 0]);
      const scores: Float64Array[] = [];
      for (const file of [q6k, f32]) {
        const model = await openGguf(file, path.basename(file), { threads: 1 });
        try {
          // gpt-classics' window is 128 tokens: one window.
          const tokens = model.tokenizer.encode(fs.readFileSync(corpusFiles('valid')[0], 'utf8').slice(0, 2000), true).map((t) => t.id);
          scores.push(await model.sequenceLogProbs(tokens.slice(0, 120), 1));
        } finally {
          await model.dispose();
        }
      }
      assert.deepStrictEqual([...scores[0]], [...scores[1]]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("writes a q4_0 file's output matrix as llama-quantize does: Q6_K, Q8_0 where rows do not split into 256s; a tied embedding follows it", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-q4out-'));
    try {
      const types = (folder: string) => {
        const out = path.join(dir, `${path.basename(folder)}.gguf`);
        const r = spawnSync('/usr/bin/python3', [path.join(REPO, 'training', 'export_gguf.py'), folder, out, '--type', 'q4_0'], { encoding: 'utf8' });
        assert.strictEqual(r.status, 0, r.stderr);
        const meta = readGgufHeader(out);
        assert.strictEqual(meta.precision, 'Q4_0');
        return Object.fromEntries(meta.header.tensors.map((t) => [t.name, t.type]));
      };
      // tiny-llama: untied, rows of 64: the output matrix Q8_0, the embedding Q4_0 as every other matrix.
      const llama = types(path.join(FIXTURES, 'tiny-llama'));
      assert.deepStrictEqual([llama['output.weight'], llama['token_embd.weight'], llama['blk.0.ffn_up.weight']], [8, 2, 2]);
      // gpt-classics: the embedding is the output matrix, rows of 256: Q6_K.
      const gpt = types(path.join(REPO, 'models', 'gpt-classics'));
      assert.deepStrictEqual([gpt['output.weight'], gpt['token_embd.weight'], gpt['blk.0.ffn_up.weight']], [undefined, 14, 2]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps running, with the same numbers, when its file is rewritten or cut while it is loaded (it is read, not mapped)', async () => {
    const ref = reference('tiny-llama');
    const live = path.join(os.tmpdir(), `lmp-live-${process.pid}.gguf`);
    fs.copyFileSync(gguf('tiny-llama-f32'), live);
    try {
      const model = await openGguf(live, 'live', { threads: 1 });
      opened.push(model);
      const before = await model.sequenceLogProbs(ref.input_ids, 1);
      // As `cp other.gguf live.gguf` or an export to the same path does: the same inode, other bytes, shorter.
      fs.writeFileSync(live, fs.readFileSync(gguf('tiny-qwen2-q8_0')));
      fs.truncateSync(live, 1000);
      const after = await model.sequenceLogProbs(ref.input_ids, 1);
      assert.deepStrictEqual(after, before);
    } finally {
      fs.rmSync(live, { force: true });
    }
  });

  it("runs in the engine's child process as the extension runs it: the host keeps the header's tokenizer, the numbers are the same", async () => {
    const ref = reference('tiny-llama');
    const model = await loadModel(gguf('tiny-llama-f32'), undefined, { inWorker: true, threads: 1 });
    opened.push(model);
    assert.strictEqual(model.info.backend, 'gguf');
    assert.ok(model instanceof WorkerLanguageModel && model.supervisor, 'off the host, supervised');
    assert.ok(/GGUF F32/.test(model.info.description), model.info.description);
    assert.deepStrictEqual(
      model.tokenizer.encode(ref.text, true).map((t) => t.id),
      ref.input_ids,
    );
    const scores = await model.sequenceScores(ref.input_ids, 1);
    scores.logProbs.forEach((lp, i) => assert.ok(Math.abs(lp - ref.token_logprobs[i]) < PYTORCH_TOLERANCE, `token ${i + 1}`));
  });

  it('a file whose weights give NaN is an error naming the model, for scoring and the next token, and the process lives on (hostile G3)', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-nan-')), 'nan.gguf');
    try {
      const bytes = fs.readFileSync(gguf('tiny-llama-f32'));
      const header = parseGgufHeader(bytes, file);
      const alignment = Number(header.metadata.get('general.alignment') ?? 32) || 32;
      const output = header.tensors.find((t) => t.name === 'output.weight')!;
      const at = Math.ceil(header.headerBytes / alignment) * alignment + output.offset;
      // Float32 NaN in every output weight (as a float16 overflow in a conversion leaves them).
      for (let k = 0; k < output.dims[0] * output.dims[1]; k++) bytes.writeUInt32LE(0x7fc00000, at + 4 * k);
      fs.writeFileSync(file, bytes);
      const model = await openGguf(file, 'broken', { threads: 1 });
      opened.push(model);
      const ids = reference('tiny-llama').input_ids.slice(0, 20);
      const notFinite = (e: Error) => /broken gives logits that are not finite numbers/.test(e.message);
      await assert.rejects(model.sequenceScores(ids, 1), notFinite);
      await assert.rejects(model.sequenceLogProbs(ids, 1), notFinite);
      await assert.rejects(model.nextLogProbs(ids), notFinite);
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });

  it('looks at Stop between passes of a long context before its last position, not once for all of it (hostile G4)', async () => {
    const model = await open('tiny-llama-f32');
    const ids = reference('tiny-llama').input_ids;
    const context = Array.from({ length: 700 }, (_, i) => ids[i % ids.length]);
    let looks = 0;
    const counting = {
      get cancelled() {
        looks++;
        return false;
      },
    };
    await model.nextLogProbs(context, counting);
    // Once on entry, before each pass of at most 256 tokens up to the last position, and before the last position's pass.
    assert.ok(looks >= 1 + Math.ceil(699 / 256) + 1, `Stop looked at ${looks} times`);
    let left = 2;
    const stopping = {
      get cancelled() {
        return --left < 0;
      },
    };
    await assert.rejects(model.nextLogProbs(context.slice(1), stopping), (e: Error) => e instanceof CancelledError);
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
  it("gives llama.cpp's reason when it cannot load a file (the tensor with the wrong shape), not only its 'Failed to load model' (hostile L-G1)", () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-heads-')), 'heads.gguf');
    try {
      const bytes = fs.readFileSync(gguf('tiny-llama-f32'));
      // The key as the header stores it (a u64 length, the bytes), then its value's type (u32 = 4) and value.
      const key = Buffer.from('llama.attention.head_count');
      const length = Buffer.alloc(8);
      length.writeBigUInt64LE(BigInt(key.length));
      const at = bytes.indexOf(Buffer.concat([length, key])) + 8 + key.length;
      assert.strictEqual(bytes.readUInt32LE(at), 4, 'head_count is a u32');
      bytes.writeUInt32LE(3, at + 4);
      fs.writeFileSync(file, bytes);
      // In a process of its own: llama.cpp has one logger per process, and this file's worker-thread test takes it.
      const r = spawnSync(process.execPath, [path.join(REPO, 'dist', 'cli.js'), 'score', '--model', file, gguf('tiny-llama-f32')], { encoding: 'utf8' });
      assert.strictEqual(r.status, 1, r.stderr);
      assert.match(r.stderr, /heads\.gguf: llama\.cpp cannot load it: .*tensor 'blk\.0\.attn_q\.weight' has wrong shape/);
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });
});

describe('GGUF models from the built CLI', function () {
  this.timeout(60000);
  it('says that --dtype is ignored for a GGUF file (it runs the weights it holds), and scores it the same', () => {
    const text = path.join(os.tmpdir(), `lmp-dtype-${process.pid}.txt`);
    fs.writeFileSync(text, 'The little café on the corner.');
    try {
      const run = (...extra: string[]) =>
        spawnSync(process.execPath, [path.join(REPO, 'dist', 'cli.js'), 'score', '--model', gguf('tiny-llama-q8_0'), '--json', ...extra, text], {
          encoding: 'utf8',
        });
      const plain = run();
      const withDtype = run('--dtype', 'fp32');
      assert.strictEqual(withDtype.status, 0, withDtype.stderr);
      assert.strictEqual(plain.stderr, '');
      assert.match(withDtype.stderr, /--dtype fp32 is ignored: tiny-llama-q8_0 is a GGUF file, which runs the weights it holds \(Q8_0\)/);
      assert.strictEqual(JSON.parse(withDtype.stdout).logprob_nats, JSON.parse(plain.stdout).logprob_nats);
    } finally {
      fs.rmSync(text, { force: true });
    }
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
    // Selected, an Ollama blob is named by its model and tag (status bar, hover), an LM Studio file by its name.
    assert.deepStrictEqual(
      found.map((m) => recognizeModel(m.path).name),
      ['qwen', 'tiny-Q8_0', 'tinyqwen:latest'],
    );
    assert.strictEqual(found[2].bytes, fs.statSync(gguf('tiny-qwen2-f32')).size);
  });

  it('finds nothing, without failing, where neither tool is installed', () => {
    assert.deepStrictEqual(findLocalGgufModels(home, {}), []);
    assert.strictEqual(ggufSearchFolders(home, {}).ollama, path.join(home, '.ollama', 'models'));
  });
});

describe('a model path that is a FIFO (hostile round 4, H1: the host blocked in open())', () => {
  it('is told at once, not waited on for a writer', function () {
    if (process.platform === 'win32') this.skip();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-fifo-'));
    const fifo = path.join(dir, 'model');
    try {
      assert.strictEqual(spawnSync('mkfifo', [fifo]).status, 0);
      // In a child process: a blocked open() would hang this one beyond any mocha timeout.
      const probe = `
        const { recognize } = require(${JSON.stringify(path.join(REPO, 'out', 'src', 'node', 'backends', 'registry.js'))});
        const { readGgufHeader } = require(${JSON.stringify(path.join(REPO, 'out', 'src', 'node', 'gguf', 'ggufFile.js'))});
        const found = recognize({ path: process.argv[1], isDirectory: false });
        let error = '';
        try { readGgufHeader(process.argv[1]); } catch (e) { error = e.message; }
        console.log(JSON.stringify({ found: found ? found.backend.name : null, error }));`;
      const out = spawnSync(process.execPath, ['-e', probe, fifo], { timeout: 30_000, encoding: 'utf8' });
      assert.strictEqual(out.signal, null, `the probe was ended by ${out.signal}: it blocked (stderr: ${out.stderr})`);
      const { error } = JSON.parse(out.stdout.trim().split('\n').pop()!) as { found: string | null; error: string };
      assert.match(error, /not a regular file/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
