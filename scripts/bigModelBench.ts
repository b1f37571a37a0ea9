/**
 * The large-model section of `npm run bench`: a model of SmolLM2-135M's shape (random weights,
 * made by training/make_fixtures.py --bench-shape smollm2-135m into a cache folder) in fp32, int8
 * and q4. For each runtime (native onnxruntime-node, onnxruntime-web's WASM in Node) and variant:
 * the engine, a bare onnxruntime loop and transformers.js, each in a process of its own (its peak
 * memory is its own), taking turns run by run; and the token hover on a 1,000-token context as
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
import { benchPrompt, checkSameTokens, median, type RunMeasure } from '../src/node/neuralBench';
import { loadModel } from '../src/node/modelLoader';
import type { BenchRuntime, FromRunner, NodeRuntime, RunnerKind, RunnerSetup, ToRunner } from './bigModelRunner';

const ROOT = path.resolve(__dirname, '..', '..');
export const BIG_DTYPES: Dtype[] = ['fp32', 'int8', 'q4'];
export const BIG_PREFILL = 64;
export const BIG_DECODE = 16;

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

export interface CellResult {
  runtime: BenchRuntime;
  dtype: Dtype;
  kind: RunnerKind;
  runner: string;
  loadSeconds: number;
  peakRssBytes: number;
  prefill: number;
  decode: number;
  /** Why the runner could not run (then the figures are NaN). */
  error?: string;
  /** Greedy tokens other than the bare loop's (said in the table: such a cell is not a comparison). */
  tokensDiffer?: string;
}

/** A runner's process: requests answered in order. */
class RunnerProcess {
  private readonly child: ChildProcess;
  private waiting: ((m: FromRunner) => void) | undefined;
  constructor() {
    this.child = fork(path.join(__dirname, 'bigModelRunner.js'), [], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      execArgv: ['--max-old-space-size=8192'],
    });
    this.child.on('message', (m: FromRunner) => this.waiting?.(m));
    this.child.on('exit', (code) => this.waiting?.({ op: 'failed', error: `the runner's process exited (${code})` }));
  }
  ask(m: ToRunner): Promise<FromRunner> {
    return new Promise((resolve) => {
      this.waiting = (r) => {
        this.waiting = undefined;
        resolve(r);
      };
      this.child.send(m);
    });
  }
  kill(): void {
    if (this.child.exitCode === null) this.child.kill();
  }
}

/** One runtime and variant: the three runners, loaded one after another, then taking turns run by run. */
export async function benchCell(dir: string, runtime: NodeRuntime, dtype: Dtype, prompt: RunnerSetup['prompt'], runs: number): Promise<CellResult[]> {
  const kinds: RunnerKind[] = ['bare', 'engine', 'tjs'];
  const procs = kinds.map(() => new RunnerProcess());
  try {
    const results: CellResult[] = [];
    for (const [i, kind] of kinds.entries()) {
      const r = await procs[i].ask({ op: 'setup', setup: { kind, runtime, dtype, dir, prompt, decode: BIG_DECODE } });
      const base = { runtime, dtype, kind, peakRssBytes: NaN, prefill: NaN, decode: NaN };
      results.push(
        r.op === 'ready' ? { ...base, runner: r.runner, loadSeconds: r.loadSeconds } : { ...base, runner: kind, loadSeconds: NaN, error: failure(r) },
      );
    }
    const samples = kinds.map(() => ({ prefill: [] as number[], decode: [] as number[] }));
    for (let run = 0; run <= runs; run++) {
      let reference: { runner: string; tokens: number[] } | undefined;
      for (const [i, res] of results.entries()) {
        if (res.error) continue;
        const r = await procs[i].ask({ op: 'run', run });
        if (r.op !== 'measured') {
          res.error = failure(r);
          continue;
        }
        const m: RunMeasure = r.measure;
        if (!reference) reference = { runner: res.runner, tokens: m.tokens };
        else if (!res.tokensDiffer) {
          try {
            checkSameTokens(reference, { runner: res.runner, tokens: m.tokens });
          } catch (e) {
            res.tokensDiffer = (e as Error).message;
          }
        }
        if (run === 0) continue; // warm-up
        samples[i].prefill.push(m.prefill);
        samples[i].decode.push(m.decode);
      }
    }
    for (const [i, res] of results.entries()) {
      if (res.error) continue;
      const r = await procs[i].ask({ op: 'end' });
      if (r.op === 'ended') res.peakRssBytes = r.peakRssBytes;
      res.prefill = median(samples[i].prefill);
      res.decode = median(samples[i].decode);
    }
    return results;
  } finally {
    for (const p of procs) p.kill();
  }
}

/** The error's first line, without onnxruntime's C++ source location. */
const failure = (r: FromRunner) => (r.op === 'failed' ? r.error.split('\n')[0].replace(/ERROR_MESSAGE: .*\] : \d+ : \w+ : /, '') : `unexpected answer ${r.op}`);

export async function benchBigModelNode(dir: string, runs: number, log: (s: string) => void): Promise<CellResult[]> {
  const prompt = benchPrompt(dir, BIG_PREFILL);
  const out: CellResult[] = [];
  for (const runtime of ['native', 'wasm'] as const) {
    for (const dtype of BIG_DTYPES) {
      const cell = await benchCell(dir, runtime, dtype, prompt, runs);
      for (const c of cell)
        log(
          `  ${runtime} ${dtype} ${c.runner}: ${c.error ?? `load ${c.loadSeconds.toFixed(2)} s, prefill ${c.prefill.toFixed(0)}/s, decode ${c.decode.toFixed(1)}/s`}`,
        );
      out.push(...cell);
    }
  }
  return out;
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
    }));
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
        }
      }
    }
    return models.map((model, m) => ({
      cold: median(times[m].cold),
      nextWord: median(times[m].nextWord),
      afterEdit: median(times[m].afterEdit),
      warmUp: median(times[m].warmUp),
      afterWarmUp: median(times[m].afterWarmUp),
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
