/**
 * The large-model section of `npm run bench`: a model of SmolLM2-135M's shape (random weights,
 * made by training/make_fixtures.py --bench-shape smollm2-135m into a cache folder) in fp32, int8
 * and q4. For each runtime (native onnxruntime-node, onnxruntime-web's WASM in Node) and variant:
 * the engine, a bare onnxruntime loop and transformers.js, each in a process of its own (its peak
 * memory is its own), taking turns in short rounds (each cell's ratio the median of the per-round
 * ratios, with their interquartile range); and the token hover on a 1,000-token context as
 * the extension computes it.
 */
import { fork, spawnSync, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { LanguageModel } from '../src/core/model';
import type { Dtype, DtypeSetting } from '../src/core/neural/onnxVariants';
import { chunkContextStart } from '../src/editor/chunkedScoring';
import { hoverFactsAt, hoverWarmIds } from '../src/editor/hoverFacts';
import { checkSameTokens, median } from '../src/node/neuralBench';
import { loadModel } from '../src/node/modelLoader';
import { chooseFolderGraph } from '../src/node/neuralLoader';
import { PREFILL_CHUNK } from '../src/core/neural/onnxCausalLm';
import { bareForward } from './bareOnnxLoop';
import { spread, turnOrder, type Spread } from './benchFigures';
import type { BenchRuntime, FromRunner, NodeRuntime, Phase, PhaseMeasure, RunnerKind, RunnerSetup, ToRunner } from './bigModelRunner';

const ROOT = path.resolve(__dirname, '..', '..');
export const BIG_DTYPES: Dtype[] = ['fp32', 'int8', 'q4'];
export const BIG_PREFILL = 64;
/** Greedy tokens after the prompt: fewer where a step takes a second (WASM q4), so that a cell's rounds fit a few minutes. */
export const bigDecodeTokens = (runtime: BenchRuntime): number => (runtime === 'native' ? 16 : 8);

/**
 * The benchmark model's folder: LMP_BENCH_MODEL, else a cache folder, built there when absent if
 * /usr/bin/python3 has torch. `{ skipped }` says why there is none (BENCH_BIG=0, or no torch).
 */
export function bigModelDir(log: (s: string) => void): { dir: string } | { skipped: string } {
  if (process.env.BENCH_BIG === '0') return { skipped: 'BENCH_BIG=0' };
  const dir = process.env.LMP_BENCH_MODEL ?? path.join(os.homedir(), '.cache', 'lm-playground', 'bench', 'smollm2-135m');
  if (BIG_DTYPES.every((d) => fs.existsSync(path.join(dir, 'onnx', d === 'fp32' ? 'model.onnx' : `model_${d}.onnx`)))) return { dir };
  if (process.env.LMP_BENCH_MODEL) return { skipped: `LMP_BENCH_MODEL=${dir} lacks onnx/model.onnx, model_int8.onnx or model_q4.onnx` };
  const python = '/usr/bin/python3';
  if (spawnSync(python, ['-c', 'import torch, onnx'], { stdio: 'ignore' }).status !== 0)
    return { skipped: `${dir} is absent and ${python} has no torch and onnx to build it (training/make_fixtures.py --bench-shape smollm2-135m --out ${dir})` };
  log(`building the benchmark model into ${dir} (about 10 minutes, once)`);
  const partial = `${dir}.partial`;
  fs.rmSync(partial, { recursive: true, force: true });
  const r = spawnSync(python, [path.join(ROOT, 'training', 'make_fixtures.py'), '--bench-shape', 'smollm2-135m', '--out', partial], { stdio: 'inherit' });
  if (r.status !== 0) return { skipped: `training/make_fixtures.py --bench-shape smollm2-135m failed (exit ${r.status})` };
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(partial, dir);
  return { dir };
}

type RateKey = 'prefill' | 'decode' | 'prefillCpu' | 'decodeCpu';

export interface CellResult {
  runtime: BenchRuntime;
  dtype: Dtype;
  kind: RunnerKind;
  runner: string;
  loadSeconds: number;
  peakRssBytes: number;
  /** Medians over the rounds: tokens per second of wall time and per second of the runner's CPU time (NaN where not measured). */
  prefill: number;
  decode: number;
  prefillCpu: number;
  decodeCpu: number;
  /** For a reference: engine ÷ this runner (the engine of its variant), round by round (wall time, then CPU time). */
  ratios?: Record<RateKey, Spread>;
  /** Its tokens per second in each timed round, in order (NaN where it failed), for ratios between runners other than the engine's (variantRatio). */
  perRound?: Record<RateKey, number[]>;
  /** Why the runner could not run (then the figures are NaN). */
  error?: string;
  /** Greedy tokens other than the bare loop's (said in the table: such a cell is not a comparison). */
  tokensDiffer?: string;
}

/** One runtime and variant, its three runners taking turns: when and under what load it ran. */
export interface CellRun {
  runtime: BenchRuntime;
  dtype: Dtype;
  /** ISO time of its start. */
  date: string;
  loadBefore: number;
  loadAfter: number;
  /** Wall time of the whole cell: loads, warm-up round and rounds. */
  seconds: number;
  rounds: number;
  /** Sets of runner processes the rounds were shared among (absent in cells measured before there were several: one). */
  processSets?: number;
  /** The set each timed round ran in. */
  setOfRound?: number[];
  decodeTokens: number;
  results: CellResult[];
}

/** A runner as the round loop drives it, wherever it runs (a Node process, a browser page). */
export interface RunnerHandle {
  kind: RunnerKind;
  /** Its variant where a cell's runners run several (benchVariantCell); else the cell's. */
  dtype?: Dtype;
  setup(): Promise<{ runner: string; loadSeconds: number }>;
  phase(phase: Phase, round: number): Promise<PhaseMeasure>;
  /** Peak resident memory, in bytes. */
  peak(): Promise<number>;
  close(): Promise<void>;
}

/**
 * One runtime and variant: `sets` sets of runner processes (or pages), one set after another. In
 * each set the runners are loaded one after another, then run a warm-up round and their share of
 * the `rounds` timed rounds. A round is each runner's full prefill, then each runner's greedy
 * decode, in an order that turns round by round, so that a ratio compares runs a few seconds
 * apart; each cell's ratio is the median of the per-round ratios over all sets. Several sets,
 * because two processes of the same runner on the same file can differ by several per cent for
 * as long as they live (where their memory landed, which core they share with what): a cell
 * measured in one set would judge that luck, not the runners. `dtype` is the cell's variant, or
 * for a handle that names its own (a variants cell) the base it is compared with.
 */
export async function runCell(
  runtime: BenchRuntime,
  dtype: Dtype,
  makeHandles: () => RunnerHandle[],
  rounds: number,
  decodeTokens: number,
  log: (s: string) => void,
  sets = 1,
): Promise<CellRun> {
  const date = new Date().toISOString();
  const loadBefore = os.loadavg()[0];
  const t0 = performance.now();
  const nan = { loadSeconds: NaN, peakRssBytes: NaN, prefill: NaN, decode: NaN, prefillCpu: NaN, decodeCpu: NaN };
  let results: CellResult[] = [];
  /** Each runner's timed rounds, all sets in order (undefined where it failed). */
  let samples: { prefill: (PhaseMeasure | undefined)[]; decode: (PhaseMeasure | undefined)[] }[] = [];
  const loads: number[][] = [];
  const peaks: number[][] = [];
  /** The set each timed round ran in. */
  const setOfRound: number[] = [];
  sets = Math.max(1, Math.min(sets, rounds));
  let timedSoFar = 0;
  for (let set = 0; set < sets; set++) {
    const share = Math.floor(rounds / sets) + (set < rounds % sets ? 1 : 0);
    const handles = makeHandles();
    try {
      if (set === 0) {
        results = handles.map((h) => ({ runtime, dtype: h.dtype ?? dtype, kind: h.kind, runner: h.kind, ...nan }));
        samples = handles.map(() => ({ prefill: [], decode: [] }));
        handles.forEach(() => (loads.push([]), peaks.push([])));
      }
      for (const [i, h] of handles.entries()) {
        if (results[i].error) continue;
        try {
          const ready = await h.setup();
          results[i].runner = ready.runner;
          loads[i].push(ready.loadSeconds);
        } catch (e) {
          results[i].error = firstLine(e);
        }
      }
      for (let round = 0; round <= share; round++) {
        // Rounds are counted over all sets, so that the turn order goes on turning.
        const at = timedSoFar + round;
        if (round > 0) setOfRound[at - 1] = set;
        const order = turnOrder(
          handles.map((_, i) => i),
          at,
        );
        const tokens = new Map<number, number[]>();
        for (const phase of ['prefill', 'decode'] as const) {
          for (const i of order) {
            if (results[i].error) continue;
            try {
              const m = await handles[i].phase(phase, at);
              if (m.tokens) tokens.set(i, m.tokens);
              // Round 0 of each set is its warm-up.
              if (round > 0) samples[i][phase][at - 1] = m;
            } catch (e) {
              results[i].error = firstLine(e);
            }
          }
        }
        // The greedy tokens of each runner against the first runner's of its variant (the bare loop's) in the same round.
        const first = [...tokens.keys()].sort((a, b) => a - b);
        for (const [i, t] of tokens) {
          const reference = first.find((j) => results[j].dtype === results[i].dtype)!;
          if (i === reference || results[i].tokensDiffer) continue;
          try {
            checkSameTokens({ runner: results[reference].runner, tokens: tokens.get(reference)! }, { runner: results[i].runner, tokens: t });
          } catch (e) {
            results[i].tokensDiffer = (e as Error).message;
          }
        }
        log(`    ${sets > 1 ? `processes ${set + 1} of ${sets}, ` : ''}round ${round}${round === 0 ? ' (warm-up)' : ''}: load ${os.loadavg()[0].toFixed(1)}`);
      }
      for (const [i, h] of handles.entries()) if (!results[i].error) peaks[i].push(await h.peak().catch(() => NaN));
    } finally {
      for (const h of handles) await h.close();
    }
    timedSoFar += share;
  }
  const rate = (m: PhaseMeasure | undefined, cpu: boolean) => (m ? m.count / (cpu ? m.cpuSeconds : m.seconds) : NaN);
  for (const [i, res] of results.entries()) {
    if (res.error) continue;
    const perRound = (phase: Phase, cpu: boolean) => Array.from({ length: rounds }, (_, r) => rate(samples[i][phase][r], cpu));
    res.perRound = {
      prefill: perRound('prefill', false),
      decode: perRound('decode', false),
      prefillCpu: perRound('prefill', true),
      decodeCpu: perRound('decode', true),
    };
    res.prefill = median(res.perRound.prefill);
    res.decode = median(res.perRound.decode);
    res.prefillCpu = median(res.perRound.prefillCpu);
    res.decodeCpu = median(res.perRound.decodeCpu);
    res.loadSeconds = median(loads[i]);
    // The largest of the sets' peaks: what a process of this runner needed.
    res.peakRssBytes = Math.max(...peaks[i]);
  }
  for (const res of results) {
    const engine = results.find((r) => r.kind === 'engine' && r.dtype === res.dtype);
    if (!engine || res === engine || res.error || engine.error || res.tokensDiffer || engine.tokensDiffer) continue;
    const per = (key: RateKey) => spread(roundRatios(engine, res, key), setOfRound);
    res.ratios = { prefill: per('prefill'), decode: per('decode'), prefillCpu: per('prefillCpu'), decodeCpu: per('decodeCpu') };
  }
  return {
    runtime,
    dtype,
    date,
    loadBefore,
    loadAfter: os.loadavg()[0],
    seconds: (performance.now() - t0) / 1000,
    rounds,
    processSets: sets,
    setOfRound,
    decodeTokens,
    results,
  };
}

/** a ÷ b, round by round (both ran in every round of their cell). */
const roundRatios = (a: CellResult, b: CellResult, key: RateKey): number[] => a.perRound![key].map((x, r) => x / b.perRound![key][r]);

/**
 * A variants cell (benchVariantCell): `dtype` ÷ fp32 for the runner `kind`, round by round, as a
 * spread over the cell's sets; undefined where either failed.
 */
export function variantRatio(run: CellRun, kind: RunnerKind, dtype: Dtype, key: RateKey): Spread | undefined {
  const of = (d: Dtype) => run.results.find((r) => r.kind === kind && r.dtype === d && !r.error && r.perRound);
  const [a, b] = [of(dtype), of('fp32')];
  return a && b ? spread(roundRatios(a, b, key), run.setOfRound) : undefined;
}

const firstLine = (e: unknown) => ((e as Error).message ?? String(e)).split('\n')[0].replace(/ERROR_MESSAGE: .*\] : \d+ : \w+ : /, '');

/** A runner's process: requests answered in order. */
class RunnerProcess implements RunnerHandle {
  private readonly child: ChildProcess;
  readonly dtype: Dtype;
  private waiting: ((m: FromRunner) => void) | undefined;
  constructor(
    readonly kind: RunnerKind,
    private readonly setupMessage: RunnerSetup,
  ) {
    this.dtype = setupMessage.dtype;
    this.child = fork(path.join(__dirname, 'bigModelRunner.js'), [], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      execArgv: ['--max-old-space-size=8192'],
    });
    this.child.on('message', (m: FromRunner) => this.waiting?.(m));
    this.child.on('exit', (code) => this.waiting?.({ op: 'failed', error: `the runner's process exited (${code})` }));
  }
  private ask(m: ToRunner): Promise<FromRunner> {
    return new Promise((resolve) => {
      this.waiting = (r) => {
        this.waiting = undefined;
        resolve(r);
      };
      this.child.send(m);
    });
  }
  private async expect<K extends FromRunner['op']>(m: ToRunner, op: K): Promise<Extract<FromRunner, { op: K }>> {
    const r = await this.ask(m);
    if (r.op === op) return r as Extract<FromRunner, { op: K }>;
    throw new Error(r.op === 'failed' ? r.error : `unexpected answer ${r.op}`);
  }
  async setup() {
    const r = await this.expect({ op: 'setup', setup: this.setupMessage }, 'ready');
    return { runner: r.runner, loadSeconds: r.loadSeconds };
  }
  async phase(phase: Phase, round: number) {
    return (await this.expect({ op: phase, round }, 'measured')).measure;
  }
  async peak() {
    return (await this.expect({ op: 'end' }, 'ended')).peakRssBytes;
  }
  async close() {
    if (this.child.exitCode === null) this.child.kill();
  }
}

/** One runtime and variant in Node: the bare loop, the engine and transformers.js, each in a process of its own (its peak memory is its own), in `sets` sets of processes one after another (runCell). */
export async function benchCell(
  dir: string,
  runtime: NodeRuntime,
  dtype: Dtype,
  prompt: RunnerSetup['prompt'],
  rounds: number,
  decode: number,
  log: (s: string) => void,
  sets = 1,
): Promise<CellRun> {
  const handles = () => (['bare', 'engine', 'tjs'] as const).map((kind) => new RunnerProcess(kind, { kind, runtime, dtype, dir, prompt, decode }));
  return runCell(runtime, dtype, handles, rounds, decode, log, sets);
}

/**
 * The precision variants side by side on native: the bare loop and the engine in fp32, int8 and q4,
 * six processes taking turns round by round in `sets` sets (runCell), so that a variant's speed-up
 * over fp32 is a ratio of runs seconds apart (variantRatio), not of cells measured minutes apart
 * under other loads. The bare loop's ratios are what the runtime itself gives on this machine.
 */
export async function benchVariantCell(
  dir: string,
  prompt: RunnerSetup['prompt'],
  rounds: number,
  decode: number,
  log: (s: string) => void,
  sets: number,
): Promise<CellRun> {
  const handles = () =>
    BIG_DTYPES.flatMap((dtype) =>
      (['bare', 'engine'] as const).map((kind) => new RunnerProcess(kind, { kind, runtime: 'native', dtype, dir, prompt, decode })),
    );
  return runCell('native', 'fp32', handles, rounds, decode, log, sets);
}

/** Tokens of context before the hovered token. */
export const HOVER_CONTEXT_TOKENS = 1000;

/**
 * Milliseconds of a hover: cold (a document the model has not run), on the next word, on the same
 * word after a one-word edit before it, and the first hover after the warm-up (the document shown
 * with its text as the visible lines: lmPlayground.hover.warmUp), with the warm-up's own time.
 */
export interface HoverTimes {
  cold: number;
  nextWord: number;
  afterEdit: number;
  warmUp: number;
  afterWarmUp: number;
  /**
   * The same text, to the hovered word's end, run by a bare onnxruntime-node session on the same
   * graph (the runtime's default threads, passes of PREFILL_CHUNK, every logit the graph computes):
   * what a cold hover cannot go below on this machine, measured beside it.
   */
  barePrefill: number;
  /** Tokens of that run. */
  bareTokens: number;
  /** Largest difference, in nats, between the hover after the warm-up and the cold one (the token's and its word's parts' log-probs). */
  warmDiff: number;
  /** Each run's cold hover: the token's log-prob, then its word's parts' (to compare variants on the same texts). */
  coldParts: number[][];
  /** Tokens of context of the cold hover, and of the warm-up. */
  tokens: number;
  warmTokens: number;
  dtype: string;
}

/**
 * A bare onnxruntime-node session on the graph of `dtype` in `dir`; the function runs `ids` from
 * an empty cache in passes of PREFILL_CHUNK and returns its milliseconds.
 */
async function bareSession(dir: string, dtype: string): Promise<(ids: number[]) => Promise<number>> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = require('onnxruntime-node') as typeof import('onnxruntime-common');
  const graph = chooseFolderGraph(dir, { setting: dtype as DtypeSetting }, 'native');
  const session = await ort.InferenceSession.create(path.join(dir, ...graph.path.split('/')), { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
  const forward = bareForward(ort, session, dir);
  return async (ids) => {
    const t0 = performance.now();
    let past = forward.empty();
    for (let a = 0; a < ids.length; a += PREFILL_CHUNK) past = (await forward.step(ids.slice(a, a + PREFILL_CHUNK), a, past, 1)).present;
    return performance.now() - t0;
  };
}

/**
 * The token hover as the extension computes it (tokenHover.ts from the document's start: the
 * model service's worker-thread model, the window tokenized with offsets, hoverFactsAt on a word,
 * the word's other tokens included), as a reader goes through a document: the word after about
 * 1,000 tokens (cold: the model's cache forgotten first), the next word, then the same word again
 * after the word before it was replaced; then, the cache forgotten, the warm-up of the text (as
 * contextWarmup.ts runs it when the text is the visible lines) and the same word's hover after it.
 * One model per dtype, all loaded, taking turns run by run; another text each run; medians of
 * `runs` after a warm-up run.
 */
export async function benchHover(dir: string, dtypes: DtypeSetting[], texts: string, runs: number): Promise<HoverTimes[]> {
  const models: LanguageModel[] = [];
  try {
    for (const dtype of dtypes) models.push(await loadModel(dir, undefined, { device: 'native', inWorker: true, dtype: { setting: dtype } }));
    const times = models.map(() => ({
      cold: [] as number[],
      nextWord: [] as number[],
      afterEdit: [] as number[],
      warmUp: [] as number[],
      afterWarmUp: [] as number[],
      barePrefill: [] as number[],
    }));
    const bare = await Promise.all(models.map((model) => bareSession(dir, model.info.precision ?? 'fp32')));
    const bareTokens = models.map(() => 0);
    const tokens = models.map(() => 0);
    const warmTokens = models.map(() => 0);
    const warmDiff = models.map(() => 0);
    const coldParts = models.map(() => [] as number[][]);
    for (let r = 0; r <= runs; r++) {
      for (let m = 0; m < models.length; m++) {
        const model = models[m];
        if (!model.warmContext) throw new Error(`${model.info.name} has no warm-up`);
        /** Hovers the second letter of `word` in `text`; ms, the context's tokens and the facts. */
        const hover = async (text: string, word: { index: number }) => {
          const offset = word.index + 1;
          const lineStart = text.lastIndexOf('\n', offset) + 1;
          const lineEnd = text.indexOf('\n', offset);
          const line = { text: text.slice(lineStart, lineEnd < 0 ? text.length : lineEnd), start: lineStart };
          const t0 = performance.now();
          const seq = { tokens: model.tokenizer.encode(text, true, 0), fromDocumentStart: true, contextStart: (i: number) => chunkContextStart(model, i) };
          const facts = await hoverFactsAt(model, seq, offset, line, 10);
          const ms = performance.now() - t0;
          if (!facts) throw new Error('the hover found no token under the word');
          return { ms, tokens: facts.context.tokens, facts };
        };
        const from = texts.indexOf(' ', 20_000 * (r + 1)) + 1;
        const cut = model.tokenizer.encode(texts.slice(from, from + 20_000), true);
        const text = texts.slice(from, from + cut[HOVER_CONTEXT_TOKENS + 100].start);
        const words = [...text.matchAll(/\p{L}{3,}/gu)];
        const w = words.findIndex((x) => x.index >= cut[HOVER_CONTEXT_TOKENS].start);
        await model.forgetContext?.();
        const cold = await hover(text, words[w]);
        const toWordEnd = model.tokenizer.encode(text.slice(0, words[w].index + words[w][0].length), true, 0).map((t) => t.id);
        const bareMs = await bare[m](toWordEnd);
        bareTokens[m] = toWordEnd.length;
        const next = await hover(text, words[w + 1]);
        // The word before the hovered one replaced by another of the text, the hovered word hovered again.
        const before = words[w - 1];
        const other = words.find((x) => x[0] !== before[0] && x[0].length === before[0].length) ?? words[0];
        const edited = text.slice(0, before.index) + other[0] + text.slice(before.index + before[0].length);
        const edit = await hover(edited, { index: words[w].index + other[0].length - before[0].length });
        // The document shown with this text as its visible lines: the warm-up, then the first hover.
        await model.forgetContext?.();
        const t0 = performance.now();
        const warm = await model.warmContext(hoverWarmIds(model, { text, startOffset: 0, atStart: true }));
        const warmMs = performance.now() - t0;
        const after = await hover(text, words[w]);
        const parts = (f: typeof cold.facts) => [f.logProb, ...(f.word?.parts.map((p) => p.logProb) ?? [])];
        const a = parts(after.facts);
        const c = parts(cold.facts);
        warmDiff[m] = Math.max(warmDiff[m], ...a.map((x, i) => Math.abs(x - c[i])));
        coldParts[m].push(c);
        tokens[m] = cold.tokens;
        warmTokens[m] = warm.cached;
        if (r > 0) {
          times[m].cold.push(cold.ms);
          times[m].nextWord.push(next.ms);
          times[m].afterEdit.push(edit.ms);
          times[m].warmUp.push(warmMs);
          times[m].afterWarmUp.push(after.ms);
          times[m].barePrefill.push(bareMs);
        }
      }
    }
    return models.map((model, m) => ({
      cold: median(times[m].cold),
      nextWord: median(times[m].nextWord),
      afterEdit: median(times[m].afterEdit),
      warmUp: median(times[m].warmUp),
      afterWarmUp: median(times[m].afterWarmUp),
      barePrefill: median(times[m].barePrefill),
      bareTokens: bareTokens[m],
      warmDiff: warmDiff[m],
      coldParts: coldParts[m],
      tokens: tokens[m],
      warmTokens: warmTokens[m],
      dtype: model.info.precision ?? dtypes[m],
    }));
  } finally {
    for (const model of models) await model.dispose?.();
  }
}
