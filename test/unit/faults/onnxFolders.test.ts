/**
 * Bad Hugging Face ONNX folders, made at run time from the fixtures: a missing or cut external
 * data file, a data location outside the folder, a dtype the folder does not have, a graph whose
 * inputs do not match config.json or that this engine cannot feed, a tokenizer that does not fit
 * the graph, a float16 graph on a runtime without float16. Each must give a ModelFormatError that
 * names the file and says what to do; the loaders fail before any model replaces the active one.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { InferenceSession } from 'onnxruntime-common';
import { ModelFormatError } from '../../../src/core/errors';
import { OnnxCausalLm, type OrtModule } from '../../../src/core/neural/onnxCausalLm';
import { readGraphSignature } from '../../../src/core/neural/graphInputs';
import { scoreText } from '../../../src/core/scoring';
import { loadHuggingFaceFolder, readFolderFiles } from '../../../src/node/neuralLoader';
import { onnxBackend } from '../../../src/node/backends/onnxBackend';
import { startEngineWorker } from '../../../src/node/workerHost';
import { modelFilesForPage } from '../../../src/vscode/pageModelFiles';
import { ONNX_FIXTURES as FIXTURES } from '../helpers';

describe('faults: Hugging Face ONNX folders', function () {
  this.timeout(120000);
  let dir: string;
  let n = 0;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-onnx-faults-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A copy of a fixture, changed by `edit` (given the copy's folder). */
  const copy = (name: string, edit: (d: string) => void): string => {
    const d = path.join(dir, `${name}-${n++}`);
    fs.cpSync(path.join(FIXTURES, name), d, { recursive: true });
    edit(d);
    return d;
  };
  const editJson = (file: string, edit: (j: Record<string, unknown>) => void) => {
    const j = JSON.parse(fs.readFileSync(file, 'utf8'));
    edit(j);
    fs.writeFileSync(file, JSON.stringify(j));
  };
  /** The load fails with a ModelFormatError about `file` whose message matches each of `patterns`. */
  const refused = async (load: Promise<unknown>, file: string, ...patterns: RegExp[]) =>
    assert.rejects(load, (e: Error) => {
      assert.ok(e instanceof ModelFormatError, `expected a ModelFormatError, got ${e.stack}`);
      assert.ok(e.message.startsWith(`${file}: `), e.message);
      for (const p of patterns) assert.match(e.message, p);
      return true;
    });

  it('a missing external data file is named, with the graph that needs it and the fix, on every path a model loads by', async () => {
    const d = copy('tiny-llama', (d) => fs.rmSync(path.join(d, 'onnx', 'model.onnx_data')));
    const data = path.join(d, 'onnx', 'model.onnx_data');
    const why = [/missing: the graph model\.onnx keeps its weights in this file/, /LM: Download Model/, /lmPlayground\.dtype/];
    for (const device of ['native', 'wasm'] as const) await refused(loadHuggingFaceFolder(d, 'x', { device, dtype: { setting: 'fp32' } }), data, ...why);
    await refused(startEngineWorker({ backend: onnxBackend, location: d, name: 'x' }, { device: 'native', dtype: { setting: 'fp32' } }), data, ...why);
    assert.throws(
      () => modelFilesForPage({ backend: onnxBackend, location: d, name: 'x' }, { dtype: { setting: 'fp32' } }),
      (e: Error) => e.message.startsWith(`${data}: missing`),
    );
    // The variants that keep their weights inside the graph still load.
    const q4 = await loadHuggingFaceFolder(d, 'x', { dtype: { setting: 'q4' } });
    await q4.dispose();
  });

  it('a cut external data file (an interrupted copy) is refused before onnxruntime reads past its end', async () => {
    const d = copy('tiny-llama', (d) => {
      const file = path.join(d, 'onnx', 'model.onnx_data');
      fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2));
    });
    await refused(
      loadHuggingFaceFolder(d, 'x', { dtype: { setting: 'fp32' } }),
      path.join(d, 'onnx', 'model.onnx_data'),
      /the file is incomplete .*download it again/,
    );
  });

  it('forged external data offsets (past the end, negative, overlapping another tensor) are refused naming the tensor, the file and the sizes', async () => {
    /** The fixture with one tensor's offset rewritten in place (same number of digits: the protobuf stays well formed). */
    const forged = (from: string, to: string) =>
      copy('tiny-llama', (d) => {
        const graph = path.join(d, 'onnx', 'model.onnx');
        const entry = (offset: string) => Buffer.from(`\x0a\x06offset\x12${String.fromCharCode(offset.length)}${offset}`, 'latin1');
        const bytes = fs.readFileSync(graph);
        const at = bytes.indexOf(entry(from));
        assert.ok(at > 0 && bytes.indexOf(entry(from), at + 1) < 0, `one tensor at offset ${from}`);
        entry(to).copy(bytes, at);
        fs.writeFileSync(graph, bytes);
      });
    const dataSize = fs.statSync(path.join(FIXTURES, 'tiny-llama', 'onnx', 'model.onnx_data')).size;
    const cases: [string, string, (d: string) => string, RegExp][] = [
      [
        '163840',
        '999999',
        (d) => path.join(d, 'onnx', 'model.onnx_data'),
        new RegExp(
          `reads the tensor "[^"]+" up to byte [0-9,]+ of "model\\.onnx_data", which has ${dataSize.toLocaleString('en-US')} bytes.*download it again`,
        ),
      ],
      [
        '131072',
        '-31072',
        (d) => path.join(d, 'onnx', 'model.onnx'),
        /the tensor "[^"]+" in its external data file "model\.onnx_data" has the offset "-31072", not a count of bytes: refused/,
      ],
      [
        '147456',
        '000000',
        (d) => path.join(d, 'onnx', 'model.onnx'),
        /the tensors "[^"]+" \(bytes 0 to \d+\) and "[^"]+" \(bytes 0 to \d+\) overlap in the external data file "model\.onnx_data": refused/,
      ],
    ];
    for (const [from, to, file, message] of cases) {
      const d = forged(from, to);
      for (const device of ['native', 'wasm'] as const) await refused(loadHuggingFaceFolder(d, 'x', { device, dtype: { setting: 'fp32' } }), file(d), message);
    }
  });

  it('an external data location outside the model folder is refused, not handed to a runtime', async () => {
    const d = copy('tiny-llama', (d) => {
      const graph = path.join(d, 'onnx', 'model.onnx');
      const bytes = fs.readFileSync(graph);
      // Same length, so the protobuf stays well formed: every initializer now points one folder up.
      fs.writeFileSync(graph, Buffer.from(bytes.toString('latin1').split('model.onnx_data').join('../model.onnx_d'), 'latin1'));
      fs.copyFileSync(path.join(d, 'onnx', 'model.onnx_data'), path.join(d, 'model.onnx_d'));
    });
    for (const device of ['native', 'wasm'] as const) {
      await refused(
        loadHuggingFaceFolder(d, 'x', { device, dtype: { setting: 'fp32' } }),
        path.join(d, 'onnx', 'model.onnx'),
        /"\.\.\/model\.onnx_d", outside the graph's folder: refused/,
      );
    }
  });

  it('an external data file that is a link out of the model folder is refused on every device', async () => {
    const outside = path.join(dir, `outside-${n}.onnx_data`);
    const d = copy('tiny-llama', (d) => {
      const data = path.join(d, 'onnx', 'model.onnx_data');
      fs.renameSync(data, outside);
      fs.symlinkSync(outside, data);
    });
    for (const device of ['native', 'wasm'] as const) {
      await refused(
        loadHuggingFaceFolder(d, 'x', { device, dtype: { setting: 'fp32' } }),
        path.join(d, 'onnx', 'model.onnx_data'),
        /leads outside the model's folder/,
      );
    }
  });

  it('a dtype the folder does not have: the error lists the variants it has', async () => {
    const d = path.join(FIXTURES, 'tiny-llama');
    await refused(
      loadHuggingFaceFolder(d, 'x', { dtype: { setting: 'bnb4' } }),
      d,
      /bnb4 was asked for \(lmPlayground\.dtype, or lmp --dtype\), but this folder has no bnb4 graph \(onnx\/model_bnb4\.onnx\); it has fp32 \(onnx\/model\.onnx\), fp16 \(onnx\/model_fp16\.onnx\), q4 \(onnx\/model_q4\.onnx\), q4f16 \(onnx\/model_q4f16\.onnx\), int8 \(onnx\/model_int8\.onnx\)/,
      /Ask for one of these or for auto/,
    );
  });

  it('an empty graph or a Git LFS pointer is named as such with the fix; auto passes over it to a real variant', async () => {
    const pointer = 'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 221859\n';
    for (const [what, content, pattern] of [
      ['a Git LFS pointer', pointer, /a Git LFS pointer, not an ONNX graph .*git lfs pull/],
      ['empty', '', /empty, not an ONNX graph: download it again/],
    ] as const) {
      const d = copy('tiny-llama', (d) => fs.writeFileSync(path.join(d, 'onnx', 'model_int8.onnx'), content));
      for (const device of ['native', 'wasm'] as const) {
        await refused(loadHuggingFaceFolder(d, 'x', { device, dtype: { setting: 'int8' } }), path.join(d, 'onnx', 'model_int8.onnx'), pattern);
      }
      // int8 is auto's first choice on native: the folder's other variants run instead.
      const lm = await loadHuggingFaceFolder(d, 'x', { device: 'native', dtype: { setting: 'auto' } });
      assert.notStrictEqual(lm.info.precision, 'int8', what);
      await lm.dispose();
    }
    const d = copy('tiny-llama', (d) => fs.writeFileSync(path.join(d, 'onnx', 'model.onnx_data'), pointer));
    await refused(
      loadHuggingFaceFolder(d, 'x', { dtype: { setting: 'fp32' } }),
      path.join(d, 'onnx', 'model.onnx_data'),
      /a Git LFS pointer, not the weights of model\.onnx \(its external data\)/,
    );
  });

  it("another model's tokenizer that fits the graph's vocabulary loads with a warning naming the mismatch (hostile13 M3); the fixtures have none", async () => {
    const d = copy('tiny-llama', (d) => {
      for (const f of ['tokenizer.json', 'tokenizer_config.json']) fs.copyFileSync(path.join(FIXTURES, 'tiny-qwen2', f), path.join(d, f));
    });
    const lm = await loadHuggingFaceFolder(d, 'x', { dtype: { setting: 'fp32' } });
    assert.match(lm.info.warning ?? '', /eos_token_id 2 is an ordinary token of .*tokenizer\.json, not one of its special tokens .*another model's/);
    await lm.dispose();
    for (const name of ['tiny-llama', 'tiny-qwen2', 'tiny-qwen3']) {
      const own = await loadHuggingFaceFolder(path.join(FIXTURES, name), name, { dtype: { setting: 'fp32' } });
      assert.strictEqual(own.info.warning, undefined, name);
      await own.dispose();
    }
  });

  it('weights too large for WASM memory are refused before they are read, with the fix; natively they load', async () => {
    // Sparse: 3.1 GiB on the disk's books, nothing written (the graph reads only its first bytes).
    const d = copy('tiny-llama', (d) => fs.truncateSync(path.join(d, 'onnx', 'model.onnx_data'), Math.round(3.1 * 2 ** 30)));
    const started = Date.now();
    await refused(
      loadHuggingFaceFolder(d, 'x', { device: 'wasm', dtype: { setting: 'fp32' } }),
      path.join(d, 'onnx', 'model.onnx'),
      /3\.1 GiB of graph and weights, more than the 3 GiB WASM can hold: run it natively .*or choose a smaller variant/,
    );
    assert.ok(Date.now() - started < 5_000, 'refused before reading the file');
    // A page (the playground, the editor's WebGPU model) too: the host would read the files whole to post them.
    for (const runtime of ['wasm', 'webgpu'] as const) {
      assert.throws(
        () => modelFilesForPage({ backend: onnxBackend, location: d, name: 'x' }, { dtype: { setting: 'fp32' }, webview: { runtime } }),
        (e: Error) =>
          e instanceof ModelFormatError &&
          e.message.startsWith(
            `${path.join(d, 'onnx', 'model.onnx')}: 3.1 GiB of graph and weights, more than the 3 GiB WASM can hold: a page runs ONNX models`,
          ) &&
          /choose a smaller variant \(lmPlayground\.dtype q4 or int8\)/.test(e.message),
      );
    }
    const lm = await loadHuggingFaceFolder(d, 'x', { device: 'native', dtype: { setting: 'fp32' } });
    await lm.dispose();
  });

  it("a snapshot of the Hugging Face hub cache (every file a link into the repository's blobs) loads, named by its repository", async () => {
    // As huggingface-cli lays it out: models--ORG--NAME/snapshots/REVISION/FILE -> ../../blobs/HASH.
    const repo = path.join(dir, `hub-${n++}`, 'models--test--tiny-llama');
    const snapshot = path.join(repo, 'snapshots', '0123456789abcdef0123456789abcdef01234567');
    fs.mkdirSync(path.join(repo, 'blobs'), { recursive: true });
    fs.mkdirSync(path.join(snapshot, 'onnx'), { recursive: true });
    const source = path.join(FIXTURES, 'tiny-llama');
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'onnx/model.onnx', 'onnx/model.onnx_data']) {
      const blob = path.join(repo, 'blobs', f.replace(/\W/g, '_'));
      fs.copyFileSync(path.join(source, f), blob);
      fs.symlinkSync(path.relative(path.dirname(path.join(snapshot, f)), blob), path.join(snapshot, f));
    }
    for (const device of ['native', 'wasm'] as const) {
      const lm = await loadHuggingFaceFolder(snapshot, 'x', { device, dtype: { setting: 'fp32' } });
      const reference = await loadHuggingFaceFolder(source, 'x', { device, dtype: { setting: 'fp32' } });
      const text = 'The little café on the corner changed hands again.';
      assert.strictEqual((await scoreText(lm, text)).summary.bitsPerChar, (await scoreText(reference, text)).summary.bitsPerChar, device);
      await lm.dispose();
      await reference.dispose();
    }
    assert.strictEqual(onnxBackend.nameOf!(snapshot), 'test/tiny-llama');
    // A link out of the snapshot to anything but the repository's blobs is still refused.
    const data = path.join(snapshot, 'onnx', 'model.onnx_data');
    const elsewhere = path.join(repo, 'elsewhere.onnx_data');
    fs.copyFileSync(data, elsewhere);
    fs.rmSync(data);
    fs.symlinkSync(elsewhere, data);
    await refused(loadHuggingFaceFolder(snapshot, 'x', { dtype: { setting: 'fp32' } }), data, /leads outside the model's folder/);
  });

  it('a config.json that does not match the graph is named with what differs', async () => {
    const config = (edit: (c: Record<string, unknown>) => void) => copy('tiny-llama', (d) => editJson(path.join(d, 'config.json'), edit));
    const cases: [(c: Record<string, unknown>) => void, RegExp][] = [
      [(c) => (c.num_key_value_heads = 4), /caches 2 key\/value heads per layer but config\.json says 4/],
      [(c) => (c.head_dim = 32), /has heads of size 16 but config\.json says 32/],
      [(c) => (c.num_hidden_layers = 3), /num_hidden_layers is 3 but the graph .* has 2 layers/],
    ];
    for (const [edit, message] of cases) {
      const d = config(edit);
      await refused(loadHuggingFaceFolder(d, 'x', { dtype: { setting: 'fp32' } }), path.join(d, 'config.json'), message);
    }
    const vocab = config((c) => (c.vocab_size = 600));
    await refused(
      loadHuggingFaceFolder(vocab, 'x', { dtype: { setting: 'q4' } }),
      path.join(vocab, 'onnx', 'model_q4.onnx'),
      /logits have 512 entries per token but config\.json says vocab_size 600/,
    );
    const eos = config((c) => (c.eos_token_id = [2, 512]));
    await refused(loadHuggingFaceFolder(eos, 'x'), path.join(eos, 'config.json'), /eos_token_id 512 is out of range \(0 to 511: a token of the vocabulary\)/);
    const generation = copy('tiny-qwen2', (d) => editJson(path.join(d, 'generation_config.json'), (g) => (g.eos_token_id = [502, 'x'])));
    await refused(loadHuggingFaceFolder(generation, 'x'), path.join(generation, 'generation_config.json'), /eos_token_id must be a token id or a list of them/);
  });

  it('a graph with inputs this engine cannot feed (a hybrid model’s convolution or state caches) is refused by their names', async () => {
    const d = copy('tiny-llama', (d) => {
      const graph = path.join(d, 'onnx', 'model_q4.onnx');
      const bytes = fs.readFileSync(graph).toString('latin1');
      // Renamed everywhere it occurs, so that the graph stays consistent: a cache input that is no KV cache.
      fs.writeFileSync(graph, Buffer.from(bytes.split('past_key_values.1.value').join('past_conv.1.state______'), 'latin1'));
    });
    await refused(
      loadHuggingFaceFolder(d, 'x', { dtype: { setting: 'q4' } }),
      path.join(d, 'onnx', 'model_q4.onnx'),
      /the graph has inputs this engine cannot feed: past_conv\.1\.state______/,
      /past_conv, past_ssm: LFM2, Mamba and other hybrids/,
    );
    // From metadata alone, as a real hybrid export lists them.
    const session = {
      inputNames: ['input_ids', 'attention_mask', 'position_ids', 'past_conv.0', 'past_key_values.0.key', 'past_key_values.0.value', 'past_ssm.1'],
      outputNames: ['logits', 'present.0.key', 'present.0.value'],
    };
    assert.throws(
      () => readGraphSignature(session, 'hybrid.onnx'),
      /^ModelFormatError: hybrid\.onnx: the graph has inputs this engine cannot feed: past_conv\.0, past_ssm\.1\./,
    );
  });

  it('a tokenizer with more tokens than the graph has logits is refused, naming tokenizer.json', async () => {
    const d = copy('tiny-qwen2', (d) =>
      editJson(path.join(d, 'tokenizer.json'), (t) => {
        const added = t.added_tokens as { id: number; content: string }[];
        for (let i = 0; i < 20; i++) added.push({ ...added[0], id: 503 + i, content: `<|extra_${i}|>` });
      }),
    );
    await refused(
      loadHuggingFaceFolder(d, 'x', { dtype: { setting: 'fp32' } }),
      path.join(d, 'tokenizer.json'),
      /the tokenizer has 523 tokens but the model only 512/,
    );
  });

  it('a special token of tokenizer_config.json that tokenizer.json lacks is refused, naming the token and the file', async () => {
    const cases: [(c: Record<string, unknown>) => void, RegExp][] = [
      [(c) => (c.bos_token = '<|begin_of_text|>'), /its bos_token "<\|begin_of_text\|>" is not a token of .*tokenizer\.json/],
      [(c) => (c.eos_token = { content: '<eos>' }), /its eos_token "<eos>" is not a token of .*tokenizer\.json/],
      [
        (c) => ((c.added_tokens_decoder as Record<string, unknown>)['3'] = { content: '<pad>', special: true }),
        /its added_tokens_decoder entry 3, "<pad>", is not a token of .*tokenizer\.json: the two files do not belong together/,
      ],
    ];
    for (const [edit, message] of cases) {
      const d = copy('tiny-llama', (d) => editJson(path.join(d, 'tokenizer_config.json'), edit));
      await refused(loadHuggingFaceFolder(d, 'x', { dtype: { setting: 'q4' } }), path.join(d, 'tokenizer_config.json'), message);
    }
  });

  it('a vocabulary that gives one id to two tokens is refused, naming both', async () => {
    const d = copy('tiny-llama', (d) =>
      editJson(path.join(d, 'tokenizer.json'), (t) => {
        const vocab = (t.model as { vocab: Record<string, number> }).vocab;
        vocab['▁forged'] = vocab['▁the'];
      }),
    );
    await refused(
      loadHuggingFaceFolder(d, 'x', { dtype: { setting: 'q4' } }),
      path.join(d, 'tokenizer.json'),
      /the vocabulary \(model\.vocab\) gives the id \d+ to two tokens, "▁the" and "▁forged": each token needs an id of its own/,
    );
  });

  it('characters whose byte tokens a byte-fallback vocabulary lacks become <unk> and count as out of vocabulary', async () => {
    const text = 'She smiled 🙂 and waved 🙂🙂 at the door.';
    const whole = await loadHuggingFaceFolder(path.join(FIXTURES, 'tiny-llama'), 'x', { dtype: { setting: 'q4' } });
    const d = copy('tiny-llama', (d) =>
      editJson(path.join(d, 'tokenizer.json'), (t) => {
        delete (t.model as { vocab: Record<string, number> }).vocab['<0xF0>'];
      }),
    );
    const lacking = await loadHuggingFaceFolder(d, 'x', { dtype: { setting: 'q4' } });
    try {
      assert.strictEqual((await scoreText(whole, text)).summary.oov, 0, 'every byte has its token');
      assert.match(
        lacking.info.description,
        /its byte fallback lacks 1 of the 256 byte tokens \(<0xF0>\): characters needing them are <unk>, counted out of vocabulary$/,
      );
      assert.doesNotMatch(whole.info.description, /byte fallback lacks/);
      const { tokens, summary } = await scoreText(lacking, text);
      const unknown = tokens.filter((t) => t.id === lacking.unkId);
      assert.ok(lacking.unkId !== undefined && unknown.length >= 2, JSON.stringify(tokens.map((t) => t.text)));
      assert.deepStrictEqual(
        unknown.map((t) => t.text),
        tokens.filter((t) => t.oov).map((t) => t.text),
      );
      assert.ok(unknown.every((t) => /🙂/u.test(t.text)));
      assert.strictEqual(summary.oov, unknown.length);
    } finally {
      await whole.dispose();
      await lacking.dispose();
    }
  });

  it('a float16 graph on a runtime without float16 kernels: the error names the graph and the variants to use instead', async () => {
    // onnxruntime-node runs these graphs; a runtime without float16 kernels (a WebGPU adapter
    // without shader-f16) refuses them when the session is created, as this one does.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const real = require('onnxruntime-node') as OrtModule;
    const noFloat16: OrtModule = {
      Tensor: real.Tensor,
      InferenceSession: {
        create: async (model: Uint8Array | string, options?: InferenceSession.SessionOptions) => {
          if (typeof model === 'string' && /_(fp16|q4f16)\.onnx$/.test(model))
            throw new Error('no kernel for float16 MatMul (the device lacks shader-f16)\nstack');
          return real.InferenceSession.create(model, options);
        },
      },
    };
    const d = path.join(FIXTURES, 'tiny-qwen2');
    const files = readFolderFiles(d);
    for (const dtype of ['fp16', 'q4f16'] as const) {
      const onnx = path.join(d, 'onnx', `model_${dtype}.onnx`);
      await refused(
        OnnxCausalLm.create(noFloat16, { ...files, onnx, dtype, onnxName: onnx }, { name: 'x', device: 'webgpu' }),
        onnx,
        /onnxruntime cannot load it: no kernel for float16 MatMul/,
        new RegExp(`This is a float16 graph \\(${dtype}\\), which webgpu may not run: set lmPlayground\\.dtype to fp32, q4 or int8`),
      );
    }
    const fp32 = path.join(d, 'onnx', 'model.onnx');
    const lm = await OnnxCausalLm.create(noFloat16, { ...files, onnx: fp32, dtype: 'fp32', onnxName: fp32 }, { name: 'x', device: 'native' });
    await lm.dispose();
  });
});
