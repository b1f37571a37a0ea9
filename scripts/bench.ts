/**
 * `npm run bench`: speed and memory of the n-gram core, with medians of repeated runs and ratios
 * against reference implementations measured in the same run. Writes docs/BENCHMARKS.md.
 *
 * Each reference is checked to compute the same values as what it is compared with (the run stops
 * otherwise), and each stated target is judged: the run prints and writes "meets" or "misses".
 * Each section writes only between its markers in the file (`<!-- bench:NAME -->`, scripts/benchDoc.ts):
 * notes written by hand outside them stay. `node out/scripts/bench.js ngram inline` runs only the named
 * sections (ngram, training, ngramload, neural, big, variants, hover, tokenizer, inline, serve, inside, gguf) and
 * replaces their blocks and their rows of the targets. BENCH_RUNS=1 and BENCH_LARGE_MIB=10 shorten it;
 * a shortened run, or one with BENCH_PRINT=1, only prints, to check a change. The `big` section (a model of
 * SmolLM2-135M's shape) is built into a cache folder on first use; BENCH_BIG=0 skips it,
 * LMP_BENCH_MODEL names another folder.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { arpaText } from '../src/core/ngram/arpaWriter';
import { KneserNeyTrainer } from '../src/core/ngram/kneserNey';
import type { NgramModel } from '../src/core/ngram/ngramModel';
import { addTextToTrainer } from '../src/core/ngram/textTraining';
import type { Dtype } from '../src/core/neural/onnxVariants';
import { loadModel } from '../src/node/modelLoader';
import { benchNeural, benchPrompt, type NeuralBenchResult } from '../src/node/neuralBench';
import { PREFILL_CHUNK } from '../src/core/neural/onnxCausalLm';
import {
  BIG_DTYPES,
  BIG_PREFILL,
  HOVER_CONTEXT_TOKENS,
  benchCell,
  benchHover,
  benchVariantCell,
  bigDecodeTokens,
  bigModelDir,
  variantRatio,
  type CellRun,
} from './bigModelBench';
import type { BenchRuntime } from './bigModelRunner';
import { benchBigModelBrowser } from './browserBigBench';
import { benchBrowserWasm } from './browserBench';
import { inlineContinuation, inlineLatency, percentile } from './inlineBench';
import { GGUF_VARIANTS, compareGguf, ggufTable, missingGgufBenchFiles, staleGgufBenchFiles, type GgufVariant } from './ggufSpeed';
import { hugeArpaSection, ngramLoadSection } from './ngramLoadBench';
import { benchInside } from './insideBench';
import { benchRemote } from './remoteBench';
import { benchServe } from './serveBench';
import { benchTokenizers } from './tokenizerBench';
import { trainingSection } from './trainingBench';
import { targetCount, updateDoc, type DocBlock } from './benchDoc';
import { fmt, judgeSpread, median, spread, type Say, type Spread } from './benchFigures';

const ROOT = path.resolve(__dirname, '..', '..');
const CORPUS = path.resolve(ROOT, '..', 'shared', 'corpus', 'en');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SECTIONS = ['ngram', 'training', 'ngramload', 'neural', 'big', 'variants', 'hover', 'tokenizer', 'inline', 'serve', 'inside', 'gguf'] as const;
type Section = (typeof SECTIONS)[number];

/** A stated target and how this run did against it. */
interface Target {
  target: string;
  measured: string;
  /** undefined: measured under other conditions than the target's, or not settled by the rounds, so not judged. */
  meets: boolean | undefined;
  /** Measured, but its rounds' spread straddles the target. */
  unsettled?: boolean;
}
const verdict = (meets: boolean) => (meets ? 'meets' : 'misses');

function timeRuns(runs: number, fn: () => void): number[] {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    fn();
    out.push(Number(process.hrtime.bigint() - t) / 1e9);
  }
  return out;
}

function corpusTexts(split: string): string[] {
  const dir = path.join(CORPUS, split);
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));
}

/** Reference: the straightforward way, one Map entry per n-gram keyed by its words joined; distinct n-grams per order. */
function naiveCount(texts: string[], order: number): number[] {
  const maps = Array.from({ length: order }, () => new Map<string, number>());
  for (const text of texts) {
    for (const line of text.split('\n')) {
      const w = ['<s>', ...line.split(/[ \t\r\f\v\0]+/).filter(Boolean), '</s>'];
      for (let i = 1; i < w.length; i++) {
        for (let k = 1; k <= order && i - k + 1 >= 0; k++) {
          const key = w.slice(i - k + 1, i + 1).join(' ');
          maps[k - 1].set(key, (maps[k - 1].get(key) ?? 0) + 1);
        }
      }
    }
  }
  return maps.map((m) => m.size);
}

/** Reference: an ARPA model as a hash of strings, with backoff done by string lookups. */
class StringHashModel {
  private readonly entries = new Map<string, [number, number]>();
  constructor(model: NgramModel) {
    let section = 0;
    for (const line of arpaText(model).split('\n')) {
      const m = /^\\(\d)-grams:$/.exec(line);
      if (m) section = Number(m[1]);
      else if (section && line) {
        const f = line.split('\t');
        this.entries.set(f[1], [Number(f[0]), f[2] ? Number(f[2]) : 0]);
      }
    }
  }
  logProb10(context: string[], word: string): number {
    let bo = 0;
    for (let m = context.length; m >= 0; m--) {
      const ctx = context.slice(context.length - m).join(' ');
      const hit = this.entries.get(m ? `${ctx} ${word}` : word);
      if (hit) return hit[0] + bo;
      if (m) bo += this.entries.get(ctx)?.[1] ?? 0;
    }
    return -99;
  }
}

/** Size of the text `lmp score` streams; the memory target is stated for 200 MB (BENCH_LARGE_MIB for a quick check). */
const LARGE_MIB = Number(process.env.BENCH_LARGE_MIB ?? 200);

/** `lmp score` of a generated 200 MB text (the training books over and over) with the embedded n-gram model. */
function scoreLargeText(): { mib: number; seconds: number; rss: number | undefined } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-bench-score-'));
  try {
    const file = path.join(dir, 'large.txt');
    const books = fs
      .readdirSync(path.join(CORPUS, 'train'))
      .sort()
      .map((f) => fs.readFileSync(path.join(CORPUS, 'train', f)));
    const fd = fs.openSync(file, 'w');
    let bytes = 0;
    for (let i = 0; bytes < LARGE_MIB * 2 ** 20; i++) bytes += fs.writeSync(fd, books[i % books.length]);
    fs.closeSync(fd);
    const started = Date.now();
    const rss = peakRssOfCli(['score', '--model', 'ngram-classics', file]);
    return { mib: bytes / 2 ** 20, seconds: (Date.now() - started) / 1000, rss };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Texts of the neural streamed-scoring memory check: peak memory must not grow with the text. The
 * growth was found at 232 MB for 64 KiB against 384 MB for 256 KiB, before scoring streamed window
 * by window. 1 MiB now takes 40 s (7 minutes then). From 64 KiB the heap is still growing to its
 * steady size (205 → 235 → 241 MiB for 64, 256 and 1,024 KiB, 2026-12-02), so the check starts at 256.
 */
const NEURAL_SCORE_KIB = [256, 1024];
/**
 * Peak memory allowed from the small text to the large one: V8 grows its heap lazily, so the short
 * run ends before the heap reaches its steady size (live memory after a forced GC stays at about
 * 10 MiB of heap either way, measured with --expose-gc).
 */
const NEURAL_SCORE_GROWTH = 1.2;

/**
 * `lmp score --model gpt-classics` of 256 KiB and 1 MiB of the training books, with and without
 * `--details --json`: streamed window by window, so peak memory is the model and one chunk's
 * tokens whatever the length (it grew with the text while details stepped the KV cache per token).
 */
function neuralScoreMemory(say: Say, targets: Target[]): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-bench-neural-score-'));
  try {
    const books = Buffer.concat(
      fs
        .readdirSync(path.join(CORPUS, 'train'))
        .sort()
        .map((f) => fs.readFileSync(path.join(CORPUS, 'train', f))),
    );
    say();
    say('Streamed scoring with `lmp score --model gpt-classics` (peak memory of the process; the start of the training books, cut at a line break):');
    say();
    say('| text | plain: time, peak memory | `--details --json`: time, peak memory |');
    say('|---|---:|---:|');
    const peaks: Record<string, number[]> = { plain: [], details: [] };
    for (const kib of NEURAL_SCORE_KIB) {
      const file = path.join(dir, `${kib}.txt`);
      fs.writeFileSync(file, books.subarray(0, books.lastIndexOf(10, kib * 1024) + 1));
      const cells: string[] = [];
      for (const [mode, extra] of [
        ['plain', []],
        ['details', ['--details', '--json']],
      ] as const) {
        const started = Date.now();
        const rss = peakRssOfCli(['score', '--model', 'gpt-classics', ...extra, file]);
        cells.push(`${fmt((Date.now() - started) / 1000)} s, ${rss ? `${fmt(rss / 2 ** 20)} MiB` : 'n/a'}`);
        if (rss) peaks[mode].push(rss);
      }
      say(`| ${fmt(kib, 6)} KiB | ${cells.join(' | ')} |`);
    }
    for (const [mode, [small, large]] of Object.entries(peaks)) {
      if (small === undefined || large === undefined) continue;
      targets.push({
        target: `neural \`lmp score\`${mode === 'details' ? ' --details' : ''}: peak memory flat from ${fmt(NEURAL_SCORE_KIB[0], 6)} to ${fmt(NEURAL_SCORE_KIB[1], 6)} KiB of text (within ${Math.round((NEURAL_SCORE_GROWTH - 1) * 100)} %)`,
        measured: `${fmt(small / 2 ** 20)} → ${fmt(large / 2 ** 20)} MiB`,
        meets: large <= small * NEURAL_SCORE_GROWTH,
      });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function peakRssOfCli(args: string[]): number | undefined {
  // Standard output is not kept: `--details --json` of 256 KiB writes more than spawnSync's 1 MiB buffer, which killed the run.
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, path.join(ROOT, 'dist', 'cli.js'), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const kb = Number(r.stderr.trim().split('\n').pop());
  return Number.isFinite(kb) ? kb * 1024 : undefined;
}

/** Runs of the hover after a warm-up. */
const BIG_RUNS = Number(process.env.BENCH_BIG_RUNS ?? Math.min(RUNS, 3));
/** Timed rounds of each large-model cell, shared among its sets of runner processes (each set after a warm-up round of its own). */
const BIG_ROUNDS = Number(process.env.BENCH_BIG_ROUNDS ?? 27);
/**
 * Sets of runner processes (browsers) per large-model cell, one after another: a cell's ratio is
 * then not one process's luck, and its verdict is the confidence interval over sets (judgeSpread),
 * which needs at least 6 of them.
 */
const BIG_PROCESS_SETS = Number(process.env.BENCH_BIG_PROCESSES ?? 9);

const RUNTIME_LABEL = { native: 'native', wasm: 'WASM in Node', browser: 'browser worker (Chromium, WASM)' } as const;
const BIG_RUNTIMES = ['native', 'wasm', 'browser'] as const;
const mib = (bytes: number) => (Number.isFinite(bytes) ? `${fmt(bytes / 2 ** 20)} MiB` : '—');
const perSecond = (x: number) => (Number.isFinite(x) ? fmt(x) : '—');
const spreadText = (s: Spread | undefined) => (s && s.rounds ? `${fmt(s.median)}× (${fmt(s.q1)}–${fmt(s.q3)})` : '—');
/** The confidence interval a verdict on rounds in sets is taken from, or why there is none. */
const intervalText = (s: Spread) =>
  s.sets
    ? s.sets.ci
      ? `; 95 % CI over ${s.sets.count} sets ${fmt(s.sets.ci.low)}–${fmt(s.sets.ci.high)}`
      : `; ${s.sets.count} sets, too few for a 95 % CI`
    : '';

/** A spread with the confidence interval its verdict is taken from, or a dash where nothing was measured. */
const withInterval = (s: Spread | undefined) => (s && s.rounds ? `${spreadText(s)}${intervalText(s)}` : '—');

/** The cells of the large-model table this run measures: BENCH_BIG_CELLS="native wasm:q4 browser:fp32" (a runtime alone: all its variants), else all. */
function bigCellsAsked(): { runtime: BenchRuntime; dtype: Dtype }[] {
  const all = BIG_RUNTIMES.flatMap((runtime) => BIG_DTYPES.map((dtype) => ({ runtime, dtype })));
  const asked = (process.env.BENCH_BIG_CELLS ?? '').split(/[\s,]+/).filter(Boolean);
  if (!asked.length) return all;
  for (const a of asked) {
    if (!all.some((c) => a === c.runtime || a === `${c.runtime}:${c.dtype}`))
      throw new Error(`BENCH_BIG_CELLS: no cell ${a} (runtimes ${BIG_RUNTIMES.join(', ')}; variants ${BIG_DTYPES.join(', ')})`);
  }
  return all.filter((c) => asked.includes(c.runtime) || asked.includes(`${c.runtime}:${c.dtype}`));
}

/** Cells measured so far (each with its date and load), kept beside the model so that the table can be run in parts. */
const cellsFile = (dir: string) => `${dir}-cells.json`;
function readCells(dir: string): CellRun[] {
  try {
    return JSON.parse(fs.readFileSync(cellsFile(dir), 'utf8')) as CellRun[];
  } catch {
    return [];
  }
}

/**
 * The large-model table: the cells asked for are measured (each under the shared machine's load
 * of its own minutes), stored with those measured before, and the table written from all of them.
 * Returns whether every cell has been measured.
 */
async function bigModelSection(say: Say, targets: Target[]): Promise<boolean> {
  say();
  say(`## A model of SmolLM2-135M's shape (30 layers, hidden 576, 9 query / 3 KV heads, vocabulary 49,152; random weights) in fp32, int8 and q4`);
  say();
  const found = bigModelDir((s) => console.log(s));
  if ('skipped' in found) {
    say(`Skipped: ${found.skipped}.`);
    return false;
  }
  const { dir } = found;
  const asked = bigCellsAsked();
  const stored = readCells(dir);
  const prompt = benchPrompt(dir, BIG_PREFILL);
  const keep = (run: CellRun) => {
    const i = stored.findIndex((c) => c.runtime === run.runtime && c.dtype === run.dtype);
    if (i >= 0) stored.splice(i, 1, run);
    else stored.push(run);
    fs.writeFileSync(cellsFile(dir), JSON.stringify(stored, null, 1));
    for (const c of run.results)
      console.log(
        `  ${run.runtime} ${run.dtype} ${c.runner}: ${c.error ?? `load ${fmt(c.loadSeconds)} s, prefill ${perSecond(c.prefill)}/s, decode ${perSecond(c.decode)}/s${c.ratios ? `; engine ÷ this: prefill ${spreadText(c.ratios.prefill)}, decode ${spreadText(c.ratios.decode)}` : ''}`}`,
      );
    console.log(`  (${fmt(run.seconds)} s, load ${run.loadBefore.toFixed(1)} → ${run.loadAfter.toFixed(1)})`);
  };
  for (const runtime of ['native', 'wasm'] as const) {
    for (const { dtype } of asked.filter((c) => c.runtime === runtime))
      keep(await benchCell(dir, runtime, dtype, prompt, BIG_ROUNDS, bigDecodeTokens(runtime), (s) => console.log(s), BIG_PROCESS_SETS));
  }
  const inBrowser = asked.filter((c) => c.runtime === 'browser').map((c) => c.dtype);
  if (inBrowser.length) {
    try {
      for (const run of await benchBigModelBrowser(dir, inBrowser, prompt, bigDecodeTokens('browser'), BIG_ROUNDS, (s) => console.log(s), BIG_PROCESS_SETS))
        keep(run);
    } catch (e) {
      say(`The browser runs could not run: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  const order = (c: CellRun) => BIG_RUNTIMES.indexOf(c.runtime) * 10 + BIG_DTYPES.indexOf(c.dtype);
  const runs = stored.filter((c) => BIG_RUNTIMES.includes(c.runtime) && BIG_DTYPES.includes(c.dtype)).sort((a, b) => order(a) - order(b));
  const minutes = runs.reduce((t, c) => t + c.seconds, 0) / 60;
  const loads = runs.flatMap((c) => [c.loadBefore, c.loadAfter]);
  say(
    `Made by \`training/make_fixtures.py --bench-shape smollm2-135m\` (in \`${dir.replace(os.homedir(), '~')}\`). One thread each; a prefill of ${BIG_PREFILL} tokens, and a greedy decode of ${bigDecodeTokens('native')} tokens on native, ${bigDecodeTokens('wasm')} on WASM (the steps after the first token timed). For each runtime and variant the three runners (the engine, a bare onnxruntime loop, transformers.js) each run in a process of their own (their peak resident memory is their own: the runtime, the weights and whatever the runner keeps; the largest of its processes' is shown), in ${BIG_PROCESS_SETS} sets of processes one after another, since two processes of the same runner on the same file can differ by up to 10 % for as long as they live (where their memory landed, which core they share): a cell measured in one set would judge that luck. In each set the three are loaded one after another (the load time shown is the median over the sets), run a warm-up round, then take turns in short rounds: each runner's full prefill, then each runner's decode, in an order that turns from round to round; ${BIG_ROUNDS} timed rounds in all, shared among the sets (cells measured before there were sets: one set, the rounds given in the second table). The engine ÷ reference ratio of a cell is the median of the per-round ratios (runs seconds apart, so the machine's load drifts over both alike), shown with its interquartile range. Rounds in one set share its processes' luck, so the verdict is taken over sets: each set's median ratio is one value, and a target **meets** its floor when the distribution-free 95 % confidence interval of the median of these values (for 9 sets, the 2nd smallest to the 2nd largest) is at or above it, **misses** when it is below, and is otherwise **not settled**, as it is with fewer than 6 sets (no 95 % interval then). The interval narrows as sets are added; the interquartile range of the rounds does not, which is why a target judged on it (cells measured before 2026-12-03 were: it had to be above the floor in three rounds of four) could stay unsettled however many rounds were run. At parity (engine and reference equally fast) a floor of 1× is not settled by any number of sets. Tokens per second of CPU time (the runner's process, all its threads; in the browser the browser's processes, prefill only) are given too: on a machine this shared they vary much less than wall time, and say whether a gap is work the engine does or time it was not given a core. In Node the engine runs as the extension runs it: the model in the engine's worker thread (with its resource limits), the tokenizer and \`generate\` on the process's main thread as Complete Selection calls them (a text prompt's generation then runs in the worker); its process's CPU time and peak memory include both threads (cells measured before 2026-11-30 17:56 UTC ran the engine on the main thread alone: their rows say \`engine, native\` or \`engine, wasm\`), and every runner's process runs at the lowered priority the engine's worker gives itself. The bare loop is onnxruntime's session on the same file with the runtime's defaults (its telemetry off, as the engine and transformers.js run it: \`ORT_DISABLE_TELEMETRY\`), no tokenizer, sampler or log-softmax; transformers.js runs \`generate\` on the same folder and variant (on WASM in Node it is handed onnxruntime-web, and the external data of \`model.onnx\` through \`session_options.externalData\`). In headless Chromium (one thread, as in a webview) each runner has a browser of its own, its peak memory the largest resident set among that browser's processes: the engine's Web Worker as the playground loads it, a bare loop on onnxruntime-web's WASM build (the one the engine's worker runs on the CPU), transformers.js with its own onnxruntime-web. Cells measured ${[...new Set(runs.map((c) => c.date.slice(0, 10)))].join(', ')}, ${fmt(minutes)} minutes in all (the longest cell ${fmt(Math.max(...runs.map((c) => c.seconds)) / 60)} minutes); load average ${fmt(Math.min(...loads))} to ${fmt(Math.max(...loads))} on ${os.cpus().length} cores (each cell's in the second table).`,
  );
  const cells = runs.flatMap((c) => c.results);
  say();
  say('| runtime | variant | runner | load | peak memory | prefill tokens/s | decode tokens/s | prefill tokens/CPU-s | decode tokens/CPU-s |');
  say('|---|---|---|---:|---:|---:|---:|---:|---:|');
  for (const c of cells) {
    const note = c.error ? ` (failed: ${c.error})` : c.tokensDiffer ? ' (decoded other tokens than the bare loop: not compared)' : '';
    say(
      `| ${RUNTIME_LABEL[c.runtime]} | ${c.dtype} | ${c.runner}${note} | ${Number.isFinite(c.loadSeconds) ? `${fmt(c.loadSeconds)} s` : '—'} | ${mib(c.peakRssBytes)} | ${perSecond(c.prefill)} | ${perSecond(c.decode)} | ${perSecond(c.prefillCpu)} | ${perSecond(c.decodeCpu)} |`,
    );
  }
  say();
  say(
    "Engine ÷ reference, the median of the per-round ratios and (in brackets) their interquartile range, by wall time and by CPU time; each cell's time (minutes), load average at its start and end, and its timed rounds and sets of processes:",
  );
  say();
  say('| runtime | variant | engine ÷ | prefill | decode | prefill, CPU time | decode, CPU time | cell: when, minutes, load, rounds |');
  say('|---|---|---|---:|---:|---:|---:|---|');
  for (const run of runs) {
    for (const c of run.results.filter((r) => r.kind !== 'engine')) {
      const r = c.ratios;
      say(
        `| ${RUNTIME_LABEL[run.runtime]} | ${run.dtype} | ${c.kind === 'bare' ? 'bare onnxruntime' : 'transformers.js'}${r ? '' : ' (not compared)'} | ${spreadText(r?.prefill)} | ${spreadText(r?.decode)} | ${spreadText(r?.prefillCpu)} | ${spreadText(r?.decodeCpu)} | ${run.date.slice(0, 16).replace('T', ' ')} UTC, ${fmt(run.seconds / 60, 2)} min, ${run.loadBefore.toFixed(1)} → ${run.loadAfter.toFixed(1)}, ${run.rounds} rounds in ${run.processSets ?? 1} ${(run.processSets ?? 1) === 1 ? 'set' : 'sets'} |`,
      );
    }
  }
  for (const run of runs) {
    const engine = run.results.find((c) => c.kind === 'engine');
    for (const [kind, floor, label] of [
      ['bare', 0.95, 'bare onnxruntime'],
      ['tjs', 1, 'transformers.js'],
    ] as const) {
      const ref = run.results.find((c) => c.kind === kind);
      for (const key of ['prefill', 'decode'] as const) {
        const s = engine?.error ? undefined : ref?.ratios?.[key];
        const verdict = judgeSpread(s, floor);
        const cpu = ref?.ratios?.[`${key}Cpu`];
        targets.push({
          target: `${run.runtime} ${run.dtype}, ${key}: engine ≥ ${floor}× ${label}`,
          measured: s && s.rounds ? `${spreadText(s)}${intervalText(s)}${cpu?.rounds ? `; CPU time ${fmt(cpu.median)}×` : ''}` : 'not compared',
          meets: verdict === 'meets' ? true : verdict === 'misses' ? false : undefined,
          ...(verdict === 'not settled' ? { unsettled: true } : {}),
        });
      }
    }
  }
  const engineDecode = (dtype: Dtype) => cells.find((c) => c.runtime === 'native' && c.dtype === dtype && c.kind === 'engine')?.decode ?? NaN;
  if (Number.isFinite(engineDecode('fp32'))) {
    say();
    say(
      `Engine on native, decode (medians of cells measured minutes apart, so under different loads; the variants side by side, and the target on them, are the next section's): int8 ${fmt(engineDecode('int8') / engineDecode('fp32'))}×, q4 ${fmt(engineDecode('q4') / engineDecode('fp32'))}× fp32's.`,
    );
  }
  return runs.length === BIG_RUNTIMES.length * BIG_DTYPES.length;
}

/** The speed-up target of the quantized variants on native. */
const VARIANT_FLOOR = 2;

/**
 * The precision variants side by side on native (benchVariantCell): each variant's speed ÷ fp32's
 * for the engine and the bare loop, round by round, and the target on the engine's decode.
 */
async function variantSection(say: Say, targets: Target[]): Promise<boolean> {
  say();
  say(`## The precision variants side by side on native (the SmolLM2-135M-shape model)`);
  say();
  const found = bigModelDir((s) => console.log(s));
  if ('skipped' in found) {
    say(`Skipped: ${found.skipped}.`);
    return false;
  }
  const decode = bigDecodeTokens('native');
  const run = await benchVariantCell(found.dir, benchPrompt(found.dir, BIG_PREFILL), BIG_ROUNDS, decode, (s) => console.log(s), BIG_PROCESS_SETS);
  const failed = run.results.filter((r) => r.error);
  say(
    `The same model and prompt as the section above (a prefill of ${BIG_PREFILL} tokens, then ${decode} greedy tokens, one thread), but one cell: the bare onnxruntime-node loop and the engine (as there: the model in its worker thread, \`generate\` on the host) in fp32, int8 and q4, six processes taking turns in each round (the order turning from round to round), ${BIG_ROUNDS} timed rounds in ${run.processSets} sets of processes. A variant's speed-up is the median of its per-round ratios to fp32 in the same runner, rounds seconds apart, so the machine's load drifts over both alike (the section above divides medians of cells measured minutes apart). The verdict is taken over sets as above: the target meets when the 95 % confidence interval of the median of the sets' ratios is at or above ${VARIANT_FLOOR}× for int8 or for q4, misses when both are below. The bare loop's ratios are what onnxruntime itself gives these files on this machine. ${run.date.slice(0, 16).replace('T', ' ')} UTC, ${fmt(run.seconds / 60, 2)} minutes, load average ${run.loadBefore.toFixed(1)} → ${run.loadAfter.toFixed(1)} on ${os.cpus().length} cores.`,
  );
  say();
  say('| runner | variant | peak memory | prefill tokens/s | decode tokens/s | prefill tokens/CPU-s | decode tokens/CPU-s |');
  say('|---|---|---:|---:|---:|---:|---:|');
  for (const c of run.results) {
    const note = c.error ? ` (failed: ${c.error})` : c.tokensDiffer ? ' (decoded other tokens than the bare loop)' : '';
    say(
      `| ${c.runner}${note} | ${c.dtype} | ${mib(c.peakRssBytes)} | ${perSecond(c.prefill)} | ${perSecond(c.decode)} | ${perSecond(c.prefillCpu)} | ${perSecond(c.decodeCpu)} |`,
    );
  }
  say();
  say(
    'Each variant ÷ fp32 in the same runner: the median of the per-round ratios, (in brackets) their interquartile range, and the 95 % confidence interval over sets:',
  );
  say();
  say('| runner | variant ÷ fp32 | prefill | decode | decode, CPU time |');
  say('|---|---|---:|---:|---:|');
  for (const kind of ['bare', 'engine'] as const) {
    for (const dtype of BIG_DTYPES.filter((d) => d !== 'fp32')) {
      say(
        `| ${kind === 'bare' ? 'bare onnxruntime-node loop' : 'engine, native (worker thread)'} | ${dtype} | ${withInterval(variantRatio(run, kind, dtype, 'prefill'))} | ${withInterval(variantRatio(run, kind, dtype, 'decode'))} | ${spreadText(variantRatio(run, kind, dtype, 'decodeCpu'))} |`,
      );
    }
  }
  const engineDecode = BIG_DTYPES.filter((d) => d !== 'fp32').map((dtype) => ({ dtype, s: variantRatio(run, 'engine', dtype, 'decode') }));
  const verdicts = engineDecode.map(({ s }) => judgeSpread(s, VARIANT_FLOOR));
  const meets = verdicts.includes('meets') ? true : verdicts.every((v) => v === 'misses') ? false : undefined;
  targets.push({
    target: `native: q4 or int8 decode ≥ ${VARIANT_FLOOR}× fp32 decode (engine, the variants side by side)`,
    measured: failed.length
      ? `not measured: ${failed.map((r) => `${r.runner} ${r.dtype}: ${r.error}`).join('; ')}`
      : engineDecode.map(({ dtype, s }) => `${dtype} ${withInterval(s)}`).join('; '),
    meets,
    ...(meets === undefined ? { unsettled: true } : {}),
  });
  return failed.length === 0;
}

async function hoverSection(say: Say, targets: Target[], valid: string): Promise<void> {
  const found = bigModelDir((s) => console.log(s));
  if ('skipped' in found) return;
  const dtypes = ['auto', 'fp32'] as const;
  const load = os.loadavg()[0];
  const date = new Date().toISOString().slice(0, 10);
  const all = await benchHover(found.dir, [...dtypes], valid, BIG_RUNS);
  say();
  say(
    `Token hover on native on the SmolLM2-135M-shape model, as the extension computes it (the model in its worker thread as the model service opens it, intra-op threads onnxruntime's default, the text tokenized with offsets, \`hoverFactsAt\` on a word, its other tokens scored too), as a reader goes through a text of the valid split: the word after ${fmt(HOVER_CONTEXT_TOKENS)} tokens (cold: the model has not run this text), the next word, then that word again after the word before it was replaced by another; then, the cache forgotten, the warm-up that \`lmPlayground.hover.warmUp\` runs when the text is the visible lines (its ${fmt(all[0].warmTokens, 4)} tokens, in passes of 64) and the first hover on that word after it. Both variants loaded, taking turns run by run; another text each run, medians of ${BIG_RUNS} after a warm-up run; ${date}, load average ${load.toFixed(1)} on ${os.cpus().length} cores when it began, ${os.loadavg()[0].toFixed(1)} when it ended:`,
  );
  say();
  say(
    '| variant | context tokens | cold | bare onnxruntime, the same tokens | next word | after a one-word edit before it | warm-up of the visible text | first hover after the warm-up | after the warm-up against cold, largest difference |',
  );
  say('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  dtypes.forEach((dtype, i) => {
    const h = all[i];
    say(
      `| ${dtype === 'auto' ? `auto (the default; ${h.dtype})` : dtype} | ${fmt(h.tokens, 4)} | ${fmt(h.cold)} ms | ${fmt(h.barePrefill)} ms (${fmt(h.bareTokens, 4)} tokens) | ${fmt(h.nextWord)} ms | ${fmt(h.afterEdit)} ms | ${fmt(h.warmUp)} ms | ${fmt(h.afterWarmUp)} ms | ${h.warmDiff.toExponential(1)} nats |`,
    );
  });
  say();
  say(
    `Ratios in this run, int8 (auto) ÷ fp32: cold ${fmt(all[0].cold / all[1].cold)}, next word ${fmt(all[0].nextWord / all[1].nextWord)}, after an edit ${fmt(all[0].afterEdit / all[1].afterEdit)}, warm-up ${fmt(all[0].warmUp / all[1].warmUp)}, first hover after it ${fmt(all[0].afterWarmUp / all[1].afterWarmUp)}.`,
  );
  say(
    `The cold hover against a bare onnxruntime-node session running the same text to the hovered word's end from an empty cache on the same graph, in the same passes of ${PREFILL_CHUNK} tokens, with the runtime's default threads (measured right after each cold hover): ${dtypes.map((d, i) => `${d === 'auto' ? all[i].dtype : d} ${fmt(all[i].cold / all[i].barePrefill)}×`).join(', ')}. Below the bare run no hover on a context the model has not read can go on this machine.`,
  );
  const variantDiff = Math.max(...all[0].coldParts.flatMap((parts, r) => parts.map((x, k) => Math.abs(x - all[1].coldParts[r][k]))));
  say(
    `The same cold hovers, ${all[0].dtype} against fp32: up to ${variantDiff.toExponential(1)} nats apart (the variant's own error, against which the warm-up's difference above is to be read).`,
  );
  dtypes.forEach((dtype, i) => {
    const h = all[i];
    const label = `${dtype === 'auto' ? 'dtype auto' : dtype}, ${date}, load ${load.toFixed(1)}`;
    targets.push({
      target: `hover on a ${fmt(HOVER_CONTEXT_TOKENS)}-token context under 1 s on native, ${label}, as a reader hovers (the next word; a word after an edit before it)`,
      measured: `${fmt(h.nextWord)} ms, ${fmt(h.afterEdit)} ms`,
      meets: h.nextWord < 1000 && h.afterEdit < 1000,
    });
    targets.push({
      target: `hover on a ${fmt(HOVER_CONTEXT_TOKENS)}-token context under 1 s on native, ${label}, the first hover in a document after the warm-up (${fmt(h.warmUp)} ms while it is shown)`,
      measured: `${fmt(h.afterWarmUp)} ms`,
      meets: h.afterWarmUp < 1000,
    });
    targets.push({
      target: `hover on a ${fmt(HOVER_CONTEXT_TOKENS)}-token context under 1 s on native, ${label}, the first hover in a document without the warm-up (cold)`,
      measured: `${fmt(h.cold)} ms (bare onnxruntime's run of its tokens ${fmt(h.barePrefill)} ms)`,
      meets: h.cold < 1000,
    });
  });
}

/** gpt-classics' runs take a few milliseconds each: three times the other sections' runs, for steadier per-run ratios. */
const NEURAL_RUNS = 3 * RUNS;

/** `a` ÷ `b` run by run, for prefill or decode: the median of the per-run ratios and their interquartile range. */
const runRatios = (a: NeuralBenchResult, b: NeuralBenchResult, key: 'prefill' | 'decode'): Spread => spread(a.runs[key].map((x, i) => x / b.runs[key][i]));

/** A target on per-run ratios: meets, misses or not settled, as in the large-model section. */
function spreadTarget(target: string, s: Spread, floor: number): Target {
  const verdict = judgeSpread(s, floor);
  return {
    target,
    measured: spreadText(s),
    meets: verdict === 'meets' ? true : verdict === 'misses' ? false : undefined,
    ...(verdict === 'not settled' ? { unsettled: true } : {}),
  };
}

async function neuralSection(say: Say, targets: Target[]): Promise<void> {
  const dir = path.join(ROOT, 'models', 'gpt-classics');
  const { results, prefill, decode } = await benchNeural(dir, NEURAL_RUNS);
  const [bare, native, wasm, tjs] = results;
  say();
  say(`## Neural model (embedded \`gpt-classics\`, one thread each, prefill ${prefill} tokens then ${decode} greedy tokens)`);
  say();
  say(
    `The runners take turns run by run (${NEURAL_RUNS} runs after a warm-up), so that the machine's load drifts over all of them alike. A run's prefill is the median of 5 prefills (a few milliseconds each). A ratio is the median of the per-run ratios, with their interquartile range in brackets; a target **meets** its floor when even the lower quartile is at or above it, **misses** when even the upper quartile is below it, and is otherwise **not settled** by these runs.`,
  );
  say();
  say('| runner | load | prefill tokens/s | decode tokens/s | time to first token |');
  say('|---|---:|---:|---:|---:|');
  for (const r of results)
    say(
      `| ${r.runner} | ${fmt(r.loadSeconds)} s | ${fmt(r.prefillTokensPerSecond)} | ${fmt(r.decodeTokensPerSecond)} | ${fmt(r.firstTokenSeconds * 1000)} ms |`,
    );
  say();
  say(
    `Ratios in this run: engine on native ÷ bare onnxruntime-node: decode ${spreadText(runRatios(native, bare, 'decode'))}, prefill ${spreadText(runRatios(native, bare, 'prefill'))}; engine on WASM ÷ engine on native: decode ${spreadText(runRatios(wasm, native, 'decode'))}, prefill ${spreadText(runRatios(wasm, native, 'prefill'))}.`,
  );
  say(`Every runner decoded the same ${decode} greedy tokens as the bare loop in every run (checked; a runner that decodes other tokens stops the benchmark).`);
  for (const step of ['decode', 'prefill'] as const)
    targets.push(spreadTarget(`engine on native within 10 % of bare onnxruntime-node, ${step}`, runRatios(native, bare, step), 0.9));
  if (tjs)
    say(
      `Against transformers.js on the same folder and runtime (onnxruntime-node, one thread): engine decode ${spreadText(runRatios(native, tjs, 'decode'))}, prefill ${spreadText(runRatios(native, tjs, 'prefill'))}.`,
    );
  const browser = await benchBrowserWasm(dir, benchPrompt(dir, prefill), decode, NEURAL_RUNS).catch((e) => {
    say(`\nThe browser WASM comparison could not run: ${(e as Error).message.split('\n')[0]}`);
    return undefined;
  });
  if (browser) {
    const [engine, tjsWeb, bareWasm, bareAsyncify] = browser;
    say();
    say(
      "In headless Chromium on WebAssembly (one thread, as in a webview), same prompt and tokens, the runners taking turns run by run. Decode: the engine as the playground runs it, a `generate` request to its Web Worker with the tokens streamed back; transformers.js `generate` on the page. Prefill: from the prompt's token ids. Time to first token: from the prompt's text, tokenizer included. Each runner measures in the same order (prefill, decode, first token), because a prefill right after a long decode runs slower in onnxruntime-web:",
    );
    say();
    say('| runner | load | prefill tokens/s | decode tokens/s | time to first token |');
    say('|---|---:|---:|---:|---:|');
    for (const r of browser)
      say(
        `| ${r.runner} | ${fmt(r.loadSeconds)} s | ${fmt(r.prefillTokensPerSecond)} | ${fmt(r.decodeTokensPerSecond)} | ${fmt(r.firstTokenSeconds * 1000)} ms |`,
      );
    say();
    say(
      `Engine ÷ transformers.js in the browser: decode ${spreadText(runRatios(engine, tjsWeb, 'decode'))}, prefill ${spreadText(runRatios(engine, tjsWeb, 'prefill'))}. Engine ÷ bare loop on the same (WASM) build: decode ${spreadText(runRatios(engine, bareWasm, 'decode'))}, prefill ${spreadText(runRatios(engine, bareWasm, 'prefill'))}.`,
    );
    say(`All four decoded the same ${decode} greedy tokens in every run (checked).`);
    for (const step of ['decode', 'prefill'] as const)
      targets.push(spreadTarget(`engine on WASM not slower than transformers.js on WASM (browser), ${step}`, runRatios(engine, tjsWeb, step), 1));
    say(
      `Bare loops, WASM build ÷ WebGPU build on the CPU: decode ${spreadText(runRatios(bareWasm, bareAsyncify, 'decode'))}, prefill ${spreadText(runRatios(bareWasm, bareAsyncify, 'prefill'))}. The WebGPU build's asyncify binary pays on every call into WebAssembly for being able to wait for the GPU; transformers.js loads that build for its wasm device too, while the engine's worker loads the WASM build whenever the model runs on the CPU.`,
    );
  }
  say("The engine's decode step adds to the bare loop a log-softmax over the vocabulary, the sampler (tempering, masking) and the cache bookkeeping.");
  neuralScoreMemory(say, targets);
  const vsix = path.join(ROOT, 'lm-playground.vsix');
  if (fs.existsSync(vsix))
    say(
      `\nPackaged extension (\`npm run package\`, ${process.platform}-${process.arch}, with both embedded models and the native runtime): ${fmt(fs.statSync(vsix).size / 2 ** 20)} MiB.`,
    );
  const rss = process.resourceUsage().maxRSS * 1024;
  say(`Peak memory of this benchmark process (n-gram and neural runs together): ${fmt(rss / 2 ** 20)} MiB.`);
}

function tokenizerSection(say: (s?: string) => void): void {
  const novel = path.join(CORPUS, 'train', 'the_man_in_the_brown_suit.txt');
  const text = fs.readFileSync(novel, 'utf8');
  say();
  say(`## Tokenizing with offsets (\`train/the_man_in_the_brown_suit.txt\`, ${fmt(fs.statSync(novel).size / 1024)} KB, ${fmt(text.length, 6)} characters)`);
  say();
  say(
    "What the heat-map and `lmp score` do first: ids and each token's offsets into the text. The reference gives ids alone (it has no offsets); the two take turns run by run.",
  );
  say();
  say('| tokenizer | tokens | LM Playground: ids and offsets | @huggingface/tokenizers: ids only | ratio | ids equal |');
  say('|---|---:|---:|---:|---:|---|');
  for (const r of benchTokenizers(ROOT, CORPUS, novel, RUNS)) {
    if (typeof r === 'string') say(`| SentencePiece BPE | — | ${r} | — | — | — |`);
    else
      say(
        `| ${r.label} | ${fmt(r.tokens, 6)} | ${fmt(r.seconds * 1000)} ms | ${fmt(r.librarySeconds * 1000)} ms | ${fmt(r.librarySeconds / r.seconds)}× | ${r.idsMatch ? `yes, ${r.reference}` : `**no**, ${r.reference} differ`} |`,
      );
  }
}

async function inlineSection(say: Say, valid: string, targets: Target[]): Promise<void> {
  // A passage of the valid split, typed from its 20th character on.
  const start = valid.indexOf('\n\n', 20000) + 2;
  const passage = valid.slice(start, start + 400).replace(/\s+/g, ' ');
  const short = { maxTokens: 16, temperature: 0, stopAtLineEnd: true, maxWords: 8, stopSequences: [] };
  const full16 = { ...short, stopAtLineEnd: false, maxWords: 0 };
  // The budgets of the in-editor issue: an n-gram suggestion within 30 ms of the debounce firing,
  // the neural model's 16-token suggestion on a CPU within 150 ms.
  const runs: { label: string; spec: string; device?: 'native' | 'wasm'; options: typeof short; budgetMs: number }[] = [
    { label: "`ngram-classics`, in the extension host's thread, default stop rules", spec: 'ngram-classics', options: short, budgetMs: 30 },
    { label: '`ngram-classics`, 16 tokens every time', spec: 'ngram-classics', options: full16, budgetMs: 30 },
    { label: '`gpt-classics` on native (worker thread), 16 tokens every time', spec: 'gpt-classics', device: 'native', options: full16, budgetMs: 150 },
    { label: '`gpt-classics` on WASM (worker thread), 16 tokens every time', spec: 'gpt-classics', device: 'wasm', options: full16, budgetMs: 150 },
  ];
  say();
  say(`## Inline completions: keystroke to suggestion (${passage.length} characters of the valid split typed one by one)`);
  say();
  say(
    "Time from the debounce firing to the suggestion, as the VS Code provider drives the engine; the debounce itself (150 ms by default, longer when the model is slower) comes before it. Cache hits are keystrokes that typed the suggestion's own next character.",
  );
  say();
  say('| model | model requests: p50 | p95 | all keystrokes: p50 | p95 | requests / keystrokes | budget | p50, p95 of model requests |');
  say('|---|---:|---:|---:|---:|---:|---:|---|');
  for (const r of runs) {
    const model = await loadModel(r.spec, undefined, { device: r.device, inWorker: r.device !== undefined, threads: 1 });
    try {
      const l = await inlineLatency(model, passage, r.options);
      const p50 = l.model.p50 <= r.budgetMs;
      const p95 = l.model.p95 <= r.budgetMs;
      say(
        `| ${r.label} | ${fmt(l.model.p50)} ms | ${fmt(l.model.p95)} ms | ${fmt(l.all.p50)} ms | ${fmt(l.all.p95)} ms | ${l.model.n} / ${l.all.n} | ${r.budgetMs} ms | ${verdict(p50)}, ${verdict(p95)} |`,
      );
      targets.push({ target: `inline suggestion within ${r.budgetMs} ms, p50: ${r.label}`, measured: `${fmt(l.model.p50)} ms`, meets: p50 });
      targets.push({ target: `inline suggestion within ${r.budgetMs} ms, p95: ${r.label}`, measured: `${fmt(l.model.p95)} ms`, meets: p95 });
    } finally {
      model.dispose?.();
    }
  }
  await inlineContinuationRows(say, valid);
}

/** Characters of the prompt the 135M-shape model's suggestions follow, and the characters typed after it. */
const CONTINUATION_PROMPT_CHARS = 4_500;
const CONTINUATION_TYPED = ' and she went';

/** The SmolLM2-135M-shape model's suggestions after a long prompt, continuing from its cache against read afresh. */
async function inlineContinuationRows(say: Say, valid: string): Promise<void> {
  const found = bigModelDir((s) => console.log(s));
  say();
  say(`### A 135M-parameter model after a long prompt: continuing from the model's cache against reading the prompt afresh`);
  say();
  if ('skipped' in found) {
    say(`Skipped: ${found.skipped}.`);
    return;
  }
  const start = valid.indexOf('\n\n', 10_000) + 2;
  const prompt = valid.slice(start, start + CONTINUATION_PROMPT_CHARS);
  const options = { maxTokens: 8, temperature: 0, stopAtLineEnd: false, maxWords: 0, stopSequences: [] };
  say(
    `The SmolLM2-135M-shape model (\`lmPlayground.dtype\` int8, native, in the engine's worker thread, one thread), 8-token suggestions after ${fmt(prompt.length)} characters of the valid split, with "${CONTINUATION_TYPED}" typed after it one character at a time. At each keystroke a suggestion continuing from what the model kept of the last one (as inline suggestions run) and one with the model's cache forgotten first (the whole prompt read, as every suggestion did before 2026-12-02), taking turns; the time from the debounce firing to the suggestion. Ratios are per keystroke.`,
  );
  say();
  const model = await loadModel(found.dir, undefined, { device: 'native', inWorker: true, threads: 1, dtype: { setting: 'int8' } });
  try {
    const r = await inlineContinuation(model, prompt, CONTINUATION_TYPED, options);
    const ratios = r.continuing.map((c, i) => c / r.fresh[i]);
    say('| prompt tokens | keystrokes | continuing: p50 | p95 | read afresh: p50 | p95 | continuing ÷ afresh: median (range) |');
    say('|---:|---:|---:|---:|---:|---:|---|');
    say(
      `| ${fmt(r.promptTokens)} | ${r.continuing.length} | ${fmt(percentile(r.continuing, 0.5))} ms | ${fmt(percentile(r.continuing, 0.95))} ms | ${fmt(percentile(r.fresh, 0.5))} ms | ${fmt(percentile(r.fresh, 0.95))} ms | ${fmt(median(ratios))} (${fmt(Math.min(...ratios))}–${fmt(Math.max(...ratios))}) |`,
    );
  } finally {
    model.dispose?.();
  }
}

/** Characters of the valid text the remote heat-map benchmark scores. */
const REMOTE_HEATMAP_CHARS = 20_000;

async function serveSection(say: Say, valid: string, targets: Target[]): Promise<void> {
  const cli = path.join(ROOT, 'dist', 'cli.js');
  const r = await benchRemote(cli, 'gpt-classics', valid.slice(0, valid.lastIndexOf('\n', REMOTE_HEATMAP_CHARS) + 1), RUNS);
  say();
  say(`## \`lmp serve\` (embedded \`gpt-classics\`, loopback)`);
  say();
  say("### A remote model in the editor: `gpt-classics` through `lmp serve` against the same model in the editor's process");
  say();
  say(
    `Heat-map: the first ${fmt(r.chars)} characters of the valid text, coloured whole; local: the tokenizer, then \`scoreInChunks\` (windows with ranks, as the heat-map of a local model); remote: \`scoreInServerChunks\` with the heat-map's settings (ranks alone: \`logprobs: 0\`, \`prompt_logprobs: 0\`; pieces of half the model's context, two requests out at once). ${r.tokens.local.toLocaleString('en-US')} tokens scored locally, ${r.tokens.remote.toLocaleString('en-US')} remotely. Hover: ${r.hovers} word starts spread over that text, each hovered once per run (no cache); local: the window before the token, its distribution and its word's parts; remote: the words around it sent with their context, the top 5 alternatives asked. The two take turns run by run; medians of ${RUNS} runs (hovers: of all ${r.hover.local.length}).`,
  );
  say();
  const heatLocal = median(r.heatmap.local);
  const heatRemote = median(r.heatmap.remote);
  say('| | local | through `lmp serve` | remote / local |');
  say('|---|---:|---:|---:|');
  say(`| heat-map, tokens/s | ${fmt(heatLocal)} | ${fmt(heatRemote)} | ${fmt(heatRemote / heatLocal)}× |`);
  say(`| hover latency, ms | ${fmt(median(r.hover.local))} | ${fmt(median(r.hover.remote))} | ${fmt(median(r.hover.remote) / median(r.hover.local))}× |`);
  targets.push({
    target: 'remote heat-map ≥ 0.5× local tokens/s (gpt-classics through `lmp serve` on loopback)',
    measured: `${fmt(heatRemote / heatLocal)}×`,
    meets: heatRemote >= 0.5 * heatLocal,
  });
  const b = await benchServe(cli, 'gpt-classics', valid, RUNS);
  say();
  say('### Requests per second');
  say();
  say(
    `${b.clients} clients send \`POST /v1/completions\` with \`max_tokens: 1\` (greedy) one after another, ${b.requestsPerRun} requests of about 200 characters each per run, all different; the server computes one at a time (\`--concurrency 1\`, the others queue). Against it, \`generate()\` on the same prompts in this process, one after another. Every request answered 200 with one token (checked). Medians of ${RUNS} runs after a warm-up.`,
  );
  say();
  say('| | requests/s |');
  say('|---|---:|');
  say(`| through \`lmp serve\`, ${b.clients} concurrent clients | ${fmt(median(b.served))} |`);
  say(`| \`generate()\` in process, one after another | ${fmt(median(b.inProcess))} |`);
  say();
  say(`Through the server / in process: ${fmt(median(b.served) / median(b.inProcess))}×.`);
}

async function insideSection(say: Say, valid: string, targets: Target[]): Promise<void> {
  say();
  say('## Inside the model: logit lens and attention (embedded `gpt-classics`, int8, one thread)');
  say();
  say(
    `For the last token of a 128-token prompt of the valid split, as the playground's inside panel asks: one forward pass that also returns every layer's hidden states and attention probabilities, the final norm and output layer applied to the 5 hidden states at that position (top 5 per layer, the next token's rank), and each head's attention row. Against it, a forward pass of the same 128 tokens returning the logits alone. Medians of ${RUNS} runs after a warm-up.`,
  );
  say();
  say('| runtime | lens + attention | plain forward pass, logits only | difference |');
  say('|---|---:|---:|---:|');
  for (const device of ['native', 'wasm'] as const) {
    const b = await benchInside(valid, device, RUNS);
    const inside = median(b.inside) * 1000;
    const plain = median(b.plain) * 1000;
    say(`| ${device} | ${fmt(inside)} ms | ${fmt(plain)} ms | ${fmt(inside - plain)} ms |`);
    if (device === 'native')
      targets.push({
        target: 'logit lens and attention for a 128-token prompt, gpt-classics on native, within 200 ms',
        measured: `${fmt(inside)} ms`,
        meets: inside <= 200,
      });
  }
}

/** Largest difference between a reference's log10 lookups and the model's: ARPA keeps 7 significant digits. */
const ARPA_TOLERANCE = 1e-4;

function ngramSection(say: Say, targets: Target[], train: string[], valid: string): void {
  const order = 4;
  // Training
  let model!: NgramModel;
  let tokens = 0;
  const trainTimes = timeRuns(Math.min(RUNS, 3), () => {
    const t = new KneserNeyTrainer({ order });
    for (const text of train) addTextToTrainer(t, text, 'whitespace');
    const built = t.build();
    model = built.model;
    tokens = built.stats.tokens;
  });
  let naive: number[] = [];
  const naiveTimes = timeRuns(Math.min(RUNS, 3), () => (naive = naiveCount(train, order)));
  // The counter finds the model's n-grams, order by order; the model's unigrams add <s> and <unk>.
  const expectedNaive = model.counts.map((c, k) => (k === 0 ? c - 2 : c));
  if (naive.join() !== expectedNaive.join()) throw new Error(`the Map counter found ${naive} n-grams per order, the model has ${model.counts}`);
  const ngrams = model.counts.reduce((a, b) => a + b, 0);
  const trainRss = peakRssOfCli([
    'train-ngram',
    '--order',
    String(order),
    '--arpa',
    path.join(os.tmpdir(), 'lmp-bench.arpa'),
    ...fs.readdirSync(path.join(CORPUS, 'train')).map((f) => path.join(CORPUS, 'train', f)),
  ]);

  // Queries: contexts and words from the valid split.
  const v = model.vocab;
  const words = valid.split(/\s+/).filter(Boolean).slice(0, 20000);
  const ids = words.map((w) => v.id(w) ?? v.unkId!);
  const N = ids.length;
  const ours = new Float64Array(N);
  const lookupTimes = timeRuns(RUNS, () => {
    for (let i = 3; i < N; i++) ours[i] = model.logProb10(ids.slice(i - 3, i), ids[i]);
  });
  const reference = new StringHashModel(model);
  const theirs = new Float64Array(N);
  const refTimes = timeRuns(RUNS, () => {
    for (let i = 3; i < N; i++)
      theirs[i] = reference.logProb10(
        words.slice(i - 3, i).map((w) => (v.id(w) === undefined ? '<unk>' : w)),
        v.id(words[i]) === undefined ? '<unk>' : words[i],
      );
  });
  let lookupDiff = 0;
  for (let i = 3; i < N; i++) lookupDiff = Math.max(lookupDiff, Math.abs(ours[i] - theirs[i]));
  if (!(lookupDiff <= ARPA_TOLERANCE)) throw new Error(`the string-hash ARPA lookups differ from the model's by up to ${lookupDiff}`);
  const out = new Float64Array(v.size);
  const D = 500;
  const distTimes = timeRuns(RUNS, () => {
    for (let i = 3; i < 3 + D; i++) model.distribution10(ids.slice(i - 3, i), out);
  });
  const PER_WORD = 5;
  const perWordRows = Array.from({ length: PER_WORD }, () => new Float64Array(v.size));
  const perWordTimes = timeRuns(Math.min(RUNS, 3), () => {
    for (let i = 3; i < 3 + PER_WORD; i++) {
      const ctx = ids.slice(i - 3, i);
      const row = perWordRows[i - 3];
      for (let w = 0; w < v.size; w++) row[w] = model.logProb10(ctx, w);
    }
  });
  let distDiff = 0;
  for (let i = 3; i < 3 + PER_WORD; i++) {
    model.distribution10(ids.slice(i - 3, i), out);
    for (let w = 0; w < v.size; w++) distDiff = Math.max(distDiff, Math.abs(out[w] - perWordRows[i - 3][w]));
  }
  if (!(distDiff <= 1e-9)) throw new Error(`the full distributions differ from one lookup per word by up to ${distDiff}`);

  const lookups = (N - 3) / median(lookupTimes);
  const refLookups = (N - 3) / median(refTimes);
  const dists = D / median(distTimes);
  const perWord = PER_WORD / median(perWordTimes);
  say();
  say(`## Kneser-Ney n-gram (order ${order}, KenLM tokens, all of \`shared/corpus/en/train\`: ${fmt(tokens, 7)} tokens, ${fmt(ngrams, 7)} n-grams)`);
  say();
  say('| measure | LM Playground | reference in the same run | ratio |');
  say('|---|---:|---:|---:|');
  say(
    `| training (count, adjust, discount, interpolate, lay out the trie) | ${fmt(tokens / median(trainTimes))} tokens/s (${fmt(median(trainTimes))} s) | counting alone with a JS \`Map\` per order: ${fmt(tokens / median(naiveTimes))} tokens/s (${fmt(median(naiveTimes))} s) | ${fmt(median(naiveTimes) / median(trainTimes))}× |`,
  );
  say(
    `| peak memory, \`lmp train-ngram --order 4 --arpa\` (incl. writing the ARPA) | ${trainRss ? `${fmt(trainRss / 2 ** 20)} MiB` : 'n/a'} | KenLM: see Training below | — |`,
  );
  const large = scoreLargeText();
  say(
    `| \`lmp score --model ngram-classics\` of a ${fmt(large.mib)} MiB text (the training books repeated), streamed | ${fmt(large.seconds)} s, peak memory ${large.rss ? `${fmt(large.rss / 2 ** 20)} MiB` : 'n/a'} | target: under 1 GB | — |`,
  );
  // The target is stated for a 200 MB text: a smaller one (BENCH_LARGE_MIB) is not judged.
  targets.push({
    target: 'peak memory under 1 GB scoring a 200 MB text with `lmp score`',
    measured: large.rss ? `${fmt(large.rss / 2 ** 20)} MiB for ${fmt(large.mib)} MiB` : 'not measured (no /usr/bin/time)',
    meets: large.rss && large.mib >= 200 ? large.rss < 1e9 : undefined,
  });
  say(
    `| model memory | ${fmt(model.byteSize() / ngrams)} bytes per n-gram (${fmt(model.byteSize() / 2 ** 20)} MiB for the typed arrays; vocabulary strings extra) | — | — |`,
  );
  say(
    `| conditional-probability lookups, p(w \\| 3 words), valid text | ${fmt(lookups)} /s | ARPA as a \`Map\` of strings with string backoff: ${fmt(refLookups)} /s | ${fmt(lookups / refLookups)}× |`,
  );
  say(
    `| full next-token distributions (${fmt(v.size, 6)} words) | ${fmt(dists)} /s | one lookup per vocabulary word: ${fmt(perWord)} /s | ${fmt(dists / perWord)}× |`,
  );
  say();
  say(
    `Each reference computes what it is compared with (checked every run; the benchmark stops otherwise): the \`Map\` counter finds the model's n-grams per order (${naive.map((c) => fmt(c, 7)).join(' / ')}; the model's unigrams add \`<s>\` and \`<unk>\`); the string-hash ARPA gives each of the ${fmt(N - 3, 6)} lookups the model's value within ARPA's 7 significant digits (largest difference ${difference(lookupDiff)}); one lookup per word gives the full distributions' values (largest difference ${difference(distDiff)}).`,
  );
}

/** The benchmark model (training/make_fixtures.py --bench-shape smollm2-135m) and its GGUF files (training/export_gguf.py). */
const BENCH_MODEL = process.env.BENCH_MODEL_DIR ?? path.join(os.homedir(), '.cache', 'lm-playground', 'bench', 'smollm2-135m');
const BENCH_GGUF = process.env.BENCH_GGUF_DIR ?? `${BENCH_MODEL}-gguf`;
/** Tokens of the heat-map target: "1,000 tokens on a 135M-shape model in seconds, not minutes", read as under 20 s. */
const HEATMAP_TOKENS = 1000;
const HEATMAP_SECONDS = 20;
const GGUF_RUNS = Number(process.env.BENCH_GGUF_RUNS ?? 3);

/** gpt-classics (trained on the corpus) as a GGUF file, written once beside the benchmark's: the typical case of ranks, undefined when it cannot be written. */
function trainedGguf(say: Say): string | undefined {
  const file = path.join(BENCH_GGUF, 'gpt-classics-f32.gguf');
  if (fs.existsSync(file)) return file;
  try {
    execFileSync('/usr/bin/python3', [path.join(ROOT, 'training', 'export_gguf.py'), path.join(ROOT, 'models', 'gpt-classics'), file, '--type', 'f32'], {
      stdio: 'pipe',
    });
    return file;
  } catch (e) {
    say(`(gpt-classics could not be written as GGUF, so the trained model's row is left out: ${(e as Error).message.split('\n')[0]})`);
    return undefined;
  }
}

function ggufSection(say: Say, targets: Target[]): void {
  say();
  say('## GGUF on llama.cpp against ONNX on onnxruntime (the SmolLM2-135M-shape model)');
  say();
  const missing = missingGgufBenchFiles(BENCH_MODEL, BENCH_GGUF);
  const stale = missing.length ? [] : staleGgufBenchFiles(BENCH_GGUF);
  if (missing.length || stale.length) {
    const files = missing.length
      ? `the benchmark model's files are absent (${missing.map((m) => path.basename(m)).join(', ')})`
      : `${stale.map((m) => path.basename(m)).join(', ')} has its output matrix in Q4_0, as training/export_gguf.py wrote it before it followed llama-quantize (no real Q4_0 file has it): write it again`;
    const why = `skipped: ${files}. Make them with \`/usr/bin/python3 training/make_fixtures.py --bench-shape smollm2-135m --out ${BENCH_MODEL}\`, then \`/usr/bin/python3 training/export_gguf.py ${BENCH_MODEL} ${BENCH_GGUF}/model-TYPE.gguf --type TYPE --pre smollm\` for TYPE f32, q8_0 and q4_0 (or set BENCH_MODEL_DIR, BENCH_GGUF_DIR).`;
    say(why);
    targets.push({
      target: `heat-map of ${HEATMAP_TOKENS} tokens (ranks) on the 135M-shape GGUF model within ${HEATMAP_SECONDS} s`,
      measured: missing.length ? 'not measured (no model)' : 'not measured (a stale Q4_0 file)',
      meets: undefined,
    });
    return;
  }
  const load = os.loadavg()[0];
  const trained = trainedGguf(say);
  const variants: GgufVariant[] = [...GGUF_VARIANTS, ...(trained ? [{ label: 'GGUF F32, gpt-classics (trained)', gguf: trained }] : [])];
  const samples = compareGguf(BENCH_MODEL, BENCH_GGUF, HEATMAP_TOKENS, {
    runs: GGUF_RUNS,
    variants,
    onRow: (label, s) => console.error(`  ${label}: ${JSON.stringify(s)}`),
  });
  say(
    `Random weights in SmolLM2-135M's shape (llama, 30 layers, hidden 576, 9 query / 3 KV heads, vocabulary 49,152): its ONNX variants as \`training/make_fixtures.py --bench-shape smollm2-135m\` writes them, and the same weights as GGUF files (\`training/export_gguf.py --type f32|q8_0|q4_0 --pre smollm\`; the Q4_0 file's output matrix, tied to the embedding, is Q8_0, as llama.cpp's llama-quantize writes it for rows of 576, which do not split into Q6_K's blocks of 256). One thread each (the extension's own default on this machine: half the cores, ${Math.max(1, Math.floor(os.availableParallelism() / 2))} of ${os.availableParallelism()}), through the engine as the extension runs them, each variant in a process of its own, the variants taking turns run by run; medians of ${GGUF_RUNS} runs: a prefill of 64 tokens, 32 greedy decode steps, then the heat-map's scoring of ${HEATMAP_TOKENS} tokens of the valid text with ranks (\`sequenceScores\`; also per second of the process's CPU time, which on a shared machine is near what an idle core gives) and without (\`sequenceLogProbs\`, bits per character, on the next ${HEATMAP_TOKENS} tokens: the ONNX engine keeps its last scores and would hand them back).${trained ? ' The last row is gpt-classics (trained on the corpus; 4.2M parameters, vocabulary 4,096, a window of 128 tokens) written as GGUF: a model trained on real text, whose first-ranked targets need no count.' : ''} Load average when the section began: ${load.toFixed(1)} on ${os.cpus().length} cores.`,
  );
  say();
  for (const line of ggufTable(samples, variants)) say(line);
  say();
  say(
    "Ranks on GGUF: node-llama-cpp hands a whole distribution over only as a list of token/value pairs (some 10–20 ms a position at 49,152 tokens), so scoring evaluates each window once and reads each position's logits inside llama.cpp as often as it needs, before the next batch overwrites them (`src/node/gguf/llamaPositions.ts`): the target's logit, the largest and the sum of exponentials (the log-prob), then, for a target that is not first, two counts of the logits above a threshold just above and just below the target's (min-p at a temperature of 2⁶⁴), or its whole distribution where the counts do not settle it (another logit within float32 rounding of the target's). With random weights nearly every target is counted; a trained model's targets are first more often, which needs no count.",
  );
  say();
  say(
    "A Q4_0 output matrix (a file quantized with `llama-quantize --pure`, or our own Q4_0 file before it followed llama-quantize) makes every reading of a position several times slower, not the product itself: node-llama-cpp's linux-x64 binary loads its `zen4` CPU variant here (AVX-512, VNNI), which repacks Q4_0 matrices (`q4_0_8x8`), and the repacked product `gemm_q4_b32_8x8_q8_0_lut_avx` returns without `vzeroupper`. When it is the graph's last operation, the thread goes on with the upper halves of its vector registers dirty, and llama.cpp's samplers and the binding's reading loop (plain SSE code) pay for it on every instruction: a summary and two counts took 50 ms a position against 7–9 ms for the same weights with a Q8_0 output matrix (CPU time, 2026-11-30, perf: the time went to `expf` and the binding's loop, not to the product). Such files still score correctly, only slower; only a binding built with `vzeroupper` there would fix it.",
  );
  say();
  say(
    'Decode reads a whole distribution a step, which node-llama-cpp 3.22.1 hands over only as a JavaScript array of token/value pairs built one element at a time, sorted by value first (`sampleToken` with `logits`): about 13–17 ms of CPU a step at 49,152 tokens, most of it building the array (perf, 2026-11-30: about two thirds N-API element stores, a quarter the sort). The binding has no call that gives the logits as a typed array, and having llama.cpp sort them beforehand (a top-k of the whole vocabulary, whose bucket sort the binding then need not redo) measured the same (16.2 against 16.8 ms a call), so decode keeps that cost.',
  );
  const gguf = samples.filter((_, i) => i < GGUF_VARIANTS.length && variants[i].gguf);
  const worst = Math.max(...gguf.map((s) => s.scoresSeconds));
  const worstCpu = Math.max(...gguf.map((s) => HEATMAP_TOKENS / s.scoresCpu));
  targets.push({
    target: `heat-map of ${HEATMAP_TOKENS} tokens (ranks) on the 135M-shape GGUF model within ${HEATMAP_SECONDS} s ("seconds, not minutes")`,
    measured: `${fmt(worst)} s wall, ${fmt(worstCpu)} s of CPU time (the slowest of F32, Q8_0, Q4_0; load average ${load.toFixed(1)} on ${os.cpus().length} cores)`,
    meets: worst <= HEATMAP_SECONDS,
  });
}

const difference = (x: number) => (x === 0 ? '0' : x.toExponential(1));

/** The rows of a targets table. */
function targetTable(targets: readonly Target[]): string[] {
  return ['| target | this run | |', '|---|---:|---|', ...targets.map(targetRow)];
}

const targetRow = (t: Target) =>
  `| ${t.target} | ${t.measured} | ${t.unsettled ? '**not settled**' : t.meets === undefined ? 'not judged' : `**${verdict(t.meets)}**`} |`;

/** The blocks of docs/BENCHMARKS.md in the order a full run writes them (see scripts/benchDoc.ts). */
const BLOCK_ORDER = ['header', ...SECTIONS, 'targets', ...SECTIONS.map((s) => `targets-${s}`), 'targets-count'];

/** A run with fewer runs or a smaller text than the stated ones, or asked to (BENCH_PRINT=1), prints and writes nothing. */
const PRINT_ONLY = process.env.BENCH_PRINT === '1' || RUNS < 5 || LARGE_MIB < 200;

/** docs/BENCHMARKS.md with `blocks` replaced and the targets counted again; the rest of it kept. */
function writeDoc(file: string, blocks: DocBlock[]): void {
  const old = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, updateDoc(old, blocks, BLOCK_ORDER));
}

async function main(): Promise<void> {
  const asked = process.argv.slice(2);
  const unknown = asked.filter((a) => !(SECTIONS as readonly string[]).includes(a));
  if (unknown.length) throw new Error(`unknown section ${unknown.join(', ')}: the sections are ${SECTIONS.join(', ')}`);
  const sections = new Set<Section>(asked.length ? (asked as Section[]) : SECTIONS);
  const valid = corpusTexts('valid')[0];
  const lines: string[] = [];
  const say = (s = '') => {
    console.log(s);
    lines.push(s);
  };
  const targets: Target[] = [];
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const date = new Date().toISOString().slice(0, 10);
  say('# Benchmarks');
  say();
  say(`Measured by \`npm run bench\` on ${date}: ${cpu}, ${os.cpus().length} cores, ${fmt(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}.`);
  say(
    `Medians of ${RUNS} runs (3 for training); references run in the same process, so the ratios hold on a noisy shared machine better than the absolute figures. Each stated target is judged at the end: meets or misses.`,
  );
  const blocks: DocBlock[] = [{ name: 'header', lines: [...lines] }];
  const sectionTargets = new Map<Section, Target[]>();
  /** Runs a section when it was asked for, and keeps its lines and targets as its blocks (unless `done` says it did not finish). */
  const run = async (name: Section, body: () => unknown): Promise<void> => {
    if (!sections.has(name)) return;
    const [from, targetsFrom] = [lines.length, targets.length];
    const done = await body();
    if (done === false) return;
    blocks.push({ name, lines: lines.slice(from) });
    sectionTargets.set(name, targets.slice(targetsFrom));
  };
  // BENCH_HUGE_ARPA=only: the 2 GB ARPA alone (minutes), printed and not written to the docs.
  const hugeOnly = process.env.BENCH_HUGE_ARPA === 'only';
  await run('ngram', () => ngramSection(say, targets, corpusTexts('train'), valid));
  await run('training', () => trainingSection(say, targets, ROOT, CORPUS, Number(process.env.BENCH_TRAIN_RUNS ?? 3)));
  await run('ngramload', async () => {
    if (!hugeOnly) return ngramLoadSection(say, targets, ROOT, CORPUS, RUNS);
    hugeArpaSection(say, targets, ROOT, CORPUS);
    return false;
  });
  await run('neural', () => neuralSection(say, targets));
  // Run in parts (BENCH_BIG_CELLS), the large-model section is written only once every cell has been measured.
  await run('big', () => bigModelSection(say, targets));
  await run('variants', () => variantSection(say, targets));
  await run('hover', () => hoverSection(say, targets, valid));
  await run('tokenizer', () => tokenizerSection(say));
  await run('inline', () => inlineSection(say, valid, targets));
  await run('serve', () => serveSection(say, valid, targets));
  await run('inside', () => insideSection(say, valid, targets));
  await run('gguf', () => ggufSection(say, targets));

  console.log('\n## Targets\n');
  for (const line of targetTable(targets)) console.log(line);
  console.log(`\n${targetCount(targets.map(targetRow))}`);

  const file = path.join(ROOT, 'docs', 'BENCHMARKS.md');
  const whole = sections.size === SECTIONS.length;
  const how = whole ? '`npm run bench`' : `\`node out/scripts/bench.js ${[...sections].join(' ')}\``;
  const measured = `on ${date} (${cpu}, ${os.cpus().length} cores, Node ${process.version}; load average ${os.loadavg()[0].toFixed(1)} at the end)`;
  const targetBlocks = [...sectionTargets].map(([name, own]) => ({
    name: `targets-${name}`,
    lines: own.length ? [`Section \`${name}\`, measured by ${how} ${measured}:`, '', ...targetTable(own)] : [],
  }));
  const unfinished = [...sections].filter((name) => !blocks.some((b) => b.name === name));
  if (unfinished.length) console.log(`\nnot finished, left as they were: ${unfinished.join(', ')} (for big: not every cell measured yet, BENCH_BIG_CELLS)`);
  if (PRINT_ONLY) {
    console.log(`\na shortened run (BENCH_RUNS, BENCH_LARGE_MIB) or BENCH_PRINT=1: docs/BENCHMARKS.md is left as it was`);
    return;
  }
  if (whole) {
    const targetsHeading = { name: 'targets', lines: ['## Targets', '', "Each section's targets, judged by the run that measured it."] };
    writeDoc(file, [...blocks, targetsHeading, ...targetBlocks]);
    console.log(`\nits blocks of docs/BENCHMARKS.md are replaced; the notes around them are kept`);
    return;
  }
  // A section run on its own says so under its figures, since the header's date is the last full run's.
  const own = blocks.filter((b) => b.name !== 'header').map((b) => ({ name: b.name, lines: [...b.lines, '', `Measured by ${how} ${measured}.`] }));
  if (!own.length) return;
  writeDoc(file, [...own, ...targetBlocks]);
  console.log(
    `\nthe blocks of ${own.map((b) => b.name).join(', ')} in docs/BENCHMARKS.md and their rows of the targets are replaced; the notes around them are kept`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
