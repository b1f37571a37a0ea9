/**
 * Speed of a neural model folder: prefill and decode tokens/s for the engine (native and WASM)
 * against a bare onnxruntime-node loop on the same graph and thread count, time to first token and
 * load time. Medians of several runs; used by `lmp bench` and `npm run bench`.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Tensor } from 'onnxruntime-common';
import { argmax } from '../core/distribution';
import { generate } from '../core/generation';
import { CONFIG_FILE } from '../core/neural/hfLayout';
import { chooseFolderGraph, hostSide, loadHuggingFaceFolder, type NodeDevice } from './neuralLoader';
import { optOutOfOnnxRuntimeTelemetry } from './onnxRuntimeTelemetry';

export interface NeuralBenchResult {
  runner: string;
  loadSeconds: number;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  firstTokenSeconds: number;
  /** Each timed run's figures, in the order the runs took turns: the per-run ratios between runners. */
  runs: { prefill: number[]; decode: number[]; first: number[] };
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const now = () => performance.now() / 1000;

/** A prefill of a small model's prompt takes a few milliseconds: one run's figure is the median of this many. */
const PREFILL_REPEATS = 5;

/** The median of `n` timings of `once` (seconds), each after `prepare`, which is not timed, and the last one's result. */
async function timedMedian<T>(n: number, once: () => Promise<T>, prepare?: () => Promise<unknown>): Promise<{ seconds: number; last: T }> {
  const times: number[] = [];
  let last: T | undefined;
  for (let i = 0; i < n; i++) {
    await prepare?.();
    const t = now();
    last = await once();
    times.push(now() - t);
  }
  return { seconds: median(times), last: last as T };
}

/**
 * The prompt every runner uses: ordinary text cut to about `prefill` tokens, as text and as the
 * exact token ids that text encodes to (with the begin-of-sequence token), so that all runners
 * process the same sequence.
 */
export function benchPrompt(dir: string, prefill: number): { text: string; ids: number[] } {
  const { tokenizer, config } = hostSide(dir);
  const long = 'It was a fine morning in the country, and Elizabeth walked out into the garden to think over all that her sister had told her. '.repeat(8);
  const cut = tokenizer.encode(long, false).slice(0, prefill - 1);
  const text = long.slice(0, cut[cut.length - 1].start + cut[cut.length - 1].length);
  return {
    text,
    ids: tokenizer
      .encode(text, true)
      .map((t) => t.id)
      .map((id, i) => (i === 0 ? (config.bosId ?? id) : id)),
  };
}

/** The graph every runner loads: the full-precision one where the folder has it. */
function benchGraph(dir: string): string {
  return chooseFolderGraph(dir, { setting: 'auto', prefer: ['fp32'] }).path;
}

/** One run of one runner: tokens/s, seconds to the first token, and the greedy tokens it decoded. */
export interface RunMeasure {
  prefill: number;
  decode: number;
  first: number;
  tokens: number[];
}

/** One runner, loaded: `once()` measures one prefill and one greedy decode. */
interface Runner {
  runner: string;
  loadSeconds: number;
  once(run: number): Promise<RunMeasure>;
  dispose(): Promise<void> | void;
}

/**
 * Every runner must decode the reference's greedy tokens: a runner that computes something else
 * is not a fair comparison, whatever its speed. Throws naming the runner and the first difference.
 */
export function checkSameTokens(reference: { runner: string; tokens: number[] }, other: { runner: string; tokens: number[] }): void {
  const n = Math.max(reference.tokens.length, other.tokens.length);
  for (let i = 0; i < n; i++) {
    if (reference.tokens[i] !== other.tokens[i]) {
      throw new Error(
        `${other.runner} decodes other tokens than ${reference.runner}: from token ${i}, ${JSON.stringify(other.tokens.slice(i, i + 5))} against ${JSON.stringify(reference.tokens.slice(i, i + 5))}`,
      );
    }
  }
}

async function engineRunner(dir: string, device: NodeDevice, prompt: { text: string; ids: number[] }, decode: number): Promise<Runner> {
  const t0 = now();
  const lm = await loadHuggingFaceFolder(dir, 'bench', { device, threads: 1, onnxFile: benchGraph(dir) });
  const ids = prompt.ids;
  return {
    runner: `engine, ${lm.info.device}`,
    loadSeconds: now() - t0,
    async once(r) {
      // A full prefill each time: the cache of the last one forgotten (it shares the prompt).
      const { seconds: prefillSeconds } = await timedMedian(
        PREFILL_REPEATS,
        () => lm.nextLogProbs(ids.concat([r])),
        () => lm.forgetContext(),
      );
      const g0 = now();
      let first = 0;
      const [c] = await generate(lm, prompt.text, { maxTokens: decode, temperature: 0 }, { onToken: () => (first ||= now() - g0) });
      const total = now() - g0;
      // Decode rate excludes the generation's own prefill (its first token).
      return { prefill: ids.length / prefillSeconds, decode: (c.tokens.length - 1) / Math.max(1e-9, total - first), first, tokens: c.tokens.map((t) => t.id) };
    },
    dispose: () => lm.dispose(),
  };
}

/** The reference: a hand-written greedy loop over onnxruntime-node, no tokenizer, sampler or scorer. */
async function bareRunner(dir: string, prompt: { ids: number[] }, decode: number): Promise<Runner> {
  // Without the runtime's telemetry, as the engine and transformers.js run it.
  optOutOfOnnxRuntimeTelemetry();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = require('onnxruntime-node') as typeof import('onnxruntime-common');
  const config = JSON.parse(fs.readFileSync(path.join(dir, CONFIG_FILE), 'utf8'));
  const onnx = path.join(dir, benchGraph(dir));
  const t0 = now();
  const session = await ort.InferenceSession.create(fs.readFileSync(onnx), {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const loadSeconds = now() - t0;
  const layers: number = config.n_layer;
  const heads: number = config.n_head;
  const headDim: number = config.n_embd / heads;
  const V: number = config.vocab_size;
  // The outputs a step needs: gpt-classics also has every layer's hidden states and attentions, for the inside views.
  const fetches = ['logits', ...Array.from({ length: layers }, (_, l) => [`present.${l}.key`, `present.${l}.value`]).flat()];
  const run = async (ids: number[], pastLength: number, past: Tensor[]) => {
    const T = ids.length;
    const feeds: Record<string, Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, T]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(pastLength + T).fill(1n), [1, pastLength + T]),
      position_ids: new ort.Tensor(
        'int64',
        BigInt64Array.from({ length: T }, (_, i) => BigInt(pastLength + i)),
        [1, T],
      ),
    };
    for (let l = 0; l < layers; l++) {
      feeds[`past_key_values.${l}.key`] = past[2 * l];
      feeds[`past_key_values.${l}.value`] = past[2 * l + 1];
    }
    const out = await session.run(feeds, fetches);
    const logits = out.logits.data as Float32Array;
    const present: Tensor[] = [];
    for (let l = 0; l < layers; l++) present.push(out[`present.${l}.key`], out[`present.${l}.value`]);
    return { next: argmax(logits.subarray((T - 1) * V, T * V)), present };
  };
  const empty = () => Array.from({ length: 2 * layers }, () => new ort.Tensor('float32', new Float32Array(0), [1, heads, 0, headDim]));
  const ids = prompt.ids;
  return {
    runner: 'bare onnxruntime-node loop',
    loadSeconds,
    async once() {
      // The last of the timed prefills starts the decode.
      const { seconds: prefillSeconds, last } = await timedMedian(PREFILL_REPEATS, () => run(ids, 0, empty()));
      let { next, present } = last;
      const p1 = now();
      const tokens = [next];
      let length = ids.length;
      for (let i = 1; i < decode; i++) {
        ({ next, present } = await run([next], length, present));
        tokens.push(next);
        length++;
      }
      const p2 = now();
      return { prefill: ids.length / prefillSeconds, decode: (decode - 1) / (p2 - p1), first: prefillSeconds, tokens };
    },
    dispose: () => session.release(),
  };
}

/** Reference: transformers.js (`generate`, device cpu = onnxruntime-node) on the same model folder. */
async function transformersJsRunner(dir: string, prompt: { ids: number[] }, decode: number): Promise<Runner> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const tjs = require('@huggingface/transformers') as typeof import('@huggingface/transformers');
  tjs.env.allowRemoteModels = false;
  tjs.env.localModelPath = path.dirname(dir) + path.sep;
  const id = path.basename(dir);
  const t0 = now();
  const model = await tjs.AutoModelForCausalLM.from_pretrained(id, { device: 'cpu', dtype: 'fp32', session_options: { intraOpNumThreads: 1 } });
  const loadSeconds = now() - t0;
  const ids = BigInt64Array.from(prompt.ids, BigInt);
  const input_ids = new tjs.Tensor('int64', ids, [1, ids.length]);
  const attention_mask = new tjs.Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]);
  const gen = (n: number) => model.generate({ input_ids, attention_mask, max_new_tokens: n, min_new_tokens: n, do_sample: false } as never);
  return {
    runner: 'transformers.js 4.3 generate (cpu = onnxruntime-node)',
    loadSeconds,
    async once() {
      const { seconds: first } = await timedMedian(PREFILL_REPEATS, () => gen(1));
      const b = now();
      const out = (await gen(decode)) as unknown as { tolist(): bigint[][] };
      const total = now() - b;
      const tokens = out.tolist()[0].slice(ids.length).map(Number);
      return { prefill: ids.length / first, decode: (decode - 1) / Math.max(1e-9, total - first), first, tokens };
    },
    dispose: () => (model as unknown as { dispose(): Promise<void> }).dispose(),
  };
}

export async function benchNeural(dir: string, runs = 5): Promise<{ results: NeuralBenchResult[]; prefill: number; decode: number }> {
  const config = JSON.parse(fs.readFileSync(path.join(dir, CONFIG_FILE), 'utf8'));
  const context: number = config.n_positions ?? config.max_position_embeddings ?? 128;
  const prompt = benchPrompt(dir, Math.min(64, Math.floor(context / 2)));
  const prefill = prompt.ids.length;
  // Stay inside the model's window: no runner may restart its cache while decoding.
  const decode = Math.min(64, context - prefill - 1);
  const runners = [await bareRunner(dir, prompt, decode), await engineRunner(dir, 'native', prompt, decode), await engineRunner(dir, 'wasm', prompt, decode)];
  try {
    runners.push(await transformersJsRunner(dir, prompt, decode));
  } catch (e) {
    // A dev dependency: the packaged CLI measures without it.
    if (!/Cannot find module/.test((e as Error).message)) throw e;
  }
  // Runs interleave the runners, so that the machine's load drifts over all of them alike.
  const samples = runners.map(() => ({ prefill: [] as number[], decode: [] as number[], first: [] as number[] }));
  for (let r = 0; r < runs + 1; r++) {
    let reference: { runner: string; tokens: number[] } | undefined;
    for (const [i, runner] of runners.entries()) {
      const m = await runner.once(r);
      if (reference) checkSameTokens(reference, { runner: runner.runner, tokens: m.tokens });
      else reference = { runner: runner.runner, tokens: m.tokens };
      if (r === 0) continue; // warm-up
      samples[i].prefill.push(m.prefill);
      samples[i].decode.push(m.decode);
      samples[i].first.push(m.first);
    }
  }
  const results: NeuralBenchResult[] = runners.map((x, i) => ({
    runner: x.runner,
    loadSeconds: x.loadSeconds,
    prefillTokensPerSecond: median(samples[i].prefill),
    decodeTokensPerSecond: median(samples[i].decode),
    firstTokenSeconds: median(samples[i].first),
    runs: samples[i],
  }));
  for (const x of runners) await x.dispose();
  return { results, prefill, decode };
}
