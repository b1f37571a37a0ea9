/** Device auto: the adapter classification, the decode measurement and the choice; the page's binary choice on a software adapter. */
import * as assert from 'assert';
import type { LanguageModel } from '../../src/core/model';
import { comparePercent, compareProgressMessage } from '../../src/editor/compareProgress';
import { AUTO_DECODE_STEPS, AUTO_MEASURE_TIMEOUT_MS, chooseAutoDevice, measureDecode, withinDeadline, type Schedule } from '../../src/vscode/autoDevice';
import { classifyAdapter } from '../../src/webview/gpuAdapter';

describe('WebGPU adapter classification', () => {
  it('no adapter: not present', () => {
    assert.deepStrictEqual(classifyAdapter(undefined), { present: false, software: false, name: 'none' });
  });

  it('software renderers are software, whatever field names them', () => {
    const cases = [
      { vendor: 'google', architecture: 'swiftshader' }, // Chromium's SwiftShader (these tests' headless Chromium)
      { vendor: 'mesa', device: 'llvmpipe (LLVM 15.0.6, 256 bits)' },
      { vendor: 'mesa', description: 'lavapipe' },
      { description: 'Microsoft Basic Render Driver' }, // Windows' WARP
      { vendor: 'nvidia', architecture: 'ampere', isFallbackAdapter: true }, // the browser says so itself
    ];
    for (const c of cases) assert.strictEqual(classifyAdapter(c).software, true, JSON.stringify(c));
  });

  it('real GPUs are not, and are named for the log', () => {
    for (const c of [
      { vendor: 'nvidia', architecture: 'ampere' },
      { vendor: 'apple', architecture: 'metal-3' },
      { vendor: 'intel', architecture: 'gen-12lp', isFallbackAdapter: false },
      {},
    ]) {
      const r = classifyAdapter(c);
      assert.strictEqual(r.software, false, JSON.stringify(c));
      assert.strictEqual(r.present, true);
    }
    assert.strictEqual(classifyAdapter({ vendor: 'nvidia', architecture: 'ampere' }).name, 'nvidia ampere');
    assert.strictEqual(classifyAdapter({}).name, 'unnamed adapter');
  });
});

/** A model whose every step takes `ms` on a fake clock; records the contexts it was asked for. */
function timedModel(ms: number, clock: { t: number }): LanguageModel & { contexts: number[][] } {
  const contexts: number[][] = [];
  return {
    contexts,
    async nextLogProbs(context: readonly number[]) {
      contexts.push([...context]);
      clock.t += ms;
      return new Float64Array(2);
    },
  } as unknown as LanguageModel & { contexts: number[][] };
}

describe('device auto: measuring and choosing', () => {
  const ids = Array.from({ length: 30 }, (_, i) => i);

  it('times single-token steps after a prefill and a warm-up, each one token longer', async () => {
    const clock = { t: 0 };
    const model = timedModel(7, clock);
    const speed = await measureDecode(model, ids, 4, () => clock.t);
    assert.deepStrictEqual(speed, { msPerToken: 7, steps: 4 });
    const lengths = model.contexts.map((c) => c.length);
    assert.deepStrictEqual(lengths, [25, 26, 27, 28, 29, 30], 'prefill, warm-up, then 4 steps of one token each');
  });

  it('refuses a sample too short for the steps', async () => {
    const clock = { t: 0 };
    await assert.rejects(
      measureDecode(timedModel(1, clock), [1, 2, 3], AUTO_DECODE_STEPS, () => clock.t),
      /needs/,
    );
  });

  it('keeps the faster device and says what it measured', () => {
    const slow = { msPerToken: 900, steps: 8 };
    const fast = { msPerToken: 3, steps: 8 };
    const native = chooseAutoDevice(slow, fast, 'native', 'nvidia ampere');
    assert.strictEqual(native.device, 'native');
    assert.match(native.summary, /WebGPU \(nvidia ampere\) 900\.0 ms\/token, native 3\.0 ms\/token: runs on native/);
    assert.strictEqual(chooseAutoDevice(fast, slow, 'native', 'nvidia ampere').device, 'webgpu');
    assert.strictEqual(chooseAutoDevice(fast, fast, 'wasm', 'x').device, 'native', 'a tie stays in the worker thread');
  });
});

describe("the page's binary choice (ortBinaries) on a software adapter", () => {
  const g = globalThis as unknown as { navigator?: unknown; fetch: unknown };
  let saved: { navigator: PropertyDescriptor | undefined; fetch: unknown };
  const modulePath = require.resolve('../../src/webview/ortBinaries');
  beforeEach(() => (saved = { navigator: Object.getOwnPropertyDescriptor(globalThis, 'navigator'), fetch: g.fetch }));
  afterEach(() => {
    if (saved.navigator) Object.defineProperty(globalThis, 'navigator', saved.navigator);
    else delete g.navigator;
    g.fetch = saved.fetch;
    delete require.cache[modulePath];
  });

  /** A fresh module (the adapter is asked once per context) in a context with this adapter. */
  function withAdapter(adapter: unknown): typeof import('../../src/webview/ortBinaries') {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: { requestAdapter: async () => adapter } }, configurable: true, writable: true });
    const fetched: string[] = [];
    g.fetch = async (url: string) => (fetched.push(url), { ok: true, arrayBuffer: async () => new ArrayBuffer(4) });
    delete require.cache[modulePath];
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded after the globals it reads are set
    return require(modulePath);
  }

  const urls = { webgpu: 'asyncify.wasm', wasm: 'plain.wasm' };
  const swiftShader = { info: { vendor: 'google', architecture: 'swiftshader', device: '', description: '' }, isFallbackAdapter: false };

  it('auto sends the WASM build on SwiftShader; webgpu (asked for) still gets the WebGPU build', async () => {
    const m = withAdapter(swiftShader);
    assert.deepStrictEqual(Object.keys((await new m.OrtBinaryCache(urls).forDevice('auto')).binaries), ['wasm']);
    assert.deepStrictEqual(Object.keys((await new m.OrtBinaryCache(urls).forDevice('webgpu')).binaries), ['webgpu']);
    assert.strictEqual(await m.hasWebGpuAdapter(), false);
    assert.strictEqual(await m.hasWebGpuAdapter('webgpu'), true);
  });

  it('auto sends the WebGPU build on a real GPU, read from requestAdapterInfo() on older browsers', async () => {
    const m = withAdapter({ requestAdapterInfo: async () => ({ vendor: 'nvidia', architecture: 'ampere' }) });
    assert.deepStrictEqual(Object.keys((await new m.OrtBinaryCache(urls).forDevice('auto')).binaries), ['webgpu']);
    assert.strictEqual((await m.webGpuAdapter()).name, 'nvidia ampere');
  });
});

describe('Compare Models progress', () => {
  it('says which model and what share is done, as a percentage', () => {
    assert.strictEqual(compareProgressMessage('ngram-classics', 0, 3), 'ngram-classics (1 of 3) · 0%');
    assert.strictEqual(compareProgressMessage('gpt-classics', 2, 3), 'gpt-classics (3 of 3) · 66%');
  });

  it('counts the share of the text the model being scored has done (drive13 M3: 0% for most of a long run)', () => {
    assert.strictEqual(compareProgressMessage('gpt-classics', 0, 3, 0.5), 'gpt-classics (1 of 3) · 16%');
    assert.strictEqual(compareProgressMessage('big5.arpa', 2, 3, 0.9), 'big5.arpa (3 of 3) · 96%');
    // A share past its bounds (a count that runs over the text's tokens) stays within its model.
    assert.strictEqual(comparePercent(1, 3, 1.2), 66);
    assert.strictEqual(comparePercent(2, 3, 1), 100);
    assert.strictEqual(comparePercent(0, 2, -1), 0);
  });
});

describe('device auto: a measurement that never ends', () => {
  /** Timers run by hand: `fire()` runs every timer still set. */
  function manual(): { schedule: Schedule; fire(): void; set(): number } {
    const timers = new Set<() => void>();
    return {
      schedule: (run) => {
        timers.add(run);
        return () => timers.delete(run);
      },
      fire: () => [...timers].forEach((r) => r()),
      set: () => timers.size,
    };
  }

  it('fails at the deadline when the page stops answering (the model then stays in the worker thread)', async () => {
    const hung = { nextLogProbs: () => new Promise<Float64Array>(() => undefined) } as unknown as LanguageModel;
    const timers = manual();
    const measuring = withinDeadline(
      measureDecode(
        hung,
        Array.from({ length: 30 }, (_, i) => i),
      ),
      AUTO_MEASURE_TIMEOUT_MS,
      'the measurement on the GPU',
      timers.schedule,
    );
    timers.fire();
    await assert.rejects(measuring, /the measurement on the GPU took more than 15 s/);
  });

  it('passes a result or an error through and stops its timer', async () => {
    const timers = manual();
    assert.strictEqual(await withinDeadline(Promise.resolve(3), 1000, 'x', timers.schedule), 3);
    await assert.rejects(withinDeadline(Promise.reject(new Error('lost device')), 1000, 'x', timers.schedule), /lost device/);
    assert.strictEqual(timers.set(), 0);
  });
});
