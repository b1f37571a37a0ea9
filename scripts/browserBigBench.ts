/**
 * The large model in headless Chromium on WebAssembly (one thread, as in a webview): the engine's
 * Web Worker, a bare onnxruntime-web loop (its WASM build, the one the engine's worker runs on the
 * CPU) and transformers.js, on the same files of one precision variant. Each runner has a browser
 * of its own, so that its peak memory (the largest resident set among the browser's processes: the
 * renderer, which holds the page and its workers) is its own; the three take turns run by run.
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
import { checkSameTokens, median, type RunMeasure } from '../src/node/neuralBench';
import type { CellResult } from './bigModelBench';

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
    async once(r) {
      // A full prefill: the cache of the last run forgotten (it shares all but the last token).
      const context = [...ids.slice(0, -1), 100 + r];
      await call({ op: 'forgetContext' });
      const a = now();
      await call({ op: 'nextLogProbs', context });
      const prefill = now() - a;
      const b = now();
      let first = 0;
      const done = await call({ op: 'generate', prompt: text, options: { maxTokens: decode, temperature: 0 } }, () => (first ||= now() - b));
      const total = now() - b;
      const tokens = done.result.completions[0].tokens.map((t) => t.id);
      return { prefill: ids.length / prefill, decode: (tokens.length - 1) / Math.max(1e-9, total - first), first, tokens };
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
  const gen = (n) => model.generate({ input_ids, attention_mask, max_new_tokens: n, min_new_tokens: n, do_sample: false });
  return {
    runner: 'transformers.js generate',
    async once() {
      const a = now(); await gen(1); const first = now() - a;
      const b = now(); const out = await gen(decode); const total = now() - b;
      const tokens = out.tolist()[0].slice(ids.length).map(Number);
      return { prefill: ids.length / first, decode: (decode - 1) / Math.max(1e-9, total - first), first, tokens };
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
    async once() {
      const a = now();
      let { next, present } = await step(ids, 0, empty());
      const b = now();
      const tokens = [next];
      for (let i = 1; i < decode; i++) {
        ({ next, present } = await step([next], ids.length + i - 1, present));
        tokens.push(next);
      }
      return { prefill: ids.length / (b - a), decode: (decode - 1) / (now() - b), first: b - a, tokens };
    },
  };
}
const kinds = { engine, tjs, bare };
window.setup = async (kind, args) => {
  const t0 = now();
  runner = await kinds[kind](args);
  return { runner: runner.runner, loadSeconds: now() - t0 };
};
window.once = (r) => runner.once(r);
window.ready = true;
</script>`;

/** The largest peak resident set (VmHWM) among `pid` and its descendants, in bytes. */
function peakRssOfTree(pid: number): number {
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
  let peak = 0;
  const visit = (p: number) => {
    try {
      peak = Math.max(peak, Number(/^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0) * 1024);
    } catch {
      // ended
    }
    for (const c of children.get(p) ?? []) visit(c);
  };
  visit(pid);
  return peak;
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
          ? path.join(ROOT, 'dist', 'webview', 'engineWorker.js')
          : url === '/ort.wasm'
            ? path.join(ROOT, 'dist', 'ort', 'ort-wasm-simd-threaded.wasm')
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

interface BrowserRunner {
  server: BrowserServer;
  browser: Browser;
  page: Page;
}

/** The three runners on one variant in the browser, taking turns run by run. */
export async function benchBigModelBrowser(
  dir: string,
  dtypes: readonly Dtype[],
  prompt: { text: string; ids: number[] },
  decode: number,
  runs: number,
  log: (s: string) => void,
): Promise<CellResult[]> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-bench-big-'));
  const name = path.basename(dir);
  const server = serve(tmp, dir, name);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  const out: CellResult[] = [];
  try {
    await bundles(tmp);
    for (const dtype of dtypes) {
      const graph = chooseFolderGraph(dir, { setting: dtype }, 'wasm').path;
      const data = graphExternalData(path.join(dir, ...graph.split('/'))).map((d) => d.location);
      const roles = engineFiles(graph, data, { tokenizerConfig: true, generationConfig: true });
      const args = { roles, ids: prompt.ids, text: prompt.text, decode, name, dtype, config };
      const kinds = ['bare', 'engine', 'tjs'] as const;
      const runners: (BrowserRunner | undefined)[] = [];
      const cells: CellResult[] = [];
      try {
        for (const kind of kinds) {
          const base: CellResult = { runtime: 'browser', dtype, kind, runner: kind, loadSeconds: NaN, peakRssBytes: NaN, prefill: NaN, decode: NaN };
          const bs = await chromium.launchServer({
            executablePath: process.env.LMP_CHROMIUM ?? '/usr/bin/chromium',
            args: ['--no-sandbox', '--headless=new', '--disable-gpu'],
          });
          const browser = await chromium.connect(bs.wsEndpoint());
          const page = await browser.newPage();
          page.setDefaultTimeout(900_000);
          runners.push({ server: bs, browser, page });
          try {
            await page.goto(url);
            await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
            const r = await page.evaluate(
              ([k, a]) => (window as unknown as { setup: (k: string, a: unknown) => Promise<{ runner: string; loadSeconds: number }> }).setup(k, a),
              [kind, args] as const,
            );
            cells.push({ ...base, ...r });
          } catch (e) {
            cells.push({ ...base, error: (e as Error).message.split('\n')[0] });
          }
        }
        const samples = kinds.map(() => ({ prefill: [] as number[], decode: [] as number[] }));
        for (let run = 0; run <= runs; run++) {
          let reference: { runner: string; tokens: number[] } | undefined;
          for (const [i, cell] of cells.entries()) {
            if (cell.error) continue;
            let m: RunMeasure;
            try {
              m = await runners[i]!.page.evaluate((r) => (window as unknown as { once: (r: number) => Promise<RunMeasure> }).once(r), run);
            } catch (e) {
              cell.error = (e as Error).message.split('\n')[0];
              continue;
            }
            if (!reference) reference = { runner: cell.runner, tokens: m.tokens };
            else if (!cell.tokensDiffer) {
              try {
                checkSameTokens(reference, { runner: cell.runner, tokens: m.tokens });
              } catch (e) {
                cell.tokensDiffer = (e as Error).message;
              }
            }
            if (run === 0) continue; // warm-up
            samples[i].prefill.push(m.prefill);
            samples[i].decode.push(m.decode);
          }
        }
        for (const [i, cell] of cells.entries()) {
          if (cell.error) continue;
          cell.prefill = median(samples[i].prefill);
          cell.decode = median(samples[i].decode);
          cell.peakRssBytes = peakRssOfTree(runners[i]!.server.process().pid!);
        }
      } finally {
        for (const r of runners) {
          await r?.browser.close().catch(() => undefined);
          await r?.server.close().catch(() => undefined);
        }
      }
      for (const c of cells)
        log(
          `  browser ${dtype} ${c.runner}: ${c.error ?? `load ${c.loadSeconds.toFixed(2)} s, prefill ${c.prefill.toFixed(0)}/s, decode ${c.decode.toFixed(1)}/s`}`,
        );
      out.push(...cells);
    }
    return out;
  } finally {
    server.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
