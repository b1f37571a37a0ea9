/**
 * The engine's browser Web Worker in headless Chromium, fed by the webview pages' own binary
 * choice (ortBinaries.ts): on WebGPU (SwiftShader) when asked for it, on the WASM build with device
 * auto there (a software adapter) and with the GPU disabled; all compared with the Node (native)
 * result for the same text.
 */
import * as esbuild from 'esbuild';
import * as assert from 'assert';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { chromium } from 'playwright-core';
import { loadHuggingFaceFolder } from '../../src/node/neuralLoader';
import { CHROMIUM_ARGS, RESULTS_DIR } from './workbench';
import { REPO_ROOT } from '../../scripts/codeServer';

const MODEL_DIR = path.join(REPO_ROOT, 'models', 'gpt-classics');

const PAGE = `<!doctype html><meta charset="utf-8"><title>engine test</title><body>engine test
<script type="module">
import { OrtBinaryCache } from '/ortBinaries.js';
const urls = { webgpu: '/ort/asyncify.wasm', wasm: '/ort/plain.wasm' };
window.runEngine = async (device, ids, onlyWebGpuBuild) => {
  const get = (p) => fetch(p).then((r) => { if (!r.ok) throw new Error(p + ': ' + r.status); return r; });
  const binaries = onlyWebGpuBuild
    ? get(urls.webgpu).then((r) => r.arrayBuffer()).then((b) => ({ binaries: { webgpu: b }, transfer: [b] }))
    : new OrtBinaryCache(urls).forDevice(device);
  const [config, tokenizer, tokenizerConfig, onnx, ort] = await Promise.all([
    get('/model/config.json').then((r) => r.arrayBuffer()),
    get('/model/tokenizer.json').then((r) => r.arrayBuffer()),
    get('/model/tokenizer_config.json').then((r) => r.arrayBuffer()),
    get('/model/onnx/model.onnx').then((r) => r.arrayBuffer()),
    binaries,
  ]);
  const worker = new Worker('/worker.js');
  const pending = new Map();
  let next = 1;
  worker.onmessage = (e) => pending.get(e.data.id)(e.data);
  worker.onerror = (e) => { for (const r of pending.values()) r({ ok: false, error: 'worker error: ' + e.message }); };
  const call = (req) => new Promise((resolve) => { const id = next++; pending.set(id, resolve); worker.postMessage({ ...req, id }); });
  const files = {
    config: { name: 'config.json', bytes: config },
    tokenizer: { name: 'tokenizer.json', bytes: tokenizer },
    tokenizerConfig: { name: 'tokenizer_config.json', bytes: tokenizerConfig },
    onnx: { name: 'onnx/model.onnx', bytes: onnx },
  };
  const spec = { backend: 'onnx', name: 'gpt-classics', source: { files }, device, runtime: 'onnxruntime-web', wasmBinaries: ort.binaries };
  const loaded = await call({ op: 'load', spec });
  if (!loaded.ok) return { error: loaded.error };
  const first = await call({ op: 'nextLogProbs', context: ids });
  const extended = await call({ op: 'nextLogProbs', context: ids.concat([5]) }); // one step on the cache
  if (!first.ok || !extended.ok) return { error: first.error || extended.error };
  worker.terminate();
  return { device: loaded.result.model.device, first: Array.from(first.result.logProbs), extended: Array.from(extended.result.logProbs) };
};
</script>`;

interface Server {
  url: string;
  /** Paths requested since the last call. */
  takeRequests(): string[];
  close(): void;
}

async function serve(): Promise<Server> {
  // The pages' binary choice, bundled as the pages bundle it.
  const helper = await esbuild.build({
    entryPoints: [path.join(REPO_ROOT, 'src', 'webview', 'ortBinaries.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'error',
  });
  const files: Record<string, string> = {
    '/worker.js': path.join(REPO_ROOT, 'dist', 'webview', 'engineWorker.js'),
    '/ort/asyncify.wasm': path.join(REPO_ROOT, 'dist', 'webview', 'ort-wasm-simd-threaded.asyncify.wasm'),
    '/ort/plain.wasm': path.join(REPO_ROOT, 'dist', 'ort', 'ort-wasm-simd-threaded.wasm'),
  };
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    requests.push(url);
    if (url === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    if (url === '/ortBinaries.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(helper.outputFiles[0].text);
    const file = files[url] ?? (url.startsWith('/model/') ? path.join(MODEL_DIR, url.slice('/model/'.length)) : undefined);
    if (!file || !fs.existsSync(file)) return void res.writeHead(404).end();
    const type = url.endsWith('.js') ? 'text/javascript' : url.endsWith('.wasm') ? 'application/wasm' : 'application/octet-stream';
    res.writeHead(200, { 'content-type': type }).end(fs.readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/`,
    takeRequests: () => requests.splice(0),
    close: () => server.close(),
  };
}

describe('engine Web Worker in headless Chromium (WebGPU and WASM fallback)', function () {
  this.timeout(300000);
  let server: Server;
  let expectedFirst: Float64Array;
  let expectedExtended: Float64Array;
  let ids: number[];

  before(async () => {
    server = await serve();
    const lm = await loadHuggingFaceFolder(MODEL_DIR, 'node');
    ids = lm.tokenizer.encode('It was a fine morning, and Elizabeth walked out', true).map((t) => t.id);
    expectedFirst = await lm.nextLogProbs(ids);
    expectedExtended = await lm.nextLogProbs(ids.concat([5]));
    lm.dispose();
  });
  after(() => server?.close());

  const run = async (args: string[], device: string, shot: string, onlyWebGpuBuild = false) => {
    const browser = await chromium.launch({ executablePath: process.env.LMP_CHROMIUM ?? '/usr/bin/chromium', args, headless: true });
    try {
      const page = await browser.newPage();
      const console: string[] = [];
      page.on('console', (m) => console.push(m.text()));
      server.takeRequests();
      await page.goto(server.url);
      await page.waitForFunction(() => typeof (window as unknown as { runEngine?: unknown }).runEngine === 'function');
      const result = await page.evaluate(
        ([d, i, only]) =>
          (window as unknown as { runEngine: (d: string, i: number[], only: boolean) => Promise<Record<string, unknown>> }).runEngine(
            d as string,
            i as number[],
            only as boolean,
          ),
        [device, ids, onlyWebGpuBuild] as const,
      );
      fs.mkdirSync(RESULTS_DIR, { recursive: true });
      await page.screenshot({ path: path.join(RESULTS_DIR, `${shot}.png`) });
      assert.ok(!result.error, `engine failed: ${result.error}\nbrowser console:\n${console.join('\n')}`);
      return { ...(result as { device: string; first: number[]; extended: number[] }), binaries: server.takeRequests().filter((u) => u.startsWith('/ort/')) };
    } finally {
      await browser.close();
    }
  };

  const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    let m = 0;
    for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
    return m;
  };

  it('runs on WebGPU (SwiftShader) when asked for it, with the cache on the GPU, matching Node within 1e-3', async () => {
    const r = await run(CHROMIUM_ARGS.concat(['--enable-unsafe-webgpu']), 'webgpu', 'browser-engine-webgpu');
    assert.strictEqual(r.device, 'webgpu');
    assert.deepStrictEqual(r.binaries, ['/ort/asyncify.wasm']);
    assert.ok(maxDiff(r.first, expectedFirst) < 1e-3, `prefill differs by ${maxDiff(r.first, expectedFirst)}`);
    assert.ok(maxDiff(r.extended, expectedExtended) < 1e-3, `cached step differs by ${maxDiff(r.extended, expectedExtended)}`);
  });

  it('auto never runs on a software adapter: on SwiftShader it takes the WASM build', async () => {
    const r = await run(CHROMIUM_ARGS.concat(['--enable-unsafe-webgpu']), 'auto', 'browser-engine-auto-swiftshader');
    assert.strictEqual(r.device, 'wasm');
    assert.deepStrictEqual(r.binaries, ['/ort/plain.wasm'], "the page fetches only the WASM build's binary");
    assert.ok(maxDiff(r.first, expectedFirst) < 1e-4, `prefill differs by ${maxDiff(r.first, expectedFirst)}`);
  });

  it('falls back to the WASM build without WebGPU, matching Node within 1e-4', async () => {
    const r = await run(CHROMIUM_ARGS.concat(['--disable-gpu']), 'auto', 'browser-engine-wasm');
    assert.strictEqual(r.device, 'wasm');
    assert.deepStrictEqual(r.binaries, ['/ort/plain.wasm'], "the page fetches only the WASM build's binary");
    assert.ok(maxDiff(r.first, expectedFirst) < 1e-4, `prefill differs by ${maxDiff(r.first, expectedFirst)}`);
    assert.ok(maxDiff(r.extended, expectedExtended) < 1e-4, `cached step differs by ${maxDiff(r.extended, expectedExtended)}`);
  });

  it('runs the WebGPU build on the CPU when the worker gets no adapter, matching Node within 1e-4', async () => {
    const r = await run(CHROMIUM_ARGS.concat(['--disable-gpu']), 'auto', 'browser-engine-webgpu-build-on-cpu', true);
    assert.strictEqual(r.device, 'wasm');
    assert.ok(maxDiff(r.first, expectedFirst) < 1e-4, `prefill differs by ${maxDiff(r.first, expectedFirst)}`);
    assert.ok(maxDiff(r.extended, expectedExtended) < 1e-4, `cached step differs by ${maxDiff(r.extended, expectedExtended)}`);
  });
});
