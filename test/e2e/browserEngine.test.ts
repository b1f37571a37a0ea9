/**
 * The engine's browser Web Worker in headless Chromium, fed by the webview pages' own binary
 * choice (ortBinaries.ts): on WebGPU (SwiftShader) when asked for it, on the WASM build with device
 * auto there (a software adapter) and with the GPU disabled; all compared with the Node (native)
 * result for the same text. Then the Hugging Face fixtures as the ONNX backend lists their files
 * for a webview: weights as external data (one file, two chunks), a float16 cache.
 */
import * as esbuild from 'esbuild';
import * as assert from 'assert';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { chromium } from 'playwright-core';
import { variantOf, type Dtype } from '../../src/core/neural/onnxVariants';
import { onnxBackend } from '../../src/node/backends/onnxBackend';
import { loadHuggingFaceFolder } from '../../src/node/neuralLoader';
import { ONNX_FIXTURES } from '../unit/helpers';
import { CHROMIUM_ARGS, RESULTS_DIR } from './workbench';
import { REPO_ROOT } from '../../scripts/codeServer';

const MODEL_DIR = path.join(REPO_ROOT, 'models', 'gpt-classics');

const PAGE = `<!doctype html><meta charset="utf-8"><title>engine test</title><body>engine test
<script type="module">
import { OrtBinaryCache, webGpuAdapter } from '/ortBinaries.js';
window.adapterReport = () => webGpuAdapter();
const urls = { webgpu: '/ort/asyncify.wasm', wasm: '/ort/plain.wasm' };
window.runEngine = async (device, ids, onlyWebGpuBuild, model) => {
  const get = (p) => fetch(p).then((r) => { if (!r.ok) throw new Error(p + ': ' + r.status); return r; });
  const binaries = onlyWebGpuBuild
    ? get(urls.webgpu).then((r) => r.arrayBuffer()).then((b) => ({ binaries: { webgpu: b }, transfer: [b] }))
    : new OrtBinaryCache(urls).forDevice(device);
  const roles = Object.keys(model.files);
  const [ort, ...buffers] = await Promise.all([binaries, ...roles.map((role) => get(model.files[role].url).then((r) => r.arrayBuffer()))]);
  const worker = new Worker('/worker.js');
  const pending = new Map();
  let next = 1;
  worker.onmessage = (e) => pending.get(e.data.id)(e.data);
  worker.onerror = (e) => { for (const r of pending.values()) r({ ok: false, error: 'worker error: ' + e.message }); };
  const call = (req) => new Promise((resolve) => { const id = next++; pending.set(id, resolve); worker.postMessage({ ...req, id }); });
  const files = Object.fromEntries(roles.map((role, i) => [role, { name: model.files[role].name, bytes: buffers[i] }]));
  const spec = { backend: 'onnx', name: model.name, source: { files }, device, runtime: 'onnxruntime-web', wasmBinaries: ort.binaries };
  const loaded = await call({ op: 'load', spec });
  if (!loaded.ok) return { error: loaded.error };
  const first = await call({ op: 'nextLogProbs', context: ids });
  const extended = await call({ op: 'nextLogProbs', context: ids.concat([5]) }); // one step on the cache
  if (!first.ok || !extended.ok) return { error: first.error || extended.error };
  worker.terminate();
  return {
    device: loaded.result.model.device,
    precision: loaded.result.model.precision,
    first: Array.from(first.result.logProbs),
    extended: Array.from(extended.result.logProbs),
  };
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
    const file =
      files[url] ??
      (url.startsWith('/model/') ? path.join(MODEL_DIR, url.slice('/model/'.length)) : undefined) ??
      (url.startsWith('/fixtures/') && !url.includes('..') ? path.join(ONNX_FIXTURES, url.slice('/fixtures/'.length)) : undefined);
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

/** A model as the page's runEngine takes it: its name and its files by role (where the page fetches each, and its name in the model). */
interface PageModel {
  name: string;
  files: Record<string, { url: string; name: string }>;
}

/** gpt-classics' full-precision graph. */
const GPT_CLASSICS: PageModel = {
  name: 'gpt-classics',
  files: Object.fromEntries(
    Object.entries({ config: 'config.json', tokenizer: 'tokenizer.json', tokenizerConfig: 'tokenizer_config.json', onnx: 'onnx/model.onnx' }).map(
      ([role, name]) => [role, { url: `/model/${name}`, name }],
    ),
  ),
};

interface BrowserResult {
  device: string;
  precision?: string;
  first: number[];
  extended: number[];
  binaries: string[];
}

/** Loads `model` into the engine worker of a page in a new headless Chromium, and runs `ids` and one cached step more. */
async function runInBrowser(
  server: Server,
  args: string[],
  device: string,
  shot: string,
  ids: number[],
  model: PageModel,
  onlyWebGpuBuild = false,
): Promise<BrowserResult> {
  const browser = await chromium.launch({ executablePath: process.env.LMP_CHROMIUM ?? '/usr/bin/chromium', args, headless: true });
  try {
    const page = await browser.newPage();
    const console: string[] = [];
    page.on('console', (m) => console.push(m.text()));
    server.takeRequests();
    await page.goto(server.url);
    await page.waitForFunction(() => typeof (window as unknown as { runEngine?: unknown }).runEngine === 'function');
    const result = await page.evaluate(
      ([d, i, only, m]) =>
        (window as unknown as { runEngine: (d: string, i: number[], only: boolean, m: PageModel) => Promise<Record<string, unknown>> }).runEngine(
          d as string,
          i as number[],
          only as boolean,
          m as PageModel,
        ),
      [device, ids, onlyWebGpuBuild, model] as const,
    );
    fs.mkdirSync(RESULTS_DIR, { recursive: true });
    await page.screenshot({ path: path.join(RESULTS_DIR, `${shot}.png`) });
    assert.ok(!result.error, `engine failed: ${result.error}\nbrowser console:\n${console.join('\n')}`);
    return { ...(result as unknown as Omit<BrowserResult, 'binaries'>), binaries: server.takeRequests().filter((u) => u.startsWith('/ort/')) };
  } finally {
    await browser.close();
  }
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

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

  const run = (args: string[], device: string, shot: string, onlyWebGpuBuild = false) =>
    runInBrowser(server, args, device, shot, ids, GPT_CLASSICS, onlyWebGpuBuild);

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

describe('Hugging Face ONNX fixtures in the browser engine (external data, float16 cache)', function () {
  this.timeout(300000);
  let server: Server;
  before(async () => (server = await serve()));
  after(() => server?.close());

  /** The files the ONNX backend lists for a page running `graph` of the fixture `name`, served from /fixtures/. */
  const pageModel = (name: string, graph: string, runtime: 'wasm' | 'webgpu'): PageModel => {
    const location = path.join(ONNX_FIXTURES, name);
    const listed = onnxBackend.webviewFiles!({ location, name }, { dtype: { setting: variantOf(graph)! }, webview: { runtime } });
    return { name, files: Object.fromEntries(Object.entries(listed.files).map(([role, f]) => [role, { url: `/fixtures/${name}/${f.name}`, name: f.name }])) };
  };

  /** Node's numbers for the same graph: the reference's first 40 tokens, and one cached step more. */
  const expected = async (name: string, dtype: Dtype) => {
    const ref = JSON.parse(fs.readFileSync(path.join(ONNX_FIXTURES, name, 'reference.json'), 'utf8')) as { input_ids: number[] };
    const ids = ref.input_ids.slice(0, 40);
    const lm = await loadHuggingFaceFolder(path.join(ONNX_FIXTURES, name), name, { device: 'native', dtype: { setting: dtype } });
    try {
      return { ids, first: await lm.nextLogProbs(ids), extended: await lm.nextLogProbs(ids.concat([5])) };
    } finally {
      await lm.dispose();
    }
  };

  // SwiftShader sums float32 in another order than the CPU: 2e-3 apart at most on this model's sharp distributions (gpt-classics: 1e-3).
  it('the Llama with its weights in model.onnx_data: sent as external data, on WASM and on WebGPU, as Node computes it', async () => {
    const want = await expected('tiny-llama', 'fp32');
    for (const [args, device, runtime, bound] of [
      [['--disable-gpu'], 'auto', 'wasm', 1e-4],
      [['--enable-unsafe-webgpu'], 'webgpu', 'webgpu', 5e-3],
    ] as const) {
      const model = pageModel('tiny-llama', 'onnx/model.onnx', runtime);
      assert.deepStrictEqual(model.files['data:model.onnx_data'], { url: '/fixtures/tiny-llama/onnx/model.onnx_data', name: 'onnx/model.onnx_data' });
      const r = await runInBrowser(server, CHROMIUM_ARGS.concat(args), device, `browser-engine-llama-external-${runtime}`, want.ids, model);
      assert.deepStrictEqual([r.device, r.precision], [runtime, 'fp32']);
      assert.ok(maxDiff(r.first, want.first) < bound, `${runtime}: prefill differs by ${maxDiff(r.first, want.first)}`);
      assert.ok(maxDiff(r.extended, want.extended) < bound, `${runtime}: cached step differs by ${maxDiff(r.extended, want.extended)}`);
    }
  });

  it('the Qwen2 with its weights in two chunks and num_logits_to_keep, on WASM', async () => {
    const want = await expected('tiny-qwen2', 'fp32');
    const model = pageModel('tiny-qwen2', 'onnx/model.onnx', 'wasm');
    // model_split.onnx is not a variant name: its files are listed here as the backend lists a graph's data.
    const split: PageModel = {
      name: 'tiny-qwen2',
      files: {
        ...model.files,
        onnx: { url: '/fixtures/tiny-qwen2/onnx/model_split.onnx', name: 'onnx/model_split.onnx' },
        'data:model_split.onnx_data': { url: '/fixtures/tiny-qwen2/onnx/model_split.onnx_data', name: 'onnx/model_split.onnx_data' },
        'data:model_split.onnx_data_1': { url: '/fixtures/tiny-qwen2/onnx/model_split.onnx_data_1', name: 'onnx/model_split.onnx_data_1' },
      },
    };
    const r = await runInBrowser(server, CHROMIUM_ARGS.concat(['--disable-gpu']), 'auto', 'browser-engine-qwen2-split', want.ids, split);
    assert.ok(maxDiff(r.first, want.first) < 1e-4, `prefill differs by ${maxDiff(r.first, want.first)}`);
    assert.ok(maxDiff(r.extended, want.extended) < 1e-4, `cached step differs by ${maxDiff(r.extended, want.extended)}`);
  });

  it('a float16 graph on an adapter without shader-f16 (SwiftShader): the load fails naming the graph and the variants to use', async () => {
    const want = await expected('tiny-llama', 'fp16');
    await assert.rejects(
      runInBrowser(
        server,
        CHROMIUM_ARGS.concat(['--enable-unsafe-webgpu']),
        'webgpu',
        'browser-engine-fp16-without-f16',
        want.ids,
        pageModel('tiny-llama', 'onnx/model_fp16.onnx', 'webgpu'),
      ),
      /tiny-llama\/onnx\/model_fp16\.onnx: .*requires f16 but the device does not support it.*This is a float16 graph \(fp16\), which webgpu may not run: set lmPlayground\.dtype to fp32, q4 or int8/,
    );
  });

  it('the page sees that SwiftShader has no shader-f16, and dtype auto then sends no float16 graph', async () => {
    const browser = await chromium.launch({
      executablePath: process.env.LMP_CHROMIUM ?? '/usr/bin/chromium',
      args: CHROMIUM_ARGS.concat(['--enable-unsafe-webgpu']),
      headless: true,
    });
    try {
      const page = await browser.newPage();
      await page.goto(server.url);
      await page.waitForFunction(() => typeof (window as unknown as { adapterReport?: unknown }).adapterReport === 'function');
      const report = await page.evaluate(() =>
        (window as unknown as { adapterReport: () => Promise<{ present: boolean; float16?: boolean }> }).adapterReport(),
      );
      assert.deepStrictEqual([report.present, report.float16], [true, false]);
    } finally {
      await browser.close();
    }
    const location = path.join(ONNX_FIXTURES, 'tiny-llama');
    const files = (float16: boolean) =>
      onnxBackend.webviewFiles!({ location, name: 'x' }, { dtype: { setting: 'auto' }, webview: { runtime: 'webgpu', float16 } }).files.onnx.name;
    assert.strictEqual(files(true), 'onnx/model_q4f16.onnx');
    assert.strictEqual(files(false), 'onnx/model_q4.onnx');
  });

  it('the Llama in 4 bits (MatMulNBits), what auto sends to that adapter, runs on WebGPU as Node computes it', async () => {
    const want = await expected('tiny-llama', 'q4');
    const r = await runInBrowser(
      server,
      CHROMIUM_ARGS.concat(['--enable-unsafe-webgpu']),
      'webgpu',
      'browser-engine-llama-q4-webgpu',
      want.ids,
      pageModel('tiny-llama', 'onnx/model_q4.onnx', 'webgpu'),
    );
    assert.deepStrictEqual([r.device, r.precision], ['webgpu', 'q4']);
    assert.ok(maxDiff(r.first, want.first) < 5e-3, `prefill differs by ${maxDiff(r.first, want.first)}`);
    assert.ok(maxDiff(r.extended, want.extended) < 5e-3, `cached step differs by ${maxDiff(r.extended, want.extended)}`);
  });

  it('the Llama in float16 (float16 cache and logits) on WASM, as Node computes it', async () => {
    const want = await expected('tiny-llama', 'fp16');
    const r = await runInBrowser(
      server,
      CHROMIUM_ARGS.concat(['--disable-gpu']),
      'auto',
      'browser-engine-llama-fp16',
      want.ids,
      pageModel('tiny-llama', 'onnx/model_fp16.onnx', 'wasm'),
    );
    assert.deepStrictEqual([r.device, r.precision], ['wasm', 'fp16']);
    assert.ok(maxDiff(r.first, want.first) < 5e-3, `prefill differs by ${maxDiff(r.first, want.first)}`);
    assert.ok(maxDiff(r.extended, want.extended) < 5e-3, `cached step differs by ${maxDiff(r.extended, want.extended)}`);
  });
});
