/**
 * The large model in headless Chromium on WebAssembly (one thread, as in a webview): the engine's
 * Web Worker, a bare onnxruntime-web loop (its WASM build, the one the engine's worker runs on the
 * CPU) and transformers.js, on the same files of one precision variant. Each runner has a browser
 * of its own, so that its peak memory (the largest resident set among the browser's processes: the
 * renderer, which holds the page and its workers) is its own; the three take turns round by round
 * (bigModelBench.ts, `runCell`).
 */
import * as esbuild from 'esbuild';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { chromium, type Browser, type BrowserServer, type Page } from 'playwright-core';
import { engineFiles } from '../src/core/neural/hfLayout';
import type { Dtype } from '../src/core/neural/onnxVariants';
import { graphExternalData } from '../src/node/externalData';
import { chooseFolderGraph } from '../src/node/neuralLoader';
import { runCell, type CellRun, type RunnerHandle } from './bigModelBench';
import type { Phase, PhaseMeasure, RunnerKind } from './bigModelRunner';

const ROOT = path.resolve(__dirname, '..', '..');

const PAGE = `<!doctype html><meta charset="utf-8"><title>bench</title><body>bench
<script type="module">
const now = () => performance.now() / 1000;
const get = (p) => fetch(p).then((r) => { if (!r.ok) throw new Error(p + ': ' + r.status); return r; });
const argmax = (a) => { let b = 0; for (let i = 1; i < a.length; i++) if (a[i] > a[b]) b = i; return b; };
let runner;
// The load as the playground sends it: the files' bytes and the runtime's binary moved to the worker (transferred, not copied), none kept by the page.
async function loadRequest(roles, name) {
  const files = {};
  await Promise.all(Object.entries(roles).map(async ([role, rel]) => {
    files[role] = { name: rel, bytes: await get('/model/' + rel).then((r) => r.arrayBuffer()) };
  }));
  const wasm = await get('/ort.wasm').then((r) => r.arrayBuffer());
  const transfer = [...Object.values(files).map((f) => f.bytes), wasm];
  return { req: { op: 'load', spec: { backend: 'onnx', name, source: { files }, device: 'wasm', runtime: 'onnxruntime-web', wasmBinaries: { wasm } } }, transfer };
}
// The engine as the playground runs it: the model's files posted to its Web Worker.
async function engine({ roles, ids, text, decode, name }) {
  const worker = new Worker('/worker.js');
  const pending = new Map();
  let next = 1;
  worker.onmessage = (e) => pending.get(e.data.id)(e.data);
  const call = (req, onPartial, transfer = []) => new Promise((resolve, reject) => {
    const id = next++;
    pending.set(id, (r) => (!r.ok ? reject(new Error(r.error)) : r.partial ? onPartial(r.partial) : resolve(r)));
    worker.postMessage({ ...req, id }, transfer);
  });
  const load = await loadRequest(roles, name);
  await call(load.req, undefined, load.transfer);
  return {
    runner: 'engine Web Worker',
    async prefill(r) {
      // A full prefill: the cache of the last run forgotten (it shares all but the last token).
      const context = [...ids.slice(0, -1), 100 + r];
      await call({ op: 'forgetContext' });
      const a = now();
      await call({ op: 'nextLogProbs', context });
      return { count: ids.length, seconds: now() - a };
    },
    async decode() {
      await call({ op: 'forgetContext' });
      let first = 0;
      const done = await call({ op: 'generate', prompt: text, options: { maxTokens: decode, temperature: 0 } }, () => (first ||= now()));
      const tokens = done.result.completions[0].tokens.map((t) => t.id);
      return { count: tokens.length - 1, seconds: now() - first, tokens };
    },
  };
}
async function tjs({ ids, decode, name, dtype }) {
  const { AutoModelForCausalLM, Tensor, env } = await import('/tjs.js');
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = '/models/';
  env.backends.onnx.wasm.wasmPaths = '/tjs-ort/';
  env.backends.onnx.wasm.numThreads = 1;
  const model = await AutoModelForCausalLM.from_pretrained(name, { device: 'wasm', dtype });
  const input_ids = new Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]);
  const attention_mask = new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]);
  const gen = (n, streamer) => model.generate({ input_ids, attention_mask, max_new_tokens: n, min_new_tokens: n, do_sample: false, streamer });
  return {
    runner: 'transformers.js generate',
    async prefill() {
      const a = now(); await gen(1);
      return { count: ids.length, seconds: now() - a };
    },
    async decode() {
      // The streamer is handed the prompt, then each new token: the decode steps are timed from the first token on.
      let puts = 0, first = 0;
      const out = await gen(decode, { put: () => { if (++puts === 2) first = now(); }, end: () => {} });
      return { count: decode - 1, seconds: now() - first, tokens: out.tolist()[0].slice(ids.length).map(Number) };
    },
  };
}
async function bare({ roles, ids, decode, config }) {
  const { ort } = await import('/ort-wasm.js');
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmBinary = await get('/ort.wasm').then((r) => r.arrayBuffer());
  const onnx = await get('/model/' + roles.onnx).then((r) => r.arrayBuffer());
  const externalData = Object.entries(roles).filter(([role]) => role.startsWith('data:')).map(([role, rel]) => ({ path: role.slice(5), data: '/model/' + rel }));
  const session = await ort.InferenceSession.create(new Uint8Array(onnx), { executionProviders: ['wasm'], graphOptimizationLevel: 'all', externalData });
  const L = config.num_hidden_layers, H = config.num_key_value_heads, D = config.head_dim ?? config.hidden_size / config.num_attention_heads, V = config.vocab_size;
  const withPositions = session.inputNames.includes('position_ids');
  const step = async (tokens, pastLength, past) => {
    const T = tokens.length;
    const feeds = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(tokens, BigInt), [1, T]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(pastLength + T).fill(1n), [1, pastLength + T]),
    };
    if (withPositions) feeds.position_ids = new ort.Tensor('int64', BigInt64Array.from({ length: T }, (_, i) => BigInt(pastLength + i)), [1, T]);
    for (let l = 0; l < L; l++) { feeds['past_key_values.' + l + '.key'] = past[2 * l]; feeds['past_key_values.' + l + '.value'] = past[2 * l + 1]; }
    const out = await session.run(feeds);
    const present = [];
    for (let l = 0; l < L; l++) present.push(out['present.' + l + '.key'], out['present.' + l + '.value']);
    return { next: argmax(out.logits.data.subarray((T - 1) * V, T * V)), present };
  };
  const empty = () => Array.from({ length: 2 * L }, () => new ort.Tensor('float32', new Float32Array(0), [1, H, 0, D]));
  return {
    runner: 'bare onnxruntime-web loop (WASM build)',
    async prefill() {
      const a = now();
      await step(ids, 0, empty());
      return { count: ids.length, seconds: now() - a };
    },
    async decode() {
      let { next, present } = await step(ids, 0, empty());
      const a = now();
      const tokens = [next];
      for (let i = 1; i < decode; i++) {
        ({ next, present } = await step([next], ids.length + i - 1, present));
        tokens.push(next);
      }
      return { count: decode - 1, seconds: now() - a, tokens };
    },
  };
}
const kinds = { engine, tjs, bare };
window.setup = async (kind, args) => {
  const t0 = now();
  runner = await kinds[kind](args);
  return { runner: runner.runner, loadSeconds: now() - t0 };
};
window.phase = (p, r) => runner[p](r);
window.ready = true;
</script>`;

/** `pid` and its descendants. */
function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process ended meanwhile
    }
  }
  const out: number[] = [];
  const visit = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) visit(c);
  };
  visit(pid);
  return out;
}

/** The largest peak resident set (VmHWM) among `pid` and its descendants, in bytes. */
function peakRssOfTree(pid: number): number {
  let peak = 0;
  for (const p of processTree(pid)) {
    try {
      peak = Math.max(peak, Number(/^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0) * 1024);
    } catch {
      // ended
    }
  }
  return peak;
}

const TICKS_PER_SECOND = 100;

/** CPU seconds (user and system) of `pid` and its descendants so far. */
function cpuOfTree(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      // The fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
      const fields = fs.readFileSync(`/proc/${p}/stat`, 'utf8').split(') ').pop()!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // ended
    }
  }
  return ticks / TICKS_PER_SECOND;
}

async function bundles(tmp: string): Promise<void> {
  await esbuild.build({
    stdin: { contents: "export { AutoModelForCausalLM, Tensor, env } from '@huggingface/transformers';", resolveDir: ROOT },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    outfile: path.join(tmp, 'tjs.js'),
    logLevel: 'error',
  });
  await esbuild.build({
    stdin: { contents: "export * as ort from 'onnxruntime-web/wasm';", resolveDir: ROOT },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    outfile: path.join(tmp, 'ort-wasm.js'),
    logLevel: 'error',
  });
}

/** The engine's Web Worker and its runtime, from the extension's build (`npm run build`). */
const BUILT_WORKER = path.join(ROOT, 'dist', 'webview', 'engineWorker.js');
const BUILT_WASM = path.join(ROOT, 'dist', 'ort', 'ort-wasm-simd-threaded.wasm');

function serve(tmp: string, dir: string, name: string): http.Server {
  const nested = path.join(ROOT, 'node_modules', '@huggingface', 'transformers', 'node_modules', 'onnxruntime-web', 'dist');
  const tjsOrt = fs.existsSync(nested) ? nested : path.join(ROOT, 'node_modules', 'onnxruntime-web', 'dist');
  return http.createServer((req, res) => {
    const url = decodeURIComponent((req.url ?? '/').split('?')[0]);
    if (url === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    const file =
      url === '/tjs.js' || url === '/ort-wasm.js'
        ? path.join(tmp, url.slice(1))
        : url === '/worker.js'
          ? BUILT_WORKER
          : url === '/ort.wasm'
            ? BUILT_WASM
            : url.startsWith('/tjs-ort/')
              ? path.join(tjsOrt, url.slice('/tjs-ort/'.length))
              : url.startsWith('/model/')
                ? path.join(dir, url.slice('/model/'.length))
                : url.startsWith(`/models/${name}/`)
                  ? path.join(dir, url.slice(`/models/${name}/`.length))
                  : undefined;
    if (!file || file.includes('..') || !fs.existsSync(file)) return void res.writeHead(404).end();
    const type = /\.m?js$/.test(file)
      ? 'text/javascript'
      : file.endsWith('.wasm')
        ? 'application/wasm'
        : file.endsWith('.json')
          ? 'application/json'
          : 'application/octet-stream';
    res.writeHead(200, { 'content-type': type, 'content-length': fs.statSync(file).size });
    fs.createReadStream(file).pipe(res);
  });
}

/**
 * A runner in a headless Chromium of its own. Its CPU time is the browser's processes' (the
 * renderer holds the page and its workers), read around each prefill; a decode's CPU time is not
 * split from the prefill before its first token, so it is not given.
 */
class BrowserRunner implements RunnerHandle {
  private server: BrowserServer | undefined;
  private browser: Browser | undefined;
  private page: Page | undefined;
  constructor(
    readonly kind: RunnerKind,
    private readonly url: string,
    private readonly args: unknown,
  ) {}
  async setup() {
    this.server = await chromium.launchServer({
      executablePath: process.env.LMP_CHROMIUM ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--headless=new', '--disable-gpu'],
    });
    this.browser = await chromium.connect(this.server.wsEndpoint());
    this.page = await this.browser.newPage();
    this.page.setDefaultTimeout(900_000);
    await this.page.goto(this.url);
    await this.page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
    return this.page.evaluate(
      ([k, a]) => (window as unknown as { setup: (k: string, a: unknown) => Promise<{ runner: string; loadSeconds: number }> }).setup(k, a),
      [this.kind, this.args] as const,
    );
  }
  async phase(phase: Phase, round: number): Promise<PhaseMeasure> {
    const pid = this.server!.process().pid!;
    const cpu = cpuOfTree(pid);
    const m = await this.page!.evaluate(
      ([p, r]) => (window as unknown as { phase: (p: string, r: number) => Promise<Omit<PhaseMeasure, 'cpuSeconds'>> }).phase(p, r),
      [phase, round] as const,
    );
    return { ...m, cpuSeconds: phase === 'prefill' ? cpuOfTree(pid) - cpu : NaN };
  }
  async peak() {
    return peakRssOfTree(this.server!.process().pid!);
  }
  async close() {
    await this.browser?.close().catch(() => undefined);
    await this.server?.close().catch(() => undefined);
  }
}

/** Each variant in the browser: the bare loop, the engine's worker and transformers.js, a browser each, taking turns round by round, in `sets` sets of browsers one after another (runCell). */
export async function benchBigModelBrowser(
  dir: string,
  dtypes: readonly Dtype[],
  prompt: { text: string; ids: number[] },
  decode: number,
  rounds: number,
  log: (s: string) => void,
  sets = 1,
): Promise<CellRun[]> {
  // The engine's worker and its runtime come from the extension's build: without it every page
  // would fail its load one by one (404s) and the cells would be measured with nothing to compare.
  const missing = [BUILT_WORKER, BUILT_WASM].filter((f) => !fs.existsSync(f)).map((f) => path.relative(ROOT, f));
  if (missing.length) throw new Error(`${missing.join(' and ')} missing: run \`npm run build\` first`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-bench-big-'));
  const name = path.basename(dir);
  const server = serve(tmp, dir, name);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  const out: CellRun[] = [];
  try {
    await bundles(tmp);
    for (const dtype of dtypes) {
      const graph = chooseFolderGraph(dir, { setting: dtype }, 'wasm').path;
      const data = graphExternalData(path.join(dir, ...graph.split('/'))).map((d) => d.location);
      const roles = engineFiles(graph, data, { tokenizerConfig: true, generationConfig: true });
      const args = { roles, ids: prompt.ids, text: prompt.text, decode, name, dtype, config };
      const handles = () => (['bare', 'engine', 'tjs'] as const).map((kind) => new BrowserRunner(kind, url, args));
      out.push(await runCell('browser', dtype, handles, rounds, decode, log, sets));
    }
    return out;
  } finally {
    server.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
