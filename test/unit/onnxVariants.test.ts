import * as assert from 'assert';
import { ModelFormatError } from '../../src/core/errors';
import {
  AUTO_ORDER,
  DTYPES,
  allGraphPaths,
  chooseVariant,
  graphVariants,
  listedVariants,
  rankVariants,
  variantOf,
  variantPaths,
  type GraphVariant,
} from '../../src/core/neural/onnxVariants';

/** The variants of a folder holding exactly `files`. */
const variantsOf = (...files: string[]) => graphVariants((p) => files.includes(p));

describe('ONNX precision variants (onnxVariants)', () => {
  it('finds each variant under the names onnx-community and Xenova publish', () => {
    const v = variantsOf(
      'onnx/model.onnx',
      'onnx/model_fp16.onnx',
      'onnx/model_q4.onnx',
      'onnx/model_q4f16.onnx',
      'onnx/model_int8.onnx',
      'onnx/model_uint8.onnx',
      'onnx/model_bnb4.onnx',
      'onnx/model_quantized.onnx',
      'onnx/model.onnx_data',
      'README.md',
    );
    assert.deepStrictEqual(
      v.map((x) => x.dtype),
      [...DTYPES],
    );
    assert.strictEqual(v.find((x) => x.dtype === 'q4f16')!.path, 'onnx/model_q4f16.onnx');
    // Xenova's merged decoders, and graphs at the folder's top.
    assert.deepStrictEqual(variantsOf('onnx/decoder_model_merged.onnx', 'onnx/decoder_model_merged_quantized.onnx'), [
      { dtype: 'fp32', path: 'onnx/decoder_model_merged.onnx' },
      { dtype: 'quantized', path: 'onnx/decoder_model_merged_quantized.onnx' },
    ]);
    assert.deepStrictEqual(variantsOf('model.onnx'), [{ dtype: 'fp32', path: 'model.onnx' }]);
    // onnx/model*.onnx wins over the older names when both are there.
    assert.deepStrictEqual(variantsOf('onnx/decoder_model_merged.onnx', 'onnx/model.onnx'), [{ dtype: 'fp32', path: 'onnx/model.onnx' }]);
    assert.strictEqual(variantOf('onnx/model_q4.onnx'), 'q4');
    assert.strictEqual(variantOf('onnx/model.onnx_data'), undefined);
    assert.strictEqual(new Set(allGraphPaths()).size, DTYPES.length * variantPaths('fp32').length);
  });

  it('auto takes the fastest variant present for the runtime: 4- and 8-bit on the CPU, float16 on WebGPU', () => {
    const all = variantsOf(...DTYPES.map((d) => variantPaths(d)[0]));
    assert.strictEqual(chooseVariant(all, { setting: 'auto', runtime: 'native' }, 'm').dtype, 'int8');
    assert.strictEqual(chooseVariant(all, { setting: 'auto', runtime: 'wasm' }, 'm').dtype, 'int8');
    assert.strictEqual(chooseVariant(all, { setting: 'auto', runtime: 'webgpu' }, 'm').dtype, 'q4f16');
    // Measured: 4-bit beats float32 natively, and decodes 7× slower than float32 on WASM.
    const fullAndFour = variantsOf('onnx/model.onnx', 'onnx/model_q4.onnx');
    assert.strictEqual(chooseVariant(fullAndFour, { setting: 'auto', runtime: 'native' }, 'm').dtype, 'q4');
    assert.strictEqual(chooseVariant(fullAndFour, { setting: 'auto', runtime: 'wasm' }, 'm').dtype, 'fp32');
    const fullAndHalf = variantsOf('onnx/model.onnx', 'onnx/model_fp16.onnx');
    assert.strictEqual(chooseVariant(fullAndHalf, { setting: 'auto', runtime: 'native' }, 'm').dtype, 'fp32');
    assert.strictEqual(chooseVariant(fullAndHalf, { setting: 'auto', runtime: 'webgpu' }, 'm').dtype, 'fp16');
    // An adapter without shader-f16: float16 graphs only when nothing else is there.
    assert.strictEqual(chooseVariant(fullAndHalf, { setting: 'auto', runtime: 'webgpu', float16: false }, 'm').dtype, 'fp32');
    const halfOnly = variantsOf('onnx/model_fp16.onnx');
    assert.strictEqual(chooseVariant(halfOnly, { setting: 'auto', runtime: 'webgpu', float16: false }, 'm').dtype, 'fp16');
    // Every order names every variant once.
    for (const order of Object.values(AUTO_ORDER)) assert.deepStrictEqual([...order].sort(), [...DTYPES].sort());
  });

  it('prefer comes before the runtime order (the older preferQuantized, the embedded int8 graph)', () => {
    const v = variantsOf('onnx/model.onnx', 'onnx/model_q4.onnx', 'onnx/model_quantized.onnx');
    assert.strictEqual(chooseVariant(v, { setting: 'auto', prefer: ['fp32'], runtime: 'native' }, 'm').dtype, 'fp32');
    assert.strictEqual(chooseVariant(v, { setting: 'auto', prefer: ['quantized', 'int8'], runtime: 'webgpu' }, 'm').dtype, 'quantized');
    assert.deepStrictEqual(
      rankVariants(v, { runtime: 'native', prefer: ['fp32'] }).map((x) => x.dtype),
      ['fp32', 'quantized', 'q4'],
    );
  });

  it('an explicit dtype must be present: the error names the folder, lists what it has and the fix', () => {
    const v = variantsOf('onnx/model.onnx', 'onnx/model_int8.onnx');
    assert.deepStrictEqual(chooseVariant(v, { setting: 'int8', runtime: 'webgpu' }, '/m'), { dtype: 'int8', path: 'onnx/model_int8.onnx' });
    assert.throws(
      () => chooseVariant(v, { setting: 'q4', runtime: 'native' }, '/models/tiny'),
      (e: Error) =>
        e instanceof ModelFormatError &&
        e.message.startsWith(
          '/models/tiny: q4 was asked for (lmPlayground.dtype, or lmp --dtype), but this folder has no q4 graph (onnx/model_q4.onnx); it has fp32 (onnx/model.onnx), int8 (onnx/model_int8.onnx).',
        ) &&
        /Ask for one of these or for auto, or download the q4 variant/.test(e.message),
    );
    assert.throws(
      () => chooseVariant([], { setting: 'auto', runtime: 'native' }, '/m'),
      /^ModelFormatError: \/m: no ONNX graph \(looked for onnx\/model\.onnx/,
    );
  });

  it('sizes a repository listing per variant, external data included', () => {
    const files = [
      { path: 'config.json', size: 700 },
      { path: 'onnx/model.onnx', size: 1000 },
      { path: 'onnx/model.onnx_data', size: 500_000 },
      { path: 'onnx/model.onnx_data_1', size: 300_000 },
      { path: 'onnx/model_q4.onnx', size: 90_000 },
      { path: 'onnx/model_fp16.onnx', size: 2000 },
      { path: 'onnx/model_fp16.onnx_data', size: 400_000 },
    ];
    const listed = listedVariants(files);
    const by = (d: string) => listed.find((v) => v.dtype === d)!;
    assert.deepStrictEqual(by('fp32'), {
      dtype: 'fp32',
      path: 'onnx/model.onnx',
      dataFiles: ['onnx/model.onnx_data', 'onnx/model.onnx_data_1'],
      bytes: 801_000,
    });
    assert.deepStrictEqual(by('fp16').dataFiles, ['onnx/model_fp16.onnx_data']);
    assert.strictEqual(by('fp16').bytes, 402_000);
    assert.deepStrictEqual(by('q4').dataFiles, []);
    assert.strictEqual(by('q4').bytes, 90_000);
    assert.strictEqual(listed.length, 3);
    const asGraph = (v: GraphVariant) => ({ dtype: v.dtype, path: v.path });
    assert.deepStrictEqual(
      listed.map(asGraph),
      graphVariants((p) => files.some((f) => f.path === p)),
    );
  });
});
