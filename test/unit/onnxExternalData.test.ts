import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { ExternalDataLocationError, NotOnnxError, bytesSource, externalDataFiles, type ByteSource } from '../../src/core/neural/onnxExternalData';
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
/** A TensorProto: inline (raw_data) or stored in `external`. */
function tensor(name: string, external?: { location: string; offset?: number; length: number }): number[] {
  const head = [...intField(1, 4), ...intField(2, 1), ...bytesField(8, text(name))];
  if (!external) return [...head, ...bytesField(9, new Array(16).fill(7))];
  return [
    ...head,
    ...entry('location', external.location),
    ...(external.offset !== undefined ? entry('offset', String(external.offset)) : []),
    ...entry('length', String(external.length)),
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
      { location: 'model.onnx_data', bytesNeeded: 12288 },
      { location: 'model.onnx_data_1', bytesNeeded: 65636 },
      { location: 'weights/extra.bin', bytesNeeded: 10 },
    ]);
    assert.deepStrictEqual(externalDataFiles(bytesSource(model(graph(initializer(tensor('x')))))), []);
    // `./` is the same folder.
    assert.deepStrictEqual(externalDataFiles(bytesSource(model(graph(initializer(tensor('x', { location: './w.bin', length: 1 })))))), [
      { location: 'w.bin', bytesNeeded: 1 },
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
