/**
 * GGUF on llama.cpp against the ONNX export of the same model on native onnxruntime, through the
 * engine as the extension runs them (one thread each): load, prefill, greedy decode, and the
 * heat-map's scoring (log-probs with ranks, and without: bits per character). `npm run bench`
 * runs it on the benchmark model (its gguf section); alone:
 *
 *   npx tsc -p . && node out/scripts/ggufSpeed.js FOLDER [--gguf FOLDER] [--heatmap N] [--runs N]
 *
 * FOLDER holds the ONNX variants (onnx/model.onnx, model_int8.onnx, model_q4.onnx) as
 * training/make_fixtures.py writes them; the GGUF files training/export_gguf.py wrote from them
 * (model-f32.gguf, model-q8_0.gguf, model-q4_0.gguf) are in --gguf's folder (default FOLDER).
 * Each measurement runs in a process of its own (one model in memory); with several runs the
 * variants take turns run by run, and each figure is the median of its runs.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { argmax } from '../src/core/distribution';
import { median } from './benchFigures';
import type { LanguageModel } from '../src/core/model';
import { openGguf, readGgufHeader } from '../src/node/gguf/ggufFile';
import type { GgufLanguageModel } from '../src/node/gguf/ggufLanguageModel';
import { loadHuggingFaceFolder } from '../src/node/neuralLoader';

const PREFILL = 64;
const DECODE = 32;

export interface GgufSample {
  load: number;
  prefill: number;
  decode: number;
  /** Heat-map scoring with ranks, tokens/s, and its seconds. */
  scores: number;
  scoresSeconds: number;
  /** The same in tokens per second of the process's CPU time (what an idle core would give, near enough, on a shared machine). */
  scoresCpu: number;
  logProbs: number;
  rssMiB: number;
  /** GGUF: how the ranks were found (counted in llama.cpp, or from whole distributions). */
  rankSources?: { counted: number; whole: number };
}

export interface GgufVariant {
  label: string;
  onnx?: 'fp32' | 'int8' | 'q4';
  /** The GGUF file, in the GGUF folder or absolute. */
  gguf?: string;
}

export const GGUF_VARIANTS: readonly GgufVariant[] = [
  { label: 'ONNX fp32', onnx: 'fp32' },
  { label: 'ONNX int8', onnx: 'int8' },
  { label: 'ONNX q4', onnx: 'q4' },
  { label: 'GGUF F32', gguf: 'model-f32.gguf' },
  { label: 'GGUF Q8_0', gguf: 'model-q8_0.gguf' },
  { label: 'GGUF Q4_0', gguf: 'model-q4_0.gguf' },
];

/** The files a comparison needs, missing ones named. */
export function missingGgufBenchFiles(onnxDir: string, ggufDir: string): string[] {
  const files = [
    path.join(onnxDir, 'onnx', 'model.onnx'),
    path.join(onnxDir, 'onnx', 'model_int8.onnx'),
    path.join(onnxDir, 'onnx', 'model_q4.onnx'),
    ...GGUF_VARIANTS.flatMap((v) => (v.gguf ? [path.join(ggufDir, v.gguf)] : [])),
  ];
  return files.filter((f) => !fs.existsSync(f));
}

/** ggml_type of Q4_0. */
const GGML_Q4_0 = 2;

/**
 * Bench GGUF files written before export_gguf.py gave a q4_0 file's output matrix llama-quantize's
 * type (Q8_0 at this shape): their Q4_0 output matrix, unlike real Q4_0 files', makes scoring several
 * times slower (docs/BENCHMARKS.md says why), so they are written again rather than measured.
 */
export function staleGgufBenchFiles(ggufDir: string): string[] {
  return GGUF_VARIANTS.flatMap((v) => {
    if (!v.gguf) return [];
    const file = path.join(ggufDir, v.gguf);
    const tensors = readGgufHeader(file).header.tensors;
    const output = tensors.find((t) => t.name === 'output.weight') ?? tensors.find((t) => t.name === 'token_embd.weight');
    return output?.type === GGML_Q4_0 ? [file] : [];
  });
}

function corpusIds(model: LanguageModel, n: number): number[] {
  const dir = path.join(__dirname, '..', '..', '..', 'shared', 'corpus', 'en', 'valid');
  const text = fs.readFileSync(path.join(dir, fs.readdirSync(dir).sort()[0]), 'utf8').slice(0, 20 * n);
  return model.tokenizer
    .encode(text, true)
    .map((t) => t.id)
    .slice(0, n);
}

async function measure(onnxDir: string, ggufDir: string, v: GgufVariant, heatmap: number): Promise<GgufSample> {
  const t0 = performance.now();
  const model: LanguageModel = v.gguf
    ? await openGguf(path.resolve(ggufDir, v.gguf), 'speed', { threads: 1 })
    : await loadHuggingFaceFolder(onnxDir, 'speed', { device: 'native', dtype: { setting: v.onnx! }, threads: 1 });
  const load = (performance.now() - t0) / 1000;
  // Two heat-maps' worth: the log-probs are scored on the text after the first, which a model that
  // keeps its last scores (the ONNX engine) would otherwise hand back without running.
  const ids = corpusIds(model, Math.max(PREFILL, 2 * heatmap));
  let t = performance.now();
  const context = ids.slice(0, PREFILL);
  await model.nextLogProbs(context);
  const prefill = PREFILL / ((performance.now() - t) / 1000);
  t = performance.now();
  for (let i = 0; i < DECODE; i++) context.push(argmax(await model.nextLogProbs(context)));
  const decode = DECODE / ((performance.now() - t) / 1000);
  t = performance.now();
  const cpu = process.cpuUsage();
  await model.sequenceScores(ids.slice(0, heatmap), 1);
  const used = process.cpuUsage(cpu);
  const scoresSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  await model.sequenceLogProbs(ids.slice(heatmap, 2 * heatmap), 1);
  const logProbs = heatmap / ((performance.now() - t) / 1000);
  const rankSources = v.gguf ? { ...(model as GgufLanguageModel).rankSources } : undefined;
  await model.dispose?.();
  return {
    load,
    prefill,
    decode,
    scores: heatmap / scoresSeconds,
    scoresSeconds,
    scoresCpu: heatmap / ((used.user + used.system) / 1e6),
    logProbs,
    rssMiB: process.resourceUsage().maxRSS / 1024,
    rankSources,
  };
}

/** The median of each figure over runs (rank sources are the same every run). */
function medianSample(runs: GgufSample[]): GgufSample {
  const m = (key: keyof GgufSample) => median(runs.map((r) => r[key] as number));
  return {
    load: m('load'),
    prefill: m('prefill'),
    decode: m('decode'),
    scores: m('scores'),
    scoresSeconds: m('scoresSeconds'),
    scoresCpu: m('scoresCpu'),
    logProbs: m('logProbs'),
    rssMiB: m('rssMiB'),
    rankSources: runs[0].rankSources,
  };
}

/** Each variant measured in a child process of its own, the variants taking turns run by run; the medians of `runs` runs. */
export function compareGguf(
  onnxDir: string,
  ggufDir: string,
  heatmap: number,
  options: { runs?: number; variants?: readonly GgufVariant[]; onRow?: (label: string, s: GgufSample) => void } = {},
): GgufSample[] {
  const variants = options.variants ?? GGUF_VARIANTS;
  const runs: GgufSample[][] = variants.map(() => []);
  for (let run = 0; run < (options.runs ?? 1); run++) {
    variants.forEach((v, i) => {
      const out = execFileSync(process.execPath, [__filename, onnxDir, '--gguf', ggufDir, '--heatmap', String(heatmap)], {
        env: { ...process.env, GGUF_SPEED_CHILD: JSON.stringify(v) },
        encoding: 'utf8',
        maxBuffer: 1 << 24,
      });
      const s: GgufSample = JSON.parse(out.trim().split('\n').pop()!);
      options.onRow?.(v.label, s);
      runs[i].push(s);
    });
  }
  return runs.map(medianSample);
}

const f = (x: number) => x.toLocaleString('en-US', { maximumSignificantDigits: 3 });

/** The table of a comparison, as docs/BENCHMARKS.md shows it. */
export function ggufTable(samples: GgufSample[], variants: readonly GgufVariant[] = GGUF_VARIANTS): string[] {
  return [
    `| model | load (s) | prefill ${PREFILL} (tokens/s) | decode (tokens/s) | heat-map with ranks (tokens/s) | the same per CPU second | log-probs only (tokens/s) | ranks counted / from whole distributions | peak resident memory (MiB) |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...samples.map(
      (s, i) =>
        `| ${variants[i].label} | ${f(s.load)} | ${f(s.prefill)} | ${f(s.decode)} | ${f(s.scores)} | ${f(s.scoresCpu)} | ${f(s.logProbs)} | ${s.rankSources ? `${s.rankSources.counted} / ${s.rankSources.whole}` : '—'} | ${Math.round(s.rssMiB)} |`,
    ),
  ];
}

async function main(): Promise<void> {
  const [dir, ...rest] = process.argv.slice(2);
  const option = (name: string) => (rest.includes(name) ? rest[rest.indexOf(name) + 1] : undefined);
  const heatmap = Number(option('--heatmap') ?? 1000);
  const ggufDir = option('--gguf') ?? dir;
  if (process.env.GGUF_SPEED_CHILD) {
    console.log(JSON.stringify(await measure(dir, ggufDir, JSON.parse(process.env.GGUF_SPEED_CHILD) as GgufVariant, heatmap)));
    return;
  }
  if (!dir) throw new Error('usage: node out/scripts/ggufSpeed.js FOLDER [--gguf FOLDER] [--heatmap N] [--runs N]');
  const samples = compareGguf(dir, ggufDir, heatmap, { runs: Number(option('--runs') ?? 1), onRow: (label, s) => console.error(label, JSON.stringify(s)) });
  for (const line of ggufTable(samples)) console.log(line);
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
