/**
 * The neural model on WebAssembly in a browser (headless Chromium, one thread: webviews are not
 * cross-origin isolated): the engine's Web Worker against transformers.js on the same model
 * folder, same prompt, same number of greedy tokens, in the same page; and bare onnxruntime-web
 * loops on its two builds, which tell the runtime's share from the engine's.
 */
import * as esbuild from 'esbuild';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { chromium } from 'playwright-core';
import { checkSameTokens, median, type NeuralBenchResult, type RunMeasure } from '../src/node/neuralBench';

const ROOT = path.resolve(__dirname, '..', '..');

const PAGE = `<!doctype html><meta charset="utf-8"><title>bench</title><body>bench
<script type="module">
import { AutoModelForCausalLM, AutoTokenizer, Tensor, env } from '/tjs.js';
const now = () => performance.now() / 1000;
const get = (p) => fetch(p).then((r) => { if (!r.ok) throw new Error(p + ': ' + r.status); return r; });
const argmax = (a) => { let b = 0; for (let i = 1; i < a.length; i++) if (a[i] > a[b]) b = i; return b; };

// Each runner: setup (load) once, then once(run) measures one prefill and one greedy decode.
window.runners = {};
window.setupEngine = async (ids, text, decode) => {
  const t0 = now();
  const [config, tokenizer, tokenizerConfig, onnx, wasmBinary] = await Promise.all([
    get('/model/config.json').then((r) => r.arrayBuffer()), get('/model/tokenizer.json').then((r) => r.arrayBuffer()),
    get('/model/tokenizer_config.json').then((r) => r.arrayBuffer()), get('/model/onnx/model.onnx').then((r) => r.arrayBuffer()),
    get('/ort.wasm').then((r) => r.arrayBuffer()),
  ]);
  const worker = new Worker('/worker.js');
  const pending = new Map();
  let next = 1;
  worker.onmessage = (e) => pending.get(e.data.id)(e.data);
  // onPartial sees streamed tokens; the promise settles with the final response.
  const call = (req, onPartial) => new Promise((resolve, reject) => {
    const id = next++;
    pending.set(id, (r) => (!r.ok ? reject(new Error(r.error)) : r.partial ? onPartial(r.partial) : resolve(r)));
    worker.postMessage({ ...req, id });
  });
  const files = {
    config: { name: 'config.json', bytes: config }, tokenizer: { name: 'tokenizer.json', bytes: tokenizer },
    tokenizerConfig: { name: 'tokenizer_config.json', bytes: tokenizerConfig }, onnx: { name: 'onnx/model.onnx', bytes: onnx },
  };
  await call({ op: 'load', spec: { backend: 'onnx', name: 'gpt-classics', source: { files }, device: 'wasm', runtime: 'onnxruntime-web', wasmBinaries: { wasm: wasmBinary } } });
  window.runners.engine = {
    runner: 'engine Web Worker (onnxruntime-web WASM, 1 thread)',
    loadSeconds: now() - t0,
    // In transformers.js's order: prefill from the prompt's token ids (one request); decode, as
    // the playground runs it (a generate request whose tokens stream back); time to first token
    // from the prompt's text. Each starts with the cache forgotten, so that each prefills afresh.
    async once(r) {
      const fresh = () => call({ op: 'forgetContext' });
      await fresh();
      const a = now();
      await call({ op: 'nextLogProbs', context: ids });
      const prefill = now() - a;
      await fresh();
      const b = now();
      let streamed = 0;
      const done = await call({ op: 'generate', prompt: text, options: { maxTokens: decode, temperature: 0 } }, () => (streamed ||= now() - b));
      const total = now() - b;
      await fresh();
      const c = now();
      await call({ op: 'generate', prompt: text, options: { maxTokens: 1, temperature: 0 } }, () => undefined);
      const first = now() - c;
      const tokens = done.result.completions[0].tokens.map((t) => t.id);
      return { prefill: ids.length / prefill, decode: (tokens.length - 1) / Math.max(1e-9, total - streamed), first, tokens };
    },
  };
};

window.setupTransformersJs = async (ids, text, decode) => {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = '/models/';
  env.backends.onnx.wasm.wasmPaths = '/tjs-ort/';
  env.backends.onnx.wasm.numThreads = 1;
  const t0 = now();
  const model = await AutoModelForCausalLM.from_pretrained('gpt-classics', { device: 'wasm', dtype: 'fp32' });
  const tokenizer = await AutoTokenizer.from_pretrained('gpt-classics');
  const input_ids = new Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]);
  const attention_mask = new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]);
  const gen = (n) => model.generate({ input_ids, attention_mask, max_new_tokens: n, min_new_tokens: n, do_sample: false });
  window.runners.tjs = {
    runner: 'transformers.js 4.3 generate (onnxruntime-web WASM, 1 thread)',
    loadSeconds: now() - t0,
    // Prefill: the prompt's token ids to one new token. Time to first token: from the text.
    async once() {
      const a = now(); await gen(1); const prefill = now() - a;
      const b = now(); const out = await gen(decode); const total = now() - b;
      const c = now();
      const encoded = await tokenizer(text);
      await model.generate({ ...encoded, max_new_tokens: 1, do_sample: false });
      const first = now() - c;
      const tokens = out.tolist()[0].slice(ids.length).map(Number);
      return { prefill: ids.length / prefill, decode: (decode - 1) / Math.max(1e-9, total - prefill), first, tokens };
    },
  };
};
// The reference: a hand-written greedy loop over onnxruntime-web, no tokenizer, sampler or scorer,
// on either of its builds: the WASM build (which the engine runs on the CPU) or the WebGPU build's
// asyncify binary (which transformers.js runs for its wasm device).
window.setupBare = async (build, ids, decode) => {
  const { ort } = await import('/ort-' + build + '.js');
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmBinary = await get('/ort-' + build + '.wasm').then((r) => r.arrayBuffer());
  const config = await get('/model/config.json').then((r) => r.json());
  const onnx = await get('/model/onnx/model.onnx').then((r) => r.arrayBuffer());
  const t0 = now();
  const session = await ort.InferenceSession.create(new Uint8Array(onnx), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const loadSeconds = now() - t0;
  const L = config.n_layer, H = config.n_head, D = config.n_embd / config.n_head, V = config.vocab_size;
  // The outputs a step needs: gpt-classics also has every layer's hidden states and attentions, for the inside views.
  const fetches = ['logits'];
  for (let l = 0; l < L; l++) fetches.push('present.' + l + '.key', 'present.' + l + '.value');
  const step = async (tokens, pastLength, past) => {
    const T = tokens.length;
    const feeds = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(tokens, BigInt), [1, T]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(pastLength + T).fill(1n), [1, pastLength + T]),
      position_ids: new ort.Tensor('int64', BigInt64Array.from({ length: T }, (_, i) => BigInt(pastLength + i)), [1, T]),
    };
    for (let l = 0; l < L; l++) { feeds['past_key_values.' + l + '.key'] = past[2 * l]; feeds['past_key_values.' + l + '.value'] = past[2 * l + 1]; }
    const out = await session.run(feeds, fetches);
    const present = [];
    for (let l = 0; l < L; l++) present.push(out['present.' + l + '.key'], out['present.' + l + '.value']);
    return { next: argmax(out.logits.data.subarray((T - 1) * V, T * V)), present };
  };
  const empty = () => Array.from({ length: 2 * L }, () => new ort.Tensor('float32', new Float32Array(0), [1, H, 0, D]));
  window.runners['bare-' + build] = {
    runner: 'bare onnxruntime-web loop, ' + (build === 'wasm' ? 'WASM build' : 'WebGPU build (asyncify binary) on the CPU'),
    loadSeconds,
    async once() {
      const a = now();
      let { next, present } = await step(ids, 0, empty());
      const b = now();
      const tokens = [next];
      for (let i = 1; i < decode; i++) {
        ({ next, present } = await step([next], ids.length + i - 1, present));
        tokens.push(next);
      }
      const c = now();
      return { prefill: ids.length / (b - a), decode: (decode - 1) / (c - b), first: b - a, tokens };
    },
  };
};
window.once = (name, r) => window.runners[name].once(r);
window.describe = (name) => ({ runner: window.runners[name].runner, loadSeconds: window.runners[name].loadSeconds });
window.ready = true;
</script>`;

export async function benchBrowserWasm(modelDir: string, prompt: { text: string; ids: number[] }, decode: number, runs: number): Promise<NeuralBenchResult[]> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-bench-'));
  // transformers.js's browser build with its own onnxruntime-web, as a user's bundler would make it.
  await esbuild.build({
    stdin: { contents: "export { AutoModelForCausalLM, AutoTokenizer, Tensor, env } from '@huggingface/transformers';", resolveDir: ROOT },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    outfile: path.join(tmp, 'tjs.js'),
    logLevel: 'error',
  });
  for (const build of ['wasm', 'webgpu']) {
    await esbuild.build({
      stdin: { contents: `export * as ort from 'onnxruntime-web/${build}';`, resolveDir: ROOT },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      outfile: path.join(tmp, `ort-${build}.js`),
      logLevel: 'error',
    });
  }
  // transformers.js pins its own onnxruntime-web (a nested install when it differs from ours).
  const nested = path.join(ROOT, 'node_modules', '@huggingface', 'transformers', 'node_modules', 'onnxruntime-web', 'dist');
  const tjsOrt = fs.existsSync(nested) ? nested : path.join(ROOT, 'node_modules', 'onnxruntime-web', 'dist');
  const name = path.basename(modelDir);
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (url === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    const file =
      url === '/tjs.js' || url === '/ort-wasm.js' || url === '/ort-webgpu.js'
        ? path.join(tmp, url.slice(1))
        : url === '/ort-wasm.wasm'
          ? path.join(ROOT, 'node_modules', 'onnxruntime-web', 'dist', 'ort-wasm-simd-threaded.wasm')
          : url === '/ort-webgpu.wasm'
            ? path.join(ROOT, 'node_modules', 'onnxruntime-web', 'dist', 'ort-wasm-simd-threaded.asyncify.wasm')
            : url === '/worker.js'
              ? path.join(ROOT, 'dist', 'webview', 'engineWorker.js')
              : url === '/ort.wasm'
                ? path.join(ROOT, 'dist', 'ort', 'ort-wasm-simd-threaded.wasm')
                : url.startsWith('/tjs-ort/')
                  ? path.join(tjsOrt, url.slice('/tjs-ort/'.length))
                  : url.startsWith('/model/')
                    ? path.join(modelDir, url.slice('/model/'.length))
                    : url.startsWith(`/models/${name}/`)
                      ? path.join(modelDir, url.slice(`/models/${name}/`.length))
                      : undefined;
    if (!file || !fs.existsSync(file)) return void res.writeHead(404).end();
    const type = /\.m?js$/.test(file)
      ? 'text/javascript'
      : file.endsWith('.wasm')
        ? 'application/wasm'
        : file.endsWith('.json')
          ? 'application/json'
          : 'application/octet-stream';
    res.writeHead(200, { 'content-type': type }).end(fs.readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const browser = await chromium.launch({
    executablePath: process.env.LMP_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless=new', '--disable-gpu'],
  });
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(600_000);
    await page.goto(`http://127.0.0.1:${(server.address() as { port: number }).port}/`);
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
    await page.evaluate(([i, t, d]) => (window as unknown as { setupEngine: (...a: unknown[]) => Promise<void> }).setupEngine(i, t, d), [
      prompt.ids,
      prompt.text,
      decode,
    ] as const);
    await page.evaluate(([i, t, d]) => (window as unknown as { setupTransformersJs: (...a: unknown[]) => Promise<void> }).setupTransformersJs(i, t, d), [
      prompt.ids,
      prompt.text,
      decode,
    ] as const);
    for (const build of ['wasm', 'webgpu']) {
      await page.evaluate(([b, i, d]) => (window as unknown as { setupBare: (...a: unknown[]) => Promise<void> }).setupBare(b, i, d), [
        build,
        prompt.ids,
        decode,
      ] as const);
    }
    // The runners take turns run by run, so that the machine's load drifts over all of them alike.
    const names = ['engine', 'tjs', 'bare-wasm', 'bare-webgpu'] as const;
    const samples = names.map(() => ({ prefill: [] as number[], decode: [] as number[], first: [] as number[] }));
    // Each run, every runner must decode the same greedy tokens as the engine.
    for (let r = 0; r < runs + 1; r++) {
      let reference: { runner: string; tokens: number[] } | undefined;
      for (const [k, name] of names.entries()) {
        const m = await page.evaluate(([n, run]) => (window as unknown as { once: (n: string, r: number) => Promise<RunMeasure> }).once(n, run), [
          name,
          r,
        ] as const);
        if (reference) checkSameTokens(reference, { runner: name, tokens: m.tokens });
        else reference = { runner: name, tokens: m.tokens };
        if (r === 0) continue; // warm-up
        samples[k].prefill.push(m.prefill);
        samples[k].decode.push(m.decode);
        samples[k].first.push(m.first);
      }
    }
    return await Promise.all(
      names.map(async (name, k): Promise<NeuralBenchResult> => ({
        ...(await page.evaluate((n) => (window as unknown as { describe: (n: string) => { runner: string; loadSeconds: number } }).describe(n), name)),
        prefillTokensPerSecond: median(samples[k].prefill),
        decodeTokensPerSecond: median(samples[k].decode),
        firstTokenSeconds: median(samples[k].first),
        runs: samples[k],
      })),
    );
  } finally {
    await browser.close();
    server.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
