/**
 * GGUF on llama.cpp against the ONNX export of the same model on native onnxruntime, through the
 * engine as the extension runs them (one thread each): load, prefill, greedy decode, and the
 * heat-map's scoring (log-probs with ranks, and without: bits per character).
 *
 *   npx tsc -p . && node out/scripts/ggufSpeed.js FOLDER [--heatmap N]
 *
 * FOLDER holds the ONNX variants (onnx/model.onnx, model_int8.onnx, model_q4.onnx) and the GGUF
 * files training/export_gguf.py wrote beside them (model-f32.gguf, model-q8_0.gguf,
 * model-q4_0.gguf). Each measurement runs in a process of its own (one model in memory); prints
 * the table of docs/GGUF_SPEED.md.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { argmax } from '../src/core/distribution';
import type { LanguageModel } from '../src/core/model';
import { openGguf } from '../src/node/gguf/ggufFile';
import { loadHuggingFaceFolder } from '../src/node/neuralLoader';

const PREFILL = 64;
const DECODE = 32;

interface Sample {
  load: number;
  prefill: number;
  decode: number;
  scores: number;
  logProbs: number;
  rssMiB: number;
}

const VARIANTS = [
  { label: 'ONNX fp32', onnx: 'fp32' },
  { label: 'ONNX int8', onnx: 'int8' },
  { label: 'ONNX q4', onnx: 'q4' },
  { label: 'GGUF F32', gguf: 'model-f32.gguf' },
  { label: 'GGUF Q8_0', gguf: 'model-q8_0.gguf' },
  { label: 'GGUF Q4_0', gguf: 'model-q4_0.gguf' },
] as const;

function corpusIds(model: LanguageModel, n: number): number[] {
  const dir = path.join(__dirname, '..', '..', '..', 'shared', 'corpus', 'en', 'valid');
  const text = fs.readFileSync(path.join(dir, fs.readdirSync(dir).sort()[0]), 'utf8').slice(0, 20 * n);
  return model.tokenizer
    .encode(text, true)
    .map((t) => t.id)
    .slice(0, n);
}

async function measure(dir: string, index: number, heatmap: number): Promise<Sample> {
  const v = VARIANTS[index];
  const t0 = performance.now();
  const model: LanguageModel =
    'gguf' in v
      ? await openGguf(path.join(dir, v.gguf), 'speed', { threads: 1 })
      : await loadHuggingFaceFolder(dir, 'speed', { device: 'native', dtype: { setting: v.onnx }, threads: 1 });
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
  const scores = heatmap / ((performance.now() - t) / 1000);
  t = performance.now();
  await model.sequenceLogProbs(ids.slice(0, heatmap), 1);
  const logProbs = heatmap / ((performance.now() - t) / 1000);
  await model.dispose?.();
  return { load, prefill, decode, scores, logProbs, rssMiB: process.resourceUsage().maxRSS / 1024 };
}

async function main(): Promise<void> {
  const [dir, ...rest] = process.argv.slice(2);
  const heatmap = rest.includes('--heatmap') ? Number(rest[rest.indexOf('--heatmap') + 1]) : 1000;
  if (process.env.GGUF_SPEED_CHILD) {
    console.log(JSON.stringify(await measure(dir, Number(process.env.GGUF_SPEED_CHILD), heatmap)));
    return;
  }
  if (!dir) throw new Error('usage: node out/scripts/ggufSpeed.js FOLDER [--heatmap N]');
  const rows: string[] = [];
  for (const [i, v] of VARIANTS.entries()) {
    const out = execFileSync(process.execPath, [__filename, dir, '--heatmap', String(heatmap)], {
      env: { ...process.env, GGUF_SPEED_CHILD: String(i) },
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    const s: Sample = JSON.parse(out.trim().split('\n').pop()!);
    const f = (x: number) => x.toLocaleString('en-US', { maximumSignificantDigits: 3 });
    rows.push(`| ${v.label} | ${f(s.load)} | ${f(s.prefill)} | ${f(s.decode)} | ${f(s.scores)} | ${f(s.logProbs)} | ${Math.round(s.rssMiB)} |`);
    console.error(rows[rows.length - 1]);
  }
  console.log(
    `Measured by \`node out/scripts/ggufSpeed.js DIR --heatmap ${heatmap}\` on ${new Date().toISOString().slice(0, 10)}: ${os.cpus()[0]?.model ?? 'CPU'}, ${os.cpus().length} cores, Node ${process.version}.`,
  );
  console.log('');
  console.log(
    `| model | load (s) | prefill ${PREFILL} (tokens/s) | decode (tokens/s) | heat-map: scores with ranks (tokens/s) | log-probs only (tokens/s) | peak resident memory (MiB) |`,
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) console.log(r);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
