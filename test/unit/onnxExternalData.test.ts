import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import {
  ExternalDataLocationError,
  ExternalDataSizeError,
  NotOnnxError,
  bytesSource,
  checkExternalDataSizes,
  externalDataFiles,
  type ByteSource,
} from '../../src/core/neural/onnxExternalData';
import { ONNX_FIXTURES as FIXTURES, REPO } from './helpers';

// A protobuf writer for hand-made ONNX models (field numbers of onnx.proto3).
const varint = (n: number): number[] => {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
};
const bytesField = (field: number, bytes: number[]): number[] => [...varint(field * 8 + 2), ...varint(bytes.length), ...bytes];
const intField = (field: number, n: number): number[] => [...varint(field * 8), ...varint(n)];
const text = (s: string): number[] => [...Buffer.from(s, 'utf8')];
const entry = (key: string, value: string) => bytesField(13, [...bytesField(1, text(key)), ...bytesField(2, text(value))]);
/**
 * A TensorProto: inline (raw_data: 4 floats) or stored in `external`, as `length` bytes (uint8,
 * unless `shape` and `type` say otherwise); offset and length are written as given (strings: forged).
 */
function tensor(name: string, external?: { location: string; offset?: number | string; length?: number | string; shape?: number[]; type?: number }): number[] {
  if (!external) return [...intField(1, 4), ...intField(2, 1), ...bytesField(8, text(name)), ...bytesField(9, new Array(16).fill(7))];
  const shape = external.shape ?? [Number(external.length)];
  return [
    ...shape.flatMap((d) => intField(1, d)),
    ...intField(2, external.type ?? 2),
    ...bytesField(8, text(name)),
    ...entry('location', external.location),
    ...(external.offset !== undefined ? entry('offset', String(external.offset)) : []),
    ...(external.length !== undefined ? entry('length', String(external.length)) : []),
    ...intField(14, 1),
  ];
}
const graph = (...parts: number[][]): number[] => parts.flat();
const initializer = (t: number[]) => bytesField(5, t);
/** A node with a subgraph attribute (as If's then_branch). */
const nodeWithSubgraph = (g: number[]) =>
  bytesField(1, [...bytesField(4, text('If')), ...bytesField(5, [...bytesField(1, text('then_branch')), ...bytesField(6, g)])]);
const model = (g: number[]) => Uint8Array.from([...intField(1, 8), ...bytesField(7, g), ...bytesField(8, [...bytesField(1, []), ...intField(2, 17)])]);

/** A byte source that counts the bytes it was asked for. */
function countingSource(bytes: Uint8Array): ByteSource & { read: ByteSource['read']; total: () => number } {
  let total = 0;
  const inner = bytesSource(bytes);
  return {
    size: inner.size,
    read: (position, length) => {
      const out = inner.read(position, length);
      total += out.length;
      return out;
    },
    total: () => total,
  };
}

describe('external data of an ONNX graph (onnxExternalData)', () => {
  it('lists the files the initializers name, in order, once each, with the bytes each must hold', () => {
    const m = model(
      graph(
        initializer(tensor('inline')),
        initializer(tensor('a', { location: 'model.onnx_data', offset: 0, length: 4096 })),
        initializer(tensor('b', { location: 'model.onnx_data_1', offset: 65536, length: 100 })),
        initializer(tensor('c', { location: 'model.onnx_data', offset: 4096, length: 8192 })),
        // A subgraph's initializers count too (Xenova's merged decoders branch with If).
        nodeWithSubgraph(graph(initializer(tensor('d', { location: 'weights/extra.bin', length: 10 })))),
      ),
    );
    assert.deepStrictEqual(externalDataFiles(bytesSource(m)), [
      { location: 'model.onnx_data', bytesNeeded: 12288, lastTensor: 'c' },
      { location: 'model.onnx_data_1', bytesNeeded: 65636, lastTensor: 'b' },
      { location: 'weights/extra.bin', bytesNeeded: 10, lastTensor: 'd' },
    ]);
    assert.deepStrictEqual(externalDataFiles(bytesSource(model(graph(initializer(tensor('x')))))), []);
    // `./` is the same folder.
    assert.deepStrictEqual(externalDataFiles(bytesSource(model(graph(initializer(tensor('x', { location: './w.bin', length: 1 })))))), [
      { location: 'w.bin', bytesNeeded: 1, lastTensor: 'x' },
    ]);
  });

  it('refuses a location outside the graph’s folder', () => {
    for (const location of ['../secret', 'weights/../../secret', '/etc/passwd', 'C:\\Windows\\x', '..\\x', '']) {
      const m = model(graph(initializer(tensor('w', { location, length: 4 }))));
      assert.throws(
        () => externalDataFiles(bytesSource(m)),
        (e: Error) => e instanceof ExternalDataLocationError && e.message.includes(JSON.stringify(location)),
        location,
      );
    }
  });

  it('takes a tensor without a length as long as its shape and type (packed dims too), as the runtimes do', () => {
    const floats = model(graph(initializer(tensor('f', { location: 'd.bin', offset: 8, shape: [3, 5], type: 1 }))));
    assert.deepStrictEqual(externalDataFiles(bytesSource(floats)), [{ location: 'd.bin', bytesNeeded: 8 + 60, lastTensor: 'f' }]);
    // Packed dims [2, 7] of int4 (type 22): 14 elements in 7 bytes.
    const packed = [...bytesField(1, [2, 7]), ...intField(2, 22), ...bytesField(8, text('p')), ...entry('location', 'd.bin'), ...intField(14, 1)];
    assert.deepStrictEqual(externalDataFiles(bytesSource(model(graph(initializer(packed))))), [{ location: 'd.bin', bytesNeeded: 7, lastTensor: 'p' }]);
  });

  it('refuses forged offsets and lengths, naming the tensor and the file', () => {
    const forged: [string, Parameters<typeof tensor>[1], RegExp][] = [
      [
        'negative offset',
        { location: 'w.bin', offset: '-4096', length: 16 },
        /the tensor "w" in its external data file "w\.bin" has the offset "-4096", not a count of bytes/,
      ],
      ['offset not a number', { location: 'w.bin', offset: '1e3', length: 16 }, /"w" in its external data file "w\.bin" has the offset "1e3"/],
      ['negative length', { location: 'w.bin', offset: 0, length: '-16', shape: [16] }, /has the length "-16", not a count of bytes/],
      [
        'length not the shape',
        { location: 'w.bin', offset: 0, length: 4096, shape: [16] },
        /"w" in its external data file "w\.bin" has a length of 4096 bytes, but its shape and type take 16/,
      ],
      ['beyond any file', { location: 'w.bin', offset: '9007199254740990', length: 16 }, /ends past any file/],
    ];
    for (const [what, external, message] of forged) {
      assert.throws(
        () => externalDataFiles(bytesSource(model(graph(initializer(tensor('w', external)))))),
        (e: Error) => e instanceof ExternalDataLocationError && message.test(e.message),
        what,
      );
    }
    const overlapping = model(
      graph(
        initializer(tensor('a', { location: 'w.bin', offset: 0, length: 4096 })),
        initializer(tensor('b', { location: 'w.bin', offset: 4000, length: 100 })),
      ),
    );
    assert.throws(
      () => externalDataFiles(bytesSource(overlapping)),
      /the tensors "a" \(bytes 0 to 4096\) and "b" \(bytes 4000 to 4100\) overlap in the external data file "w\.bin"/,
    );
  });

  it('names the tensor read past a data file’s end, with both sizes', () => {
    const files = externalDataFiles(
      bytesSource(
        model(
          graph(
            initializer(tensor('early', { location: 'w.bin', offset: 0, length: 100 })),
            initializer(tensor('late', { location: 'w.bin', offset: 4096, length: 1000 })),
          ),
        ),
      ),
    );
    assert.doesNotThrow(() => checkExternalDataSizes(files, () => 5096, 'g.onnx'));
    assert.throws(
      () => checkExternalDataSizes(files, () => 5095, 'g.onnx'),
      (e: Error) =>
        e instanceof ExternalDataSizeError && /the graph g\.onnx reads the tensor "late" up to byte 5,096 of "w\.bin", which has 5,095 bytes/.test(e.message),
    );
    assert.throws(() => checkExternalDataSizes(files, () => undefined, 'g.onnx'), /keeps tensors in "w\.bin", which was not given with it/);
  });

  it('says when the bytes are not an ONNX model, or a truncated one', () => {
    assert.throws(() => externalDataFiles(bytesSource(Buffer.from('this is not a protobuf graph'))), NotOnnxError);
    assert.throws(() => externalDataFiles(bytesSource(new Uint8Array(0))), /no graph in the file/);
    const m = model(graph(initializer(tensor('a', { location: 'model.onnx_data', length: 4 }))));
    assert.throws(() => externalDataFiles(bytesSource(m.subarray(0, m.length - 20))), NotOnnxError);
  });

  it('reads the real exports, skipping the weights stored inside the graph unread', () => {
    const single = fs.readFileSync(path.join(REPO, 'models', 'gpt-classics', 'onnx', 'model.onnx'));
    const source = countingSource(single);
    assert.deepStrictEqual(externalDataFiles(source), []);
    assert.ok(source.total() < single.length / 10, `read ${source.total()} of ${single.length} bytes`);

    const llama = path.join(FIXTURES, 'tiny-llama', 'onnx');
    const [data] = externalDataFiles(bytesSource(fs.readFileSync(path.join(llama, 'model.onnx'))));
    assert.strictEqual(data.location, 'model.onnx_data');
    const size = fs.statSync(path.join(llama, 'model.onnx_data')).size;
    assert.ok(data.bytesNeeded <= size && data.bytesNeeded > size / 2, `${data.bytesNeeded} of ${size}`);

    const split = externalDataFiles(bytesSource(fs.readFileSync(path.join(FIXTURES, 'tiny-qwen2', 'onnx', 'model_split.onnx'))));
    assert.deepStrictEqual(
      split.map((d) => d.location),
      ['model_split.onnx_data', 'model_split.onnx_data_1'],
    );
  });
});
