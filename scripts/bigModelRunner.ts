/**
 * One runner of the large-model benchmark (scripts/bigModelBench.ts), in a process of its own so
 * that its peak memory is its own: the engine, a bare onnxruntime loop or transformers.js, on one
 * runtime (native onnxruntime-node, or onnxruntime-web's WASM in Node) and one precision variant.
 * The parent sends `run` messages, one per run, taking turns with the other runners' processes;
 * each answers with a RunMeasure; `end` answers with the process's peak resident memory.
 */
import * as fs from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { argmax } from '../src/core/distribution';
import { generate } from '../src/core/generation';
import { chooseFolderGraph, graphForRuntime, loadHuggingFaceFolder } from '../src/node/neuralLoader';
import type { RunMeasure } from '../src/node/neuralBench';
import type { Dtype } from '../src/core/neural/onnxVariants';

export type RunnerKind = 'engine' | 'bare' | 'tjs';
export type NodeRuntime = 'native' | 'wasm';
/** Where a cell of the large-model table ran: a Node runtime, or the browser (onnxruntime-web WASM in Chromium). */
export type BenchRuntime = NodeRuntime | 'browser';

export interface RunnerSetup {
  kind: RunnerKind;
  runtime: NodeRuntime;
  dtype: Dtype;
  dir: string;
  prompt: { text: string; ids: number[] };
  decode: number;
}

export type ToRunner = { op: 'setup'; setup: RunnerSetup } | { op: 'run'; run: number } | { op: 'end' };
export type FromRunner =
  | { op: 'ready'; runner: string; loadSeconds: number }
  | { op: 'measured'; measure: RunMeasure }
  | { op: 'ended'; peakRssBytes: number }
  | { op: 'failed'; error: string };

interface Loaded {
  runner: string;
  once(run: number): Promise<RunMeasure>;
}

const now = () => performance.now() / 1000;
type Ort = typeof import('onnxruntime-common');

function wasmOrt(): Ort {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = require('onnxruntime-web') as Ort & { env: { wasm: { numThreads: number; wasmPaths: unknown } } };
  const dir = path.join(__dirname, '..', '..', 'node_modules', 'onnxruntime-web', 'dist');
  ort.env.wasm.wasmPaths = {
    mjs: pathToFileURL(path.join(dir, 'ort-wasm-simd-threaded.mjs')).href,
    wasm: pathToFileURL(path.join(dir, 'ort-wasm-simd-threaded.wasm')).href,
  };
  ort.env.wasm.numThreads = 1;
  return ort;
}

/** The engine as the extension runs it: prefill through nextLogProbs, decode through generate (sampler included). */
async function engine(s: RunnerSetup): Promise<Loaded> {
  const lm = await loadHuggingFaceFolder(s.dir, 'bench', { device: s.runtime, threads: 1, dtype: { setting: s.dtype } });
  const ids = s.prompt.ids;
  return {
    runner: `engine, ${s.runtime}`,
    async once(r) {
      // A full prefill: the cache of the last run forgotten (it shares all but the last token).
      const context = [...ids.slice(0, -1), 100 + r];
      await lm.forgetContext();
      const start = now();
      await lm.nextLogProbs(context);
      const prefillSeconds = now() - start;
      const g0 = now();
      let first = 0;
      const [c] = await generate(lm, s.prompt.text, { maxTokens: s.decode, temperature: 0 }, { onToken: () => (first ||= now() - g0) });
      const total = now() - g0;
      return { prefill: ids.length / prefillSeconds, decode: (c.tokens.length - 1) / Math.max(1e-9, total - first), first, tokens: c.tokens.map((t) => t.id) };
    },
  };
}

/** The reference: a hand-written greedy loop over the same runtime and file, no tokenizer, sampler or scorer. */
async function bare(s: RunnerSetup): Promise<Loaded> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort: Ort = s.runtime === 'native' ? (require('onnxruntime-node') as Ort) : wasmOrt();
  const config = JSON.parse(fs.readFileSync(path.join(s.dir, 'config.json'), 'utf8'));
  const graph = chooseFolderGraph(s.dir, { setting: s.dtype }, s.runtime);
  const given = graphForRuntime(path.join(s.dir, ...graph.path.split('/')), s.runtime);
  const options: InferenceSession.SessionOptions = { executionProviders: [s.runtime === 'native' ? 'cpu' : 'wasm'], graphOptimizationLevel: 'all' };
  if (s.runtime === 'native') options.intraOpNumThreads = 1;
  if (given.externalData?.length) options.externalData = given.externalData;
  const session =
    typeof given.onnx === 'string' ? await ort.InferenceSession.create(given.onnx, options) : await ort.InferenceSession.create(given.onnx, options);
  const layers: number = config.num_hidden_layers;
  const kvHeads: number = config.num_key_value_heads;
  const headDim: number = config.head_dim ?? config.hidden_size / config.num_attention_heads;
  const V: number = config.vocab_size;
  const withPositions = session.inputNames.includes('position_ids');
  const step = async (tokens: number[], pastLength: number, past: Tensor[]) => {
    const T = tokens.length;
    const feeds: Record<string, Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(tokens, BigInt), [1, T]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(pastLength + T).fill(1n), [1, pastLength + T]),
    };
    if (withPositions)
      feeds.position_ids = new ort.Tensor(
        'int64',
        BigInt64Array.from({ length: T }, (_, i) => BigInt(pastLength + i)),
        [1, T],
      );
    for (let l = 0; l < layers; l++) {
      feeds[`past_key_values.${l}.key`] = past[2 * l];
      feeds[`past_key_values.${l}.value`] = past[2 * l + 1];
    }
    const out = await session.run(feeds);
    const present: Tensor[] = [];
    for (let l = 0; l < layers; l++) present.push(out[`present.${l}.key`], out[`present.${l}.value`]);
    const logits = out.logits.data as Float32Array;
    return { next: argmax(logits.subarray((T - 1) * V, T * V)), present };
  };
  const empty = () => Array.from({ length: 2 * layers }, () => new ort.Tensor('float32', new Float32Array(0), [1, kvHeads, 0, headDim]));
  const ids = s.prompt.ids;
  return {
    runner: `bare onnxruntime-${s.runtime === 'native' ? 'node' : 'web'} loop`,
    async once() {
      const p0 = now();
      let { next, present } = await step(ids, 0, empty());
      const p1 = now();
      const tokens = [next];
      for (let i = 1; i < s.decode; i++) {
        ({ next, present } = await step([next], ids.length + i - 1, present));
        tokens.push(next);
      }
      const p2 = now();
      return { prefill: ids.length / (p1 - p0), decode: (s.decode - 1) / (p2 - p1), first: p1 - p0, tokens };
    },
  };
}

/**
 * transformers.js `generate` on the same folder and variant. On WASM in Node it is handed
 * onnxruntime-web through the symbol it looks for a host-provided runtime under.
 */
async function transformersJs(s: RunnerSetup): Promise<Loaded> {
  if (s.runtime === 'wasm') (globalThis as Record<symbol, unknown>)[Symbol.for('onnxruntime')] = wasmOrt();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const tjs = require('@huggingface/transformers') as typeof import('@huggingface/transformers');
  tjs.env.allowRemoteModels = false;
  tjs.env.localModelPath = path.dirname(s.dir) + path.sep;
  // With a host-provided runtime transformers.js knows no devices: the execution provider is named instead.
  const model = await tjs.AutoModelForCausalLM.from_pretrained(path.basename(s.dir), {
    device: s.runtime === 'native' ? 'cpu' : 'auto',
    dtype: s.dtype as 'fp32',
    session_options: s.runtime === 'native' ? { intraOpNumThreads: 1 } : { executionProviders: ['wasm'] },
  } as never);
  const ids = BigInt64Array.from(s.prompt.ids, BigInt);
  const input_ids = new tjs.Tensor('int64', ids, [1, ids.length]);
  const attention_mask = new tjs.Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]);
  const gen = (n: number) => model.generate({ input_ids, attention_mask, max_new_tokens: n, min_new_tokens: n, do_sample: false } as never);
  return {
    runner: `transformers.js generate (${s.runtime === 'native' ? 'onnxruntime-node' : 'onnxruntime-web WASM'})`,
    async once() {
      const a = now();
      await gen(1);
      const first = now() - a;
      const b = now();
      const out = (await gen(s.decode)) as unknown as { tolist(): bigint[][] };
      const total = now() - b;
      const tokens = out.tolist()[0].slice(ids.length).map(Number);
      return { prefill: ids.length / first, decode: (s.decode - 1) / Math.max(1e-9, total - first), first, tokens };
    },
  };
}

export const LOADERS: Record<RunnerKind, (s: RunnerSetup) => Promise<Loaded>> = { engine, bare, tjs: transformersJs };

let loaded: Loaded | undefined;
const send = (m: FromRunner) => process.send!(m);
process.on('message', (m: ToRunner) => {
  void (async () => {
    try {
      if (m.op === 'setup') {
        const t0 = now();
        loaded = await LOADERS[m.setup.kind](m.setup);
        send({ op: 'ready', runner: loaded.runner, loadSeconds: now() - t0 });
      } else if (m.op === 'run') send({ op: 'measured', measure: await loaded!.once(m.run) });
      else {
        send({ op: 'ended', peakRssBytes: process.resourceUsage().maxRSS * 1024 });
        process.disconnect();
      }
    } catch (e) {
      send({ op: 'failed', error: (e as Error).stack ?? String(e) });
    }
  })();
});
