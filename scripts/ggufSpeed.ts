/**
 * GGUF on llama.cpp against the ONNX export of the same model on native onnxruntime, through the
 * engine as the extension runs them (one thread each): load, prefill, greedy decode, and the
 * heat-map's scoring (log-probs with ranks, and without: bits per character). `npm run bench`
 * runs it on the benchmark model (its gguf section); alone:
 *
 *   npx tsc -p . && node out/scripts/ggufSpeed.js FOLDER [--gguf FOLDER] [--heatmap N]
 *
 * FOLDER holds the ONNX variants (onnx/model.onnx, model_int8.onnx, model_q4.onnx) as
 * training/make_fixtures.py writes them; the GGUF files training/export_gguf.py wrote from them
 * (model-f32.gguf, model-q8_0.gguf, model-q4_0.gguf) are in --gguf's folder (default FOLDER).
 * Each measurement runs in a process of its own (one model in memory).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { argmax } from '../src/core/distribution';
import type { LanguageModel } from '../src/core/model';
import { openGguf } from '../src/node/gguf/ggufFile';
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
  logProbs: number;
  rssMiB: number;
  /** GGUF: how the ranks were found (counted in llama.cpp, or from whole distributions). */
  rankSources?: { counted: number; whole: number };
}

export const GGUF_VARIANTS = [
  { label: 'ONNX fp32', onnx: 'fp32' },
  { label: 'ONNX int8', onnx: 'int8' },
  { label: 'ONNX q4', onnx: 'q4' },
  { label: 'GGUF F32', gguf: 'model-f32.gguf' },
  { label: 'GGUF Q8_0', gguf: 'model-q8_0.gguf' },
  { label: 'GGUF Q4_0', gguf: 'model-q4_0.gguf' },
] as const;

/** The files a comparison needs, missing ones named. */
export function missingGgufBenchFiles(onnxDir: string, ggufDir: string): string[] {
  const files = [
    path.join(onnxDir, 'onnx', 'model.onnx'),
    path.join(onnxDir, 'onnx', 'model_int8.onnx'),
    path.join(onnxDir, 'onnx', 'model_q4.onnx'),
    ...GGUF_VARIANTS.flatMap((v) => ('gguf' in v ? [path.join(ggufDir, v.gguf)] : [])),
  ];
  return files.filter((f) => !fs.existsSync(f));
}

function corpusIds(model: LanguageModel, n: number): number[] {
  const dir = path.join(__dirname, '..', '..', '..', 'shared', 'corpus', 'en', 'valid');
  const text = fs.readFileSync(path.join(dir, fs.readdirSync(dir).sort()[0]), 'utf8').slice(0, 20 * n);
  return model.tokenizer
    .encode(text, true)
    .map((t) => t.id)
    .slice(0, n);
}

async function measure(onnxDir: string, ggufDir: string, index: number, heatmap: number): Promise<GgufSample> {
  const v = GGUF_VARIANTS[index];
  const t0 = performance.now();
  const model: LanguageModel =
    'gguf' in v
      ? await openGguf(path.join(ggufDir, v.gguf), 'speed', { threads: 1 })
      : await loadHuggingFaceFolder(onnxDir, 'speed', { device: 'native', dtype: { setting: v.onnx }, threads: 1 });
  const load = (performance.now() - t0) / 1000;
  const ids = corpusIds(model, Math.max(PREFILL, heatmap));
  let t = performance.now();
  const context = ids.slice(0, PREFILL);
  await model.nextLogProbs(context);
  const prefill = PREFILL / ((performance.now() - t) / 1000);
  t = performance.now();
  for (let i = 0; i < DECODE; i++) context.push(argmax(await model.nextLogProbs(context)));
  const decode = DECODE / ((performance.now() - t) / 1000);
  t = performance.now();
  await model.sequenceScores(ids.slice(0, heatmap), 1);
  const scoresSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  await model.sequenceLogProbs(ids.slice(0, heatmap), 1);
  const logProbs = heatmap / ((performance.now() - t) / 1000);
  const rankSources = 'gguf' in v ? { ...(model as GgufLanguageModel).rankSources } : undefined;
  await model.dispose?.();
  return { load, prefill, decode, scores: heatmap / scoresSeconds, scoresSeconds, logProbs, rssMiB: process.resourceUsage().maxRSS / 1024, rankSources };
}

/** Each variant measured in a child process of its own, one after another. */
export function compareGguf(onnxDir: string, ggufDir: string, heatmap: number, onRow?: (label: string, s: GgufSample) => void): GgufSample[] {
  return GGUF_VARIANTS.map((v, i) => {
    const out = execFileSync(process.execPath, [__filename, onnxDir, '--gguf', ggufDir, '--heatmap', String(heatmap)], {
      env: { ...process.env, GGUF_SPEED_CHILD: String(i) },
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    const s: GgufSample = JSON.parse(out.trim().split('\n').pop()!);
    onRow?.(v.label, s);
    return s;
  });
}

const f = (x: number) => x.toLocaleString('en-US', { maximumSignificantDigits: 3 });

/** The table of a comparison, as docs/BENCHMARKS.md shows it. */
export function ggufTable(samples: GgufSample[]): string[] {
  return [
    `| model | load (s) | prefill ${PREFILL} (tokens/s) | decode (tokens/s) | heat-map with ranks (tokens/s) | log-probs only (tokens/s) | ranks counted / from whole distributions | peak resident memory (MiB) |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...samples.map(
      (s, i) =>
        `| ${GGUF_VARIANTS[i].label} | ${f(s.load)} | ${f(s.prefill)} | ${f(s.decode)} | ${f(s.scores)} | ${f(s.logProbs)} | ${s.rankSources ? `${s.rankSources.counted} / ${s.rankSources.whole}` : '—'} | ${Math.round(s.rssMiB)} |`,
    ),
  ];
}

async function main(): Promise<void> {
  const [dir, ...rest] = process.argv.slice(2);
  const option = (name: string) => (rest.includes(name) ? rest[rest.indexOf(name) + 1] : undefined);
  const heatmap = Number(option('--heatmap') ?? 1000);
  const ggufDir = option('--gguf') ?? dir;
  if (process.env.GGUF_SPEED_CHILD) {
    console.log(JSON.stringify(await measure(dir, ggufDir, Number(process.env.GGUF_SPEED_CHILD), heatmap)));
    return;
  }
  if (!dir) throw new Error('usage: node out/scripts/ggufSpeed.js FOLDER [--gguf FOLDER] [--heatmap N]');
  const samples = compareGguf(dir, ggufDir, heatmap, (label, s) => console.error(label, JSON.stringify(s)));
  for (const line of ggufTable(samples)) console.log(line);
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
