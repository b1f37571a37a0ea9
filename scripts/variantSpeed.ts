/**
 * Speed of each precision variant a model folder has, on native onnxruntime and on WASM: the
 * measurement behind `lmPlayground.dtype: auto`'s order on the CPU (core/neural/onnxVariants.ts).
 *
 *   npx tsc -p . && node out/scripts/variantSpeed.js FOLDER [--sweeps N]
 *
 * prints the table of docs/VARIANT_SPEED.md (whose reasons for the order are written below it).
 *
 * Each measurement runs in a process of its own (one model in memory; WASM's heap is 4 GiB), one
 * thread, through the engine as the extension runs it: a prefill of 64 tokens, then 32 greedy
 * decode steps, 3 times after a warm-up. Sweeps go over every runtime and variant in turn, so that
 * a shared machine's load drifts over all of them alike; the table gives the medians.
 */
import { execFileSync } from 'child_process';
import * as os from 'os';
import { argmax } from '../src/core/distribution';
import { rankVariants, type Dtype } from '../src/core/neural/onnxVariants';
import { folderVariants, loadHuggingFaceFolder } from '../src/node/neuralLoader';
import { median } from './benchFigures';

interface Sample {
  loadSeconds: number;
  prefill: number;
  decode: number;
  rssMiB: number;
}

const PREFILL = 64;
const DECODE = 32;
const ROUNDS = 3;

/** One variant on one runtime, in this process. */
async function measure(dir: string, device: 'native' | 'wasm', dtype: Dtype): Promise<Sample> {
  const t0 = performance.now();
  const lm = await loadHuggingFaceFolder(dir, 'speed', { device, dtype: { setting: dtype }, threads: 1 });
  const loadSeconds = (performance.now() - t0) / 1000;
  const text = 'It was a fine morning in the country, and Elizabeth walked out into the garden to think over all that her sister had told her. '.repeat(8);
  const ids = lm.tokenizer
    .encode(text, true)
    .map((t) => t.id)
    .slice(0, PREFILL);
  const prefill: number[] = [];
  const decode: number[] = [];
  for (let r = 0; r <= ROUNDS; r++) {
    // A different last token each round, the cache forgotten: a full prefill.
    const context = [...ids.slice(0, -1), ids[r % ids.length]];
    await lm.forgetContext();
    let start = performance.now();
    let dist = await lm.nextLogProbs(context);
    const prefillRate = context.length / ((performance.now() - start) / 1000);
    start = performance.now();
    for (let i = 0; i < DECODE; i++) {
      context.push(argmax(dist));
      dist = await lm.nextLogProbs(context);
    }
    const decodeRate = DECODE / ((performance.now() - start) / 1000);
    if (r === 0) continue; // warm-up
    prefill.push(prefillRate);
    decode.push(decodeRate);
  }
  await lm.dispose();
  return { loadSeconds, prefill: median(prefill), decode: median(decode), rssMiB: process.resourceUsage().maxRSS / 1024 };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') {
    const [, dir, device, dtype] = args;
    process.stdout.write(JSON.stringify(await measure(dir, device as 'native' | 'wasm', dtype as Dtype)));
    return;
  }
  const dir = args[0];
  if (!dir) throw new Error('give a model folder (e.g. the benchmark model of training/make_fixtures.py --bench-shape smollm2-135m)');
  const sweepsAt = args.indexOf('--sweeps');
  const sweeps = sweepsAt >= 0 ? Number(args[sweepsAt + 1]) : 3;
  const variants = folderVariants(dir).map((v) => v.dtype);
  const devices = ['native', 'wasm'] as const;
  const samples = new Map<string, Sample[]>();
  for (let s = 0; s < sweeps; s++) {
    for (const device of devices) {
      for (const dtype of variants) {
        const out = execFileSync(process.execPath, [__filename, '--child', dir, device, dtype], { encoding: 'utf8', maxBuffer: 1 << 20 });
        const key = `${device} ${dtype}`;
        samples.set(key, [...(samples.get(key) ?? []), JSON.parse(out) as Sample]);
        process.stderr.write(`${key}: ${out}\n`);
      }
    }
  }
  const lines = [
    '# Precision variants on the CPU',
    '',
    `Measured by \`node out/scripts/variantSpeed.js ${dir} --sweeps ${sweeps}\` on ${new Date().toISOString().slice(0, 10)}: ${os.cpus()[0]?.model.trim()}, ${os.cpus().length} cores, Node ${process.version}.`,
    `One thread, the engine as the extension runs it; prefill of ${PREFILL} tokens, then ${DECODE} greedy decode steps; medians of ${sweeps} sweeps × ${ROUNDS} runs.`,
    '',
    '| runtime | variant | load (s) | prefill (tokens/s) | decode (tokens/s) | peak resident memory (MiB) |',
    '|---|---|---:|---:|---:|---:|',
  ];
  for (const device of devices) {
    for (const dtype of variants) {
      const xs = samples.get(`${device} ${dtype}`)!;
      const m = (f: (x: Sample) => number, digits: number) => median(xs.map(f)).toFixed(digits);
      lines.push(`| ${device} | ${dtype} | ${m((x) => x.loadSeconds, 2)} | ${m((x) => x.prefill, 0)} | ${m((x) => x.decode, 1)} | ${m((x) => x.rssMiB, 0)} |`);
    }
  }
  lines.push('', 'By decode speed (what completions wait for), fastest first, and `auto`’s order among these variants:', '');
  for (const device of devices) {
    const byDecode = [...variants].sort(
      (a, b) => median(samples.get(`${device} ${b}`)!.map((x) => x.decode)) - median(samples.get(`${device} ${a}`)!.map((x) => x.decode)),
    );
    const auto = rankVariants(
      variants.map((dtype) => ({ dtype, path: '' })),
      { runtime: device },
    ).map((v) => v.dtype);
    lines.push(`- ${device}: measured ${byDecode.join(', ')}; auto ${auto.join(', ')}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
