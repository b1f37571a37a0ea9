/**
 * One runner of the large-model benchmark (scripts/bigModelBench.ts), in a process of its own so
 * that its peak memory is its own: the engine, a bare onnxruntime loop or transformers.js, on one
 * runtime (native onnxruntime-node, or onnxruntime-web's WASM in Node) and one precision variant.
 * The parent sends `prefill` and `decode` messages, taking turns with the other runners' processes;
 * each answers with a PhaseMeasure (wall and CPU time); `end` answers with the process's peak
 * resident memory.
 */
import * as path from 'path';
import { pathToFileURL } from 'url';
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { argmax } from '../src/core/distribution';
import { bareForward } from './bareOnnxLoop';
import { generate } from '../src/core/generation';
import { graphExternalData } from '../src/node/externalData';
import { optOutOfOnnxRuntimeTelemetry } from '../src/node/onnxRuntimeTelemetry';
import { lowerPriority } from '../src/node/engineService';
import { loadModel } from '../src/node/modelLoader';
import { chooseFolderGraph, graphForRuntime } from '../src/node/neuralLoader';
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

/** One timed phase of a runner: `count` tokens in `seconds` of wall time and `cpuSeconds` of the process's CPU time. */
export interface PhaseMeasure {
  count: number;
  seconds: number;
  cpuSeconds: number;
  /** The greedy tokens (decode only), to check that the runners compute the same thing. */
  tokens?: number[];
}

export type Phase = 'prefill' | 'decode';
export type ToRunner = { op: 'setup'; setup: RunnerSetup } | { op: Phase; round: number } | { op: 'end' };
export type FromRunner =
  | { op: 'ready'; runner: string; loadSeconds: number }
  | { op: 'measured'; measure: PhaseMeasure }
  | { op: 'ended'; peakRssBytes: number }
  | { op: 'failed'; error: string };

/** A loaded runner: a full prefill of the prompt, and a greedy decode after it (only the steps after the first token timed). */
interface Loaded {
  runner: string;
  prefill(round: number): Promise<PhaseMeasure>;
  decode(round: number): Promise<PhaseMeasure>;
}

/** Wall and CPU clocks (CPU: every thread of the process, which is what a shared machine does not take away). */
const clocks = () => ({ wall: performance.now() / 1000, cpu: cpuSeconds() });
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const since = (a: { wall: number; cpu: number }, count: number, tokens?: number[]): PhaseMeasure => {
  const b = clocks();
  return { count, seconds: b.wall - a.wall, cpuSeconds: b.cpu - a.cpu, ...(tokens ? { tokens } : {}) };
};

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

/**
 * The engine as the extension runs it: the model in the engine's worker thread (as the model
 * service loads it, with its resource limits), this thread the host with the tokenizer; prefill
 * through nextLogProbs, decode through generate on the host as Complete Selection runs it (each
 * step a request to the worker; sampler included).
 */
async function engine(s: RunnerSetup): Promise<Loaded> {
  const lm = await loadModel(s.dir, undefined, { device: s.runtime, threads: 1, inWorker: true, dtype: { setting: s.dtype } });
  if (!lm.forgetContext) throw new Error('the engine in its worker forgets no context: the prefill would not be a full one');
  const ids = s.prompt.ids;
  return {
    runner: `engine, ${s.runtime} (worker thread)`,
    async prefill(round) {
      // A full prefill: the cache of the last run forgotten (it shares all but the last token).
      const context = [...ids.slice(0, -1), 100 + round];
      await lm.forgetContext!();
      const a = clocks();
      await lm.nextLogProbs(context);
      return since(a, ids.length);
    },
    async decode() {
      await lm.forgetContext!();
      let first: ReturnType<typeof clocks> | undefined;
      const [c] = await generate(lm, s.prompt.text, { maxTokens: s.decode, temperature: 0 }, { onToken: () => (first ??= clocks()) });
      const tokens = c.tokens.map((t) => t.id);
      return since(first!, tokens.length - 1, tokens);
    },
  };
}

/** The reference: a hand-written greedy loop over the same runtime and file, no tokenizer, sampler or scorer. */
async function bare(s: RunnerSetup): Promise<Loaded> {
  // Without the runtime's telemetry, as the engine and transformers.js run it.
  optOutOfOnnxRuntimeTelemetry();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort: Ort = s.runtime === 'native' ? (require('onnxruntime-node') as Ort) : wasmOrt();
  const graph = chooseFolderGraph(s.dir, { setting: s.dtype }, s.runtime);
  const given = graphForRuntime(path.join(s.dir, ...graph.path.split('/')), s.runtime);
  const options: InferenceSession.SessionOptions = { executionProviders: [s.runtime === 'native' ? 'cpu' : 'wasm'], graphOptimizationLevel: 'all' };
  if (s.runtime === 'native') options.intraOpNumThreads = 1;
  if (given.externalData?.length) options.externalData = given.externalData;
  const session =
    typeof given.onnx === 'string' ? await ort.InferenceSession.create(given.onnx, options) : await ort.InferenceSession.create(given.onnx, options);
  const forward = bareForward(ort, session, s.dir);
  const V = forward.vocabSize;
  const step = async (tokens: number[], pastLength: number, past: Tensor[]) => {
    const { logits, present } = await forward.step(tokens, pastLength, past);
    return { next: argmax(logits.subarray((tokens.length - 1) * V, tokens.length * V)), present };
  };
  const empty = forward.empty;
  const ids = s.prompt.ids;
  return {
    runner: `bare onnxruntime-${s.runtime === 'native' ? 'node' : 'web'} loop`,
    async prefill() {
      const a = clocks();
      await step(ids, 0, empty());
      return since(a, ids.length);
    },
    async decode() {
      let { next, present } = await step(ids, 0, empty());
      const a = clocks();
      const tokens = [next];
      for (let i = 1; i < s.decode; i++) {
        ({ next, present } = await step([next], ids.length + i - 1, present));
        tokens.push(next);
      }
      return since(a, s.decode - 1, tokens);
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
  // In Node transformers.js hands the runtime the external data's path, which only onnxruntime-node
  // can open (onnxruntime-web: "Module.MountedFiles is not available"). On WASM the data files are
  // named in `session_options.externalData` instead, as its docs say for runtimes that need them
  // (paths in the model's folder, read by transformers.js into bytes), and the config's
  // `use_external_data_format` is turned off so that this list is the one used.
  const graph = chooseFolderGraph(s.dir, { setting: s.dtype }, s.runtime).path;
  const externalData = graphExternalData(path.join(s.dir, ...graph.split('/'))).map((d) => ({
    path: d.location,
    data: path.posix.join(path.posix.dirname(graph), d.location),
  }));
  // With a host-provided runtime transformers.js knows no devices: the execution provider is named instead.
  const model = await tjs.AutoModelForCausalLM.from_pretrained(path.basename(s.dir), {
    device: s.runtime === 'native' ? 'cpu' : 'auto',
    dtype: s.dtype as 'fp32',
    session_options: s.runtime === 'native' ? { intraOpNumThreads: 1 } : { executionProviders: ['wasm'], ...(externalData.length ? { externalData } : {}) },
    ...(s.runtime === 'wasm' && externalData.length ? { use_external_data_format: false } : {}),
  } as never);
  const ids = BigInt64Array.from(s.prompt.ids, BigInt);
  const input_ids = new tjs.Tensor('int64', ids, [1, ids.length]);
  const attention_mask = new tjs.Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]);
  const gen = (n: number, streamer?: { put(ids: bigint[][]): void; end(): void }) =>
    model.generate({ input_ids, attention_mask, max_new_tokens: n, min_new_tokens: n, do_sample: false, streamer } as never);
  return {
    runner: `transformers.js generate (${s.runtime === 'native' ? 'onnxruntime-node' : 'onnxruntime-web WASM'})`,
    async prefill() {
      const a = clocks();
      await gen(1);
      return since(a, ids.length);
    },
    async decode() {
      // The streamer is handed the prompt, then each new token: the decode steps are timed from the first token on.
      let puts = 0;
      let first: ReturnType<typeof clocks> | undefined;
      const streamer = { put: () => void (++puts === 2 && (first = clocks())), end: () => undefined };
      const out = (await gen(s.decode, streamer)) as unknown as { tolist(): bigint[][] };
      return since(first!, s.decode - 1, out.tolist()[0].slice(ids.length).map(Number));
    },
  };
}

export const LOADERS: Record<RunnerKind, (s: RunnerSetup) => Promise<Loaded>> = { engine, bare, tjs: transformersJs };

// Every runner at the priority the engine's worker thread gives itself (engineWorker.ts), so that
// on a shared machine none of them gives way to other work more than the others.
lowerPriority();

let loaded: Loaded | undefined;
const send = (m: FromRunner) => process.send!(m);
process.on('message', (m: ToRunner) => {
  void (async () => {
    try {
      if (m.op === 'setup') {
        const t0 = clocks().wall;
        loaded = await LOADERS[m.setup.kind](m.setup);
        send({ op: 'ready', runner: loaded.runner, loadSeconds: clocks().wall - t0 });
      } else if (m.op === 'prefill' || m.op === 'decode') send({ op: 'measured', measure: await loaded![m.op](m.round) });
      else {
        send({ op: 'ended', peakRssBytes: process.resourceUsage().maxRSS * 1024 });
        process.disconnect();
      }
    } catch (e) {
      send({ op: 'failed', error: (e as Error).stack ?? String(e) });
    }
  })();
});
