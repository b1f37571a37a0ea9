/**
 * Hugging Face ONNX causal LMs in the onnx-community layout, on the tiny fixtures that
 * training/make_fixtures.py builds with a PyTorch reference (test/fixtures/models): a Llama (GQA,
 * rotary positions, SentencePiece, weights as external data) and a Qwen2 (biases, tied
 * embeddings, byte-level BPE, num_logits_to_keep, several end tokens), each in its precision
 * variants, on onnxruntime-node and on onnxruntime-web's WASM backend.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { argmax } from '../../src/core/distribution';
import { generate } from '../../src/core/generation';
import type { LanguageModel } from '../../src/core/model';
import { OnnxCausalLm, type OrtModule } from '../../src/core/neural/onnxCausalLm';
import type { Dtype } from '../../src/core/neural/onnxVariants';
import { graphForRuntime, loadHuggingFaceFolder, readFolderFiles } from '../../src/node/neuralLoader';
import { onnxBackend } from '../../src/node/backends/onnxBackend';
import { startEngineWorker } from '../../src/node/workerHost';
import { ONNX_FIXTURES as FIXTURES } from './helpers';

interface Reference {
  text: string;
  add_bos: boolean;
  input_ids: number[];
  /** [start, end) of each token in the text's UTF-16 code units; a byte token that splits a character spans the character. */
  utf16_offsets: [number, number][];
  token_logprobs: number[];
  total_logprob: number;
  top5: { position: number; ids: number[]; logprobs: number[] }[];
  greedy: { prompt: string; prompt_ids: number[]; new_ids: number[]; q4_new_ids: number[] };
  /** PyTorch with every MatMul weight replaced by its 4-bit dequantized value: model_q4.onnx's exact reference. */
  q4_token_logprobs: number[];
}

const reference = (name: string): Reference => JSON.parse(fs.readFileSync(path.join(FIXTURES, name, 'reference.json'), 'utf8'));

/**
 * Per-token log-probs of each variant against the fp32 graph's (nats), as measured on these
 * fixtures (native and WASM agree to 1e-3): the largest difference, the mean difference, and the
 * relative difference of the total. The fixtures are tiny (hidden size 64), so 4-bit blocks of 32
 * weights lose far more than in a real model; the bounds are about 1.5× what was measured.
 */
const TOLERANCE: Record<'fp16' | 'q4' | 'q4f16' | 'int8', { max: number; mean: number; total: number }> = {
  fp16: { max: 0.05, mean: 0.005, total: 3e-4 },
  int8: { max: 1.8, mean: 0.16, total: 5e-3 },
  q4: { max: 5, mean: 0.55, total: 2e-2 },
  q4f16: { max: 5, mean: 0.55, total: 2e-2 },
};

const DEVICES = ['native', 'wasm'] as const;
const MODELS = ['tiny-llama', 'tiny-qwen2'] as const;

/** Greedy decoding on the model's own distributions: the ids PyTorch's argmax loop gives. */
async function greedy(lm: LanguageModel, prompt: number[], n: number): Promise<number[]> {
  const ids = [...prompt];
  for (let i = 0; i < n; i++) ids.push(argmax(await lm.nextLogProbs(ids)));
  return ids.slice(prompt.length);
}

function compare(a: Float64Array | number[], b: Float64Array | number[]): { max: number; mean: number; total: number } {
  let max = 0;
  let sum = 0;
  let ta = 0;
  let tb = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    max = Math.max(max, d);
    sum += d;
    ta += a[i];
    tb += b[i];
  }
  return { max, mean: sum / a.length, total: Math.abs(ta - tb) / Math.abs(tb) };
}

describe('Hugging Face ONNX causal LMs: the Llama and Qwen2 fixtures against PyTorch', function () {
  this.timeout(300000);

  for (const name of MODELS) {
    for (const device of DEVICES) {
      describe(`${name} on ${device}`, () => {
        const ref = reference(name);
        const dir = path.join(FIXTURES, name);
        let lm: OnnxCausalLm;
        before(async () => (lm = await loadHuggingFaceFolder(dir, name, { device, dtype: { setting: 'fp32' } })));
        after(() => lm?.dispose());

        it('fp32 scores equal PyTorch’s to 1e-4 relative, every token, and the top-5 alternatives too', async () => {
          assert.strictEqual(lm.info.precision, 'fp32');
          assert.strictEqual(lm.info.device, device);
          const lp = await lm.sequenceLogProbs(ref.input_ids, 1);
          assert.strictEqual(lp.length, ref.token_logprobs.length);
          for (let i = 0; i < lp.length; i++) {
            const want = ref.token_logprobs[i];
            assert.ok(Math.abs(lp[i] - want) <= 1e-4 * Math.abs(want) + 1e-6, `token ${i + 1}: ${lp[i]} against ${want}`);
          }
          for (const t of ref.top5) {
            const dist = await lm.nextLogProbs(ref.input_ids.slice(0, t.position + 1));
            const top = Array.from(dist.keys())
              .sort((a, b) => dist[b] - dist[a])
              .slice(0, 5);
            assert.deepStrictEqual(top, t.ids, `top 5 after position ${t.position}`);
            t.logprobs.forEach((want, k) => assert.ok(Math.abs(dist[t.ids[k]] - want) <= 1e-4 * Math.abs(want) + 1e-6));
          }
        });

        it('scores from a later token alone (the graph keeps fewer logits where it can) as within the whole text', async () => {
          const from = 100;
          const lp = await lm.sequenceLogProbs(ref.input_ids, from);
          assert.strictEqual(lp.length, ref.input_ids.length - from);
          for (let i = 0; i < lp.length; i++)
            assert.ok(Math.abs(lp[i] - ref.token_logprobs[from - 1 + i]) <= 1e-4 * Math.abs(ref.token_logprobs[from - 1 + i]) + 1e-6);
        });

        it('greedy decoding equals PyTorch’s', async () => {
          assert.deepStrictEqual(await greedy(lm, ref.greedy.prompt_ids, ref.greedy.new_ids.length), ref.greedy.new_ids);
        });

        it('the q4 graph (MatMulNBits) scores and decodes as PyTorch with the same 4-bit weights, to 1e-4 relative', async () => {
          const q4 = await loadHuggingFaceFolder(dir, name, { device, dtype: { setting: 'q4' } });
          try {
            const lp = await q4.sequenceLogProbs(ref.input_ids, 1);
            for (let i = 0; i < lp.length; i++) {
              const want = ref.q4_token_logprobs[i];
              assert.ok(Math.abs(lp[i] - want) <= 1e-4 * Math.abs(want) + 1e-6, `token ${i + 1}: ${lp[i]} against ${want}`);
            }
            assert.deepStrictEqual(await greedy(q4, ref.greedy.prompt_ids, ref.greedy.q4_new_ids.length), ref.greedy.q4_new_ids);
          } finally {
            await q4.dispose();
          }
        });

        it('each precision variant scores within its measured tolerance of the fp32 graph', async () => {
          const full = await lm.sequenceLogProbs(ref.input_ids, 1);
          for (const dtype of Object.keys(TOLERANCE) as (keyof typeof TOLERANCE)[]) {
            const v = await loadHuggingFaceFolder(dir, name, { device, dtype: { setting: dtype } });
            try {
              assert.strictEqual(v.info.precision, dtype);
              const d = compare(await v.sequenceLogProbs(ref.input_ids, 1), full);
              const t = TOLERANCE[dtype];
              assert.ok(d.max <= t.max && d.mean <= t.mean && d.total <= t.total, `${dtype}: ${JSON.stringify(d)} against ${JSON.stringify(t)}`);
              // Not the fp32 graph under another name: quantization moves every score a little.
              assert.ok(d.mean > 1e-5, `${dtype} gives the fp32 graph's numbers`);
            } finally {
              await v.dispose();
            }
          }
        });
      });
    }
  }

  it('a Qwen3-shaped model, whose heads are wider than hidden_size / num_attention_heads (head_dim 32, not 16), scores and decodes as PyTorch', async () => {
    const dir = path.join(FIXTURES, 'tiny-qwen3');
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    assert.ok(config.head_dim !== config.hidden_size / config.num_attention_heads, JSON.stringify(config));
    const ref = reference('tiny-qwen3');
    for (const device of DEVICES) {
      for (const dtype of ['fp32', 'q4'] as const) {
        const lm = await loadHuggingFaceFolder(dir, 'qwen3', { device, dtype: { setting: dtype } });
        try {
          assert.strictEqual(lm.config.headDim, config.head_dim);
          const want = dtype === 'fp32' ? ref.token_logprobs : ref.q4_token_logprobs;
          const lp = await lm.sequenceLogProbs(ref.input_ids, 1);
          assert.strictEqual(lp.length, want.length);
          for (let i = 0; i < lp.length; i++)
            assert.ok(Math.abs(lp[i] - want[i]) <= 1e-4 * Math.abs(want[i]) + 1e-6, `${device} ${dtype}, token ${i + 1}: ${lp[i]} against ${want[i]}`);
          const greedyIds = dtype === 'fp32' ? ref.greedy.new_ids : ref.greedy.q4_new_ids;
          assert.deepStrictEqual(await greedy(lm, ref.greedy.prompt_ids, greedyIds.length), greedyIds, `${device} ${dtype}`);
        } finally {
          await lm.dispose();
        }
      }
    }
  });

  it('a variant gives the same numbers natively and on WASM (within 1e-3; float16 within 5e-3, its sums rounded in another order)', async () => {
    const ref = reference('tiny-qwen2');
    const bound: Partial<Record<Dtype, number>> = { fp16: 5e-3, q4: 1e-3, int8: 1e-3 };
    for (const dtype of Object.keys(bound) as Dtype[]) {
      const [a, b] = await Promise.all(
        DEVICES.map((device) => loadHuggingFaceFolder(path.join(FIXTURES, 'tiny-qwen2'), 'x', { device, dtype: { setting: dtype } })),
      );
      try {
        const d = compare(await a.sequenceLogProbs(ref.input_ids, 1), await b.sequenceLogProbs(ref.input_ids, 1));
        assert.ok(d.max < bound[dtype]!, `${dtype}: ${JSON.stringify(d)}`);
      } finally {
        await a.dispose();
        await b.dispose();
      }
    }
  });

  it('a long run of tokens goes through the graph in chunks, with the scores of one run', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ort = require('onnxruntime-node') as OrtModule;
    for (const name of MODELS) {
      const ref = reference(name);
      const dir = path.join(FIXTURES, name);
      const onnx = path.join(dir, 'onnx', 'model.onnx');
      const chunked = await OnnxCausalLm.create(ort, { ...readFolderFiles(dir), onnx }, { name, device: 'native', prefillChunk: 7 });
      try {
        const d = compare(await chunked.sequenceLogProbs(ref.input_ids, 1), ref.token_logprobs);
        assert.ok(d.max < 1e-4, `${name}: ${JSON.stringify(d)}`);
        const from = compare(await chunked.sequenceLogProbs(ref.input_ids, 100), ref.token_logprobs.slice(99));
        assert.ok(from.max < 1e-4, `${name} from 100: ${JSON.stringify(from)}`);
        assert.deepStrictEqual(await greedy(chunked, ref.greedy.prompt_ids, ref.greedy.new_ids.length), ref.greedy.new_ids);
      } finally {
        await chunked.dispose();
      }
    }
  });

  it('a declared context whose cache would pass the cap is cut to the tokens that fit, and windows slide over it', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ort = require('onnxruntime-node') as OrtModule;
    const ref = reference('tiny-llama');
    const dir = path.join(FIXTURES, 'tiny-llama');
    // 2 layers × key and value × 2 heads × 16 × 4 bytes = 512 bytes a token: 100 tokens.
    const lm = await OnnxCausalLm.create(
      ort,
      { ...readFolderFiles(dir), onnx: path.join(dir, 'onnx', 'model.onnx') },
      { name: 'x', device: 'native', maxCacheBytes: 512 * 100 },
    );
    try {
      assert.strictEqual(lm.info.contextLength, 100);
      assert.match(lm.info.description, /context 100 tokens \(of 1024: the cache is capped\)/);
      const lp = await lm.sequenceLogProbs(ref.input_ids, 1);
      // The first window holds every token up to the 100th: PyTorch's numbers; later ones have half a window of context at least.
      assert.ok(compare(lp.slice(0, 99), ref.token_logprobs.slice(0, 99)).max < 1e-4);
      assert.ok(lp.every((x) => Number.isFinite(x) && x < 0));
      assert.ok(compare(lp.slice(99), ref.token_logprobs.slice(99)).max > 1e-3, 'tokens past the window have less context than PyTorch gave them');
      const next = await lm.nextLogProbs(ref.input_ids.slice(0, 150));
      assert.ok(Math.abs(Math.log(next.reduce((s, x) => s + Math.exp(x), 0))) < 1e-6);
    } finally {
      await lm.dispose();
    }
  });

  it('external data: onnxruntime-node gets the graph’s path, onnxruntime-web the graph’s bytes and each data file', () => {
    const graph = path.join(FIXTURES, 'tiny-llama', 'onnx', 'model.onnx');
    assert.deepStrictEqual(graphForRuntime(graph, 'native'), { onnx: graph });
    const wasm = graphForRuntime(graph, 'wasm');
    assert.ok(wasm.onnx instanceof Uint8Array && Buffer.from(wasm.onnx).equals(fs.readFileSync(graph)));
    assert.deepStrictEqual(wasm.externalData, [{ path: 'model.onnx_data', data: path.join(FIXTURES, 'tiny-llama', 'onnx', 'model.onnx_data') }]);
    // The graph alone is small: the weights are in the data file.
    assert.ok(fs.statSync(graph).size * 4 < fs.statSync(path.join(FIXTURES, 'tiny-llama', 'onnx', 'model.onnx_data')).size);
  });

  it('weights in two external data files (model_split.onnx) score as the single-file graph, on both runtimes', async () => {
    const dir = path.join(FIXTURES, 'tiny-qwen2');
    const ref = reference('tiny-qwen2');
    assert.deepStrictEqual(
      graphForRuntime(path.join(dir, 'onnx', 'model_split.onnx'), 'wasm').externalData!.map((d) => d.path),
      ['model_split.onnx_data', 'model_split.onnx_data_1'],
    );
    for (const device of DEVICES) {
      const split = await loadHuggingFaceFolder(dir, 'split', { device, onnxFile: 'onnx/model_split.onnx' });
      try {
        const d = compare(await split.sequenceLogProbs(ref.input_ids, 1), ref.token_logprobs);
        assert.ok(d.max < 1e-4, `${device}: ${JSON.stringify(d)}`);
      } finally {
        await split.dispose();
      }
    }
  });

  it('BOS and EOS come from tokenizer_config.json and generation_config.json, several EOS ids included', async () => {
    const llama = await loadHuggingFaceFolder(path.join(FIXTURES, 'tiny-llama'), 'llama', { dtype: { setting: 'fp32' } });
    const qwen = await loadHuggingFaceFolder(path.join(FIXTURES, 'tiny-qwen2'), 'qwen', { dtype: { setting: 'fp32' } });
    try {
      const llamaRef = reference('tiny-llama');
      // Llama's tokenizer adds <s>: the reference's first id.
      assert.strictEqual(llama.bosId, llamaRef.input_ids[0]);
      assert.deepStrictEqual(
        llama.tokenizer.encode(llamaRef.greedy.prompt, true).map((t) => t.id),
        llamaRef.greedy.prompt_ids,
      );
      const generation = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'tiny-qwen2', 'generation_config.json'), 'utf8'));
      assert.deepStrictEqual(qwen.eosIds, generation.eos_token_id);
      assert.strictEqual(qwen.eosId, generation.eos_token_id[0]);
      // Qwen's tokenizer has no BOS: a text starts after <|endoftext|>, the end of the document before.
      assert.strictEqual(qwen.bosId, generation.bos_token_id);
      // Through a worker thread the model keeps all of them.
      const remote = await startEngineWorker({ backend: onnxBackend, location: path.join(FIXTURES, 'tiny-qwen2'), name: 'qwen' }, { device: 'native' });
      try {
        assert.deepStrictEqual(remote.eosIds, generation.eos_token_id);
      } finally {
        remote.dispose();
      }
    } finally {
      await llama.dispose();
      await qwen.dispose();
    }
  });

  it('the tokenizers give the reference’s ids and offsets on text with accents, a euro sign and an emoji (what hovers point at)', async () => {
    for (const name of MODELS) {
      const ref = reference(name);
      const lm = await loadHuggingFaceFolder(path.join(FIXTURES, name), name, { dtype: { setting: 'q4' } });
      try {
        // The reference has Llama's BOS and no token before Qwen's text (its tokenizer adds none).
        const tokens = lm.tokenizer.encode(ref.text, ref.add_bos);
        assert.deepStrictEqual(
          tokens.map((t) => t.id),
          ref.input_ids,
          name,
        );
        // The reference gives each byte token of a split character the whole character; the
        // tokenizer gives it to the token with the last byte, the ones before it at its start.
        const lastByteShows = ref.utf16_offsets.map(([s, e], i) => {
          const next = ref.utf16_offsets[i + 1];
          return next && next[0] === s && next[1] === e && e > s ? [s, s] : [s, e];
        });
        assert.deepStrictEqual(
          tokens.map((t) => [t.start, t.start + t.length]),
          lastByteShows,
          name,
        );
        assert.ok(lastByteShows.filter(([s, e]) => s === e).length >= 20, `${name}: the text has characters split into byte tokens`);
      } finally {
        await lm.dispose();
      }
    }
  });

  it('generation stops at any of the end tokens', async () => {
    const ref = reference('tiny-llama');
    const lm = await loadHuggingFaceFolder(path.join(FIXTURES, 'tiny-llama'), 'llama', { dtype: { setting: 'fp32' } });
    try {
      const options = { maxTokens: ref.greedy.new_ids.length, temperature: 0, stopAtBlankLine: false };
      const free = await generate(lm, ref.greedy.prompt, options);
      // Complete Selection's path: the prompt as text, greedy, as PyTorch's loop.
      assert.deepStrictEqual(
        free[0].tokens.map((t) => t.id),
        ref.greedy.new_ids,
      );
      assert.strictEqual(free[0].finishReason, 'length');
      // The same model with a second end token, one it generates: it stops before its first occurrence.
      const stopAt = ref.greedy.new_ids[3];
      const first = ref.greedy.new_ids.indexOf(stopAt);
      const twoEnds = Object.create(lm, { eosIds: { value: [lm.eosId!, stopAt] } }) as LanguageModel;
      const stopped = await generate(twoEnds, ref.greedy.prompt, options);
      assert.strictEqual(stopped[0].finishReason, 'eos');
      assert.deepStrictEqual(
        stopped[0].tokens.map((t) => t.id),
        ref.greedy.new_ids.slice(0, first),
      );
    } finally {
      await lm.dispose();
    }
  });
});
