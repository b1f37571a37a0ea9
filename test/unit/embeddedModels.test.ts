/**
 * The embedded models as the package ships them: gpt-classics only with its int8 graph, so that,
 * loaded by name, it runs that graph in a checkout of the repository (which also holds the
 * full-precision one) exactly as it does installed.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { VariantRuntime } from '../../src/core/neural/onnxVariants';
import { embeddedModelsDir, openOptions, recognizeModel } from '../../src/node/modelLoader';
import { chooseFolderGraph, loadHuggingFaceFolder } from '../../src/node/neuralLoader';

describe('embedded models as shipped', () => {
  const embedded = embeddedModelsDir();
  const folder = path.join(embedded, 'gpt-classics');

  it('gpt-classics has an int8 graph, the one the package keeps', () => {
    assert.ok(fs.existsSync(path.join(folder, 'onnx', 'model_quantized.onnx')));
    const ignore = fs.readFileSync(path.join(embedded, '..', '.vscodeignore'), 'utf8').split('\n');
    assert.ok(ignore.includes('!models/*/onnx/*_quantized.onnx'), 'the package keeps the int8 graphs');
    assert.ok(!ignore.some((l) => l === '!models/**' || l === '!models/*/onnx/**'), 'and nothing else of onnx/');
  });

  it('by name, an embedded model runs its int8 graph whatever the dtype setting; by path the setting holds', () => {
    const graph = (spec: string, setting: 'auto' | 'fp32', runtime: VariantRuntime = 'native') =>
      chooseFolderGraph(folder, openOptions(recognizeModel(spec, embedded), { dtype: { setting } }).dtype, runtime).path;
    for (const setting of ['auto', 'fp32'] as const) {
      for (const runtime of ['native', 'wasm', 'webgpu'] as const) {
        assert.strictEqual(graph('gpt-classics', setting, runtime), 'onnx/model_quantized.onnx');
        assert.strictEqual(graph(' gpt-classics ', setting, runtime), 'onnx/model_quantized.onnx');
      }
    }
    assert.strictEqual(graph(folder, 'fp32'), 'onnx/model.onnx');
    assert.strictEqual(graph(folder, 'auto'), 'onnx/model_quantized.onnx');
    assert.strictEqual(graph(folder, 'auto', 'wasm'), 'onnx/model_quantized.onnx');
    assert.strictEqual(graph(folder, 'auto', 'webgpu'), 'onnx/model.onnx');
  });
});

describe('the int8 graph of gpt-classics on each runtime', function () {
  this.timeout(120000);
  it('gives the same log-probs natively and on WASM (within 1e-4)', async () => {
    const folder = path.join(embeddedModelsDir(), 'gpt-classics');
    const native = await loadHuggingFaceFolder(folder, 'native', { dtype: { setting: 'quantized' }, device: 'native' });
    const wasm = await loadHuggingFaceFolder(folder, 'wasm', { dtype: { setting: 'quantized' }, device: 'wasm' });
    try {
      const ids = native.tokenizer.encode('It was a fine morning, and the mouse ate the cheese.', true).map((t) => t.id);
      const a = await native.nextLogProbs(ids);
      const b = await wasm.nextLogProbs(ids);
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
      assert.ok(worst < 1e-4, `largest difference ${worst}`);
    } finally {
      native.dispose();
      wasm.dispose();
    }
  });
});
