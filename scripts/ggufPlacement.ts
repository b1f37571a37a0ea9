/**
 * What running llama.cpp in the engine's child process costs against a worker thread of the host
 * (the placement before: a llama.cpp abort took the host with it): load, a hover's requests, a
 * heat-map, the memory of both processes and their CPU time. The two placements take turns run by
 * run, each run in a fresh Node process (the host), and each figure is the median of its runs.
 *
 *   npx tsc -p . && node out/scripts/ggufPlacement.js FILE.gguf [--runs N] [--heatmap N] [--process-first]
 *
 * The worker thread is the same engine with the placement set to node-worker (engineWorker.ts).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { ChildProcess } from 'child_process';
import { median } from './benchFigures';
import { ggufBackend } from '../src/node/backends/ggufBackend';
import type { ModelBackend } from '../src/node/backends/backend';
import { startEngineWorker } from '../src/node/workerHost';

export type Placement = 'node-worker' | 'node-process';

export interface PlacementSample {
  /** Seconds until the model answers (process or worker started, model loaded, host tokenizer read). */
  load: number;
  /** A hover's request at a position one token after the last (the model's cache holds the rest), ms. */
  hoverCached: number;
  /** A hover far above the last request (its context read again: 300 tokens), ms. */
  hoverCold: number;
  /** The heat-map's scoring (with ranks), seconds. */
  heatmap: number;
  /** CPU seconds of the load and of the heat-map, host and engine process together: on a busy machine the wall clock says mostly how busy it was. */
  loadCpu: number;
  heatmapCpu: number;
  /** Peak resident memory of the host plus that of the engine's process, MiB. */
  rssMiB: number;
  /** CPU seconds of the host and the engine's process for the whole run. */
  cpu: number;
}

function corpusText(chars: number): string {
  const dir = path.join(__dirname, '..', '..', '..', 'shared', 'corpus', 'en', 'valid');
  return fs.readFileSync(path.join(dir, fs.readdirSync(dir).sort()[0]), 'utf8').slice(0, chars);
}

/** Peak resident memory (VmHWM) and CPU seconds of another process, from /proc. */
function procFigures(pid: number): { hwmMiB: number; cpu: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime, fields 14 and 15 of the line (11 and 12 after the name).
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { hwmMiB: hwm, cpu: ticks / 100 };
}

async function measure(file: string, placement: Placement, heatmapTokens: number): Promise<PlacementSample> {
  const backend: ModelBackend = { ...ggufBackend, capabilities: { ...ggufBackend.capabilities, placements: ['host', placement] } };
  let child: ChildProcess | undefined;
  /** CPU seconds so far of this process (the host, with its worker thread) and of the engine's process. */
  const cpuNow = () => {
    const own = process.cpuUsage();
    return (own.user + own.system) / 1e6 + (child?.pid ? procFigures(child.pid).cpu : 0);
  };
  const cpu0 = cpuNow();
  let t = performance.now();
  const model = await startEngineWorker({ backend, location: file, name: 'bench' }, {}, { process: { onSpawn: (c) => (child = c) } });
  const load = (performance.now() - t) / 1000;
  const loadCpu = cpuNow() - cpu0;
  const ids = model.tokenizer
    .encode(corpusText(20 * Math.max(heatmapTokens, 600)), true)
    .map((x) => x.id)
    .slice(0, Math.max(heatmapTokens, 600));
  // A document read once (its cache), then hovers one token further each time.
  await model.nextLogProbs(ids.slice(0, 400));
  const cached: number[] = [];
  for (let i = 0; i < 15; i++) {
    t = performance.now();
    await model.nextLogProbs(ids.slice(0, 401 + i));
    cached.push(performance.now() - t);
  }
  t = performance.now();
  const heatmapCpu0 = cpuNow();
  await model.sequenceScores(ids.slice(0, heatmapTokens), 1);
  const heatmap = (performance.now() - t) / 1000;
  const heatmapCpu = cpuNow() - heatmapCpu0;
  const cold: number[] = [];
  for (let i = 0; i < 3; i++) {
    // Another prefix each time: nothing of it is in the cache.
    await model.nextLogProbs(ids.slice(500, 520));
    t = performance.now();
    await model.nextLogProbs(ids.slice(0, 300));
    cold.push(performance.now() - t);
  }
  const engine = child?.pid ? procFigures(child.pid) : { hwmMiB: 0, cpu: 0 };
  const sample: PlacementSample = {
    load,
    hoverCached: median(cached),
    hoverCold: median(cold),
    heatmap,
    loadCpu,
    heatmapCpu,
    rssMiB: process.resourceUsage().maxRSS / 1024 + engine.hwmMiB,
    cpu: cpuNow() - cpu0,
  };
  model.dispose();
  return sample;
}

/** Each placement in a host process of its own, the two taking turns run by run; medians of `runs`. */
export function comparePlacements(
  file: string,
  runs: number,
  heatmapTokens: number,
  options: { processFirst?: boolean; onRun?: (p: Placement, s: PlacementSample) => void } = {},
): Record<Placement, PlacementSample> {
  const all: Record<Placement, PlacementSample[]> = { 'node-worker': [], 'node-process': [] };
  for (let run = 0; run < runs; run++) {
    const order: Placement[] = (run + (options.processFirst ? 1 : 0)) % 2 === 0 ? ['node-worker', 'node-process'] : ['node-process', 'node-worker'];
    for (const p of order) {
      const out = execFileSync(process.execPath, [__filename, file, '--child', p, '--heatmap', String(heatmapTokens)], {
        encoding: 'utf8',
        maxBuffer: 1 << 24,
      });
      const s: PlacementSample = JSON.parse(out.trim().split('\n').pop()!);
      options.onRun?.(p, s);
      all[p].push(s);
    }
  }
  const med = (xs: PlacementSample[]): PlacementSample => {
    const m = (k: keyof PlacementSample) => median(xs.map((x) => x[k]));
    return {
      load: m('load'),
      hoverCached: m('hoverCached'),
      hoverCold: m('hoverCold'),
      heatmap: m('heatmap'),
      loadCpu: m('loadCpu'),
      heatmapCpu: m('heatmapCpu'),
      rssMiB: m('rssMiB'),
      cpu: m('cpu'),
    };
  };
  return { 'node-worker': med(all['node-worker']), 'node-process': med(all['node-process']) };
}

const f = (x: number) => x.toLocaleString('en-US', { maximumSignificantDigits: 3 });

/** The table docs/BENCHMARKS.md shows. */
export function placementTable(r: Record<Placement, PlacementSample>, heatmapTokens: number): string[] {
  const w = r['node-worker'];
  const p = r['node-process'];
  const row = (label: string, k: keyof PlacementSample) => `| ${label} | ${f(w[k])} | ${f(p[k])} | ${f(p[k] / w[k])} |`;
  return [
    '| figure (median) | worker thread (before) | child process (now) | process / thread |',
    '|---|---:|---:|---:|',
    row('load (s)', 'load'),
    row('load, CPU time (s)', 'loadCpu'),
    row('hover, one token after the cached context (ms)', 'hoverCached'),
    row('hover, 300 tokens read again (ms)', 'hoverCold'),
    row(`heat-map of ${heatmapTokens} tokens with ranks (s)`, 'heatmap'),
    row('heat-map, CPU time (s)', 'heatmapCpu'),
    row('peak resident memory, host + engine process (MiB)', 'rssMiB'),
    row('CPU time of the whole run, host + engine process (s)', 'cpu'),
  ];
}

async function main(): Promise<void> {
  const [file, ...rest] = process.argv.slice(2);
  const option = (name: string) => (rest.includes(name) ? rest[rest.indexOf(name) + 1] : undefined);
  const heatmap = Number(option('--heatmap') ?? 1000);
  const child = option('--child') as Placement | undefined;
  if (!file) throw new Error('usage: node out/scripts/ggufPlacement.js FILE.gguf [--runs N] [--heatmap N] [--process-first]');
  if (child) {
    console.log(JSON.stringify(await measure(path.resolve(file), child, heatmap)));
    return;
  }
  const load = os.loadavg()[0];
  const results = comparePlacements(path.resolve(file), Number(option('--runs') ?? 3), heatmap, {
    processFirst: rest.includes('--process-first'),
    onRun: (p, s) => console.error(p, JSON.stringify(s)),
  });
  console.log(
    `${new Date().toISOString()} · ${path.basename(file)} · load average ${load.toFixed(1)} → ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores`,
  );
  for (const line of placementTable(results, heatmap)) console.log(line);
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
