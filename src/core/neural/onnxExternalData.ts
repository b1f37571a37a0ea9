/**
 * The external data files an ONNX graph names: large exports keep their weights beside the graph
 * (`model.onnx_data`, `model.onnx_data_1`, …), and each initializer says in its `external_data`
 * entries which file (`location`) and which bytes (`offset`, `length`). Found by walking the
 * protobuf without decoding the weights: a length-delimited field that is not on the way to an
 * initializer is skipped unread, so a 2 GB single-file graph costs a few reads. Pure: the caller
 * gives a synchronous byte source (a file descriptor in Node, an ArrayBuffer in a browser).
 */

/** Random access to the graph's bytes. */
export interface ByteSource {
  readonly size: number;
  /** Up to `length` bytes at `position` (fewer only at the end). */
  read(position: number, length: number): Uint8Array;
}

export interface ExternalDataFile {
  /** The `location` as the graph writes it: a path relative to the graph's folder. */
  location: string;
  /** The least size the file must have: the end of the last tensor stored in it. */
  bytesNeeded: number;
  /** The tensor that ends there, for messages. */
  lastTensor: string;
}

/** Thrown for bytes that are not an ONNX model's protobuf (the runtime that loads it says more). */
export class NotOnnxError extends Error {}

/**
 * Thrown for external data no runtime may be given: a location outside the graph's folder, or
 * byte ranges that are impossible (negative, not a number, not the tensor's size, overlapping).
 */
export class ExternalDataLocationError extends Error {}

// Field numbers of onnx.proto3.
const MODEL_GRAPH = 7;
const GRAPH_NODE = 1;
const GRAPH_INITIALIZER = 5;
const GRAPH_SPARSE_INITIALIZER = 15;
const NODE_ATTRIBUTE = 5;
const ATTRIBUTE_TENSOR = 5;
const ATTRIBUTE_GRAPH = 6;
const ATTRIBUTE_TENSORS = 10;
const ATTRIBUTE_GRAPHS = 11;
const SPARSE_VALUES = 1;
const SPARSE_INDICES = 2;
const TENSOR_DIMS = 1;
const TENSOR_DATA_TYPE = 2;
const TENSOR_NAME = 8;
const TENSOR_EXTERNAL_DATA = 13;
const TENSOR_DATA_LOCATION = 14;
const ENTRY_KEY = 1;
const ENTRY_VALUE = 2;
const DATA_LOCATION_EXTERNAL = 1;

/** Bits per element of ONNX's TensorProto.DataType values (strings, 8, cannot be stored externally). */
const ELEMENT_BITS: Record<number, number> = {
  1: 32,
  2: 8,
  3: 8,
  4: 16,
  5: 16,
  6: 32,
  7: 64,
  9: 8,
  10: 16,
  11: 64,
  12: 32,
  13: 64,
  14: 64,
  15: 128,
  16: 16,
  17: 8,
  18: 8,
  19: 8,
  20: 8,
  21: 4,
  22: 4,
  23: 4,
};

/** Nesting deeper than this is not a graph (If/Loop subgraphs nest a few levels at most). */
const MAX_DEPTH = 64;
const CHUNK = 1 << 16;
const UTF8 = new TextDecoder('utf-8');

/** A protobuf reader over a byte source, buffered in chunks. */
class Reader {
  private buffer: Uint8Array = new Uint8Array(0);
  private bufferStart = 0;

  constructor(private readonly source: ByteSource) {}

  byte(at: number): number {
    if (at < this.bufferStart || at >= this.bufferStart + this.buffer.length) {
      if (at >= this.source.size) throw new NotOnnxError('the file ends inside a protobuf field');
      this.buffer = this.source.read(at, CHUNK);
      this.bufferStart = at;
      if (this.buffer.length === 0) throw new NotOnnxError('the file ends inside a protobuf field');
    }
    return this.buffer[at - this.bufferStart];
  }

  /** A varint at `at`: its value (exact below 2^53) and the position after it. */
  varint(at: number): [number, number] {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte(at + i);
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return [value, at + i + 1];
      scale *= 128;
    }
    throw new NotOnnxError('a varint is longer than 10 bytes');
  }

  bytes(at: number, length: number): Uint8Array {
    if (at + length > this.source.size) throw new NotOnnxError('the file ends inside a protobuf field');
    if (at >= this.bufferStart && at + length <= this.bufferStart + this.buffer.length) {
      return this.buffer.subarray(at - this.bufferStart, at - this.bufferStart + length);
    }
    return this.source.read(at, length);
  }
}

interface Field {
  number: number;
  wireType: number;
  /** Varint value, or the length of a length-delimited field. */
  value: number;
  /** Where a length-delimited field's bytes start. */
  start: number;
  /** The position after the field. */
  end: number;
}

/** The fields of the message in [start, end). */
function* fields(r: Reader, start: number, end: number): Generator<Field> {
  let at = start;
  while (at < end) {
    const [key, afterKey] = r.varint(at);
    const number = Math.floor(key / 8);
    const wireType = key % 8;
    let field: Field;
    if (wireType === 0) {
      const [value, after] = r.varint(afterKey);
      field = { number, wireType, value, start: afterKey, end: after };
    } else if (wireType === 1) field = { number, wireType, value: 0, start: afterKey, end: afterKey + 8 };
    else if (wireType === 5) field = { number, wireType, value: 0, start: afterKey, end: afterKey + 4 };
    else if (wireType === 2) {
      const [length, after] = r.varint(afterKey);
      field = { number, wireType, value: length, start: after, end: after + length };
    } else throw new NotOnnxError(`protobuf wire type ${wireType} at byte ${at}: not an ONNX model`);
    if (number === 0 || field.end > end) throw new NotOnnxError(`a protobuf field at byte ${at} runs past its message: not an ONNX model, or a truncated one`);
    yield field;
    at = field.end;
  }
}

function text(r: Reader, f: Field): string {
  return UTF8.decode(r.bytes(f.start, f.value));
}

/** A location must name a file in the graph's folder or below: no absolute path, no `..`. */
function checkLocation(location: string, tensor: string): string {
  const parts = location.replace(/\\/g, '/').split('/');
  if (location === '' || /^[a-zA-Z]:/.test(location) || parts[0] === '' || parts.some((p) => p === '..')) {
    throw new ExternalDataLocationError(
      `the tensor ${JSON.stringify(tensor)} names the external data file ${JSON.stringify(location)}, outside the graph's folder`,
    );
  }
  return parts.filter((p) => p !== '.').join('/');
}

/**
 * The external data files of the ONNX model in `source`, in the order the graph first names
 * them. Throws NotOnnxError for bytes that are not an ONNX model, ExternalDataLocationError for a
 * location outside the graph's folder.
 */
export function externalDataFiles(source: ByteSource): ExternalDataFile[] {
  const r = new Reader(source);
  const spans = new Map<string, { name: string; offset: number; end: number }[]>();

  const tensor = (start: number, end: number) => {
    let name = '';
    let external = false;
    let location: string | undefined;
    let offsetText: string | undefined;
    let lengthText: string | undefined;
    let dataType = 0;
    let elements = 1;
    for (const f of fields(r, start, end)) {
      if (f.number === TENSOR_NAME && f.wireType === 2) name = text(r, f);
      else if (f.number === TENSOR_DATA_LOCATION && f.wireType === 0) external = f.value === DATA_LOCATION_EXTERNAL;
      else if (f.number === TENSOR_DATA_TYPE && f.wireType === 0) dataType = f.value;
      else if (f.number === TENSOR_DIMS && f.wireType === 0) elements *= f.value;
      else if (f.number === TENSOR_DIMS && f.wireType === 2) {
        // Packed dims.
        for (let at = f.start; at < f.end;) {
          const [dim, after] = r.varint(at);
          elements *= dim;
          at = after;
        }
      } else if (f.number === TENSOR_EXTERNAL_DATA && f.wireType === 2) {
        let key = '';
        let value = '';
        for (const e of fields(r, f.start, f.end)) {
          if (e.number === ENTRY_KEY && e.wireType === 2) key = text(r, e);
          else if (e.number === ENTRY_VALUE && e.wireType === 2) value = text(r, e);
        }
        if (key === 'location') location = value;
        else if (key === 'offset') offsetText = value;
        else if (key === 'length') lengthText = value;
      }
    }
    if (!external) return;
    if (location === undefined) throw new NotOnnxError(`the tensor ${JSON.stringify(name)} is stored externally but names no location`);
    const file = checkLocation(location, name);
    const where = `the tensor ${JSON.stringify(name)} in its external data file ${JSON.stringify(file)}`;
    const offset = byteCount(offsetText ?? '0', 'offset', where);
    const bits = ELEMENT_BITS[dataType];
    // What the runtime reads: the tensor's elements (a negative dim wraps to a huge varint, refused below).
    const size = bits !== undefined ? Math.ceil((elements * bits) / 8) : undefined;
    const length = lengthText !== undefined ? byteCount(lengthText, 'length', where) : size;
    if (length === undefined) throw new ExternalDataLocationError(`${where} gives no length and has an unknown element type ${dataType}`);
    if (size !== undefined && length !== size) {
      throw new ExternalDataLocationError(`${where} has a length of ${length} bytes, but its shape and type take ${size}`);
    }
    if (!Number.isSafeInteger(offset + length)) throw new ExternalDataLocationError(`${where} ends past any file (offset ${offset}, length ${length})`);
    let list = spans.get(file);
    if (!list) spans.set(file, (list = []));
    list.push({ name, offset, end: offset + length });
  };

  const graph = (start: number, end: number, depth: number): void => {
    if (depth > MAX_DEPTH) throw new NotOnnxError('subgraphs nest too deeply: not an ONNX model');
    for (const f of fields(r, start, end)) {
      if (f.wireType !== 2) continue;
      if (f.number === GRAPH_INITIALIZER) tensor(f.start, f.end);
      else if (f.number === GRAPH_SPARSE_INITIALIZER) {
        for (const s of fields(r, f.start, f.end)) if (s.wireType === 2 && (s.number === SPARSE_VALUES || s.number === SPARSE_INDICES)) tensor(s.start, s.end);
      } else if (f.number === GRAPH_NODE) {
        for (const n of fields(r, f.start, f.end)) if (n.number === NODE_ATTRIBUTE && n.wireType === 2) attribute(n.start, n.end, depth);
      }
    }
  };

  const attribute = (start: number, end: number, depth: number) => {
    for (const a of fields(r, start, end)) {
      if (a.wireType !== 2) continue;
      if (a.number === ATTRIBUTE_TENSOR || a.number === ATTRIBUTE_TENSORS) tensor(a.start, a.end);
      else if (a.number === ATTRIBUTE_GRAPH || a.number === ATTRIBUTE_GRAPHS) graph(a.start, a.end, depth + 1);
    }
  };

  let sawGraph = false;
  for (const f of fields(r, 0, source.size)) {
    if (f.number === MODEL_GRAPH && f.wireType === 2) {
      sawGraph = true;
      graph(f.start, f.end, 0);
    }
  }
  if (!sawGraph) throw new NotOnnxError('no graph in the file: not an ONNX model');
  return [...spans].map(([location, list]) => {
    // Each tensor has bytes of its own: overlapping ones are a forged graph (no exporter shares them).
    const sorted = [...list].sort((a, b) => a.offset - b.offset || a.end - b.end);
    for (let i = 1; i < sorted.length; i++) {
      const [a, b] = [sorted[i - 1], sorted[i]];
      if (b.offset < a.end && b.end > b.offset) {
        throw new ExternalDataLocationError(
          `the tensors ${JSON.stringify(a.name)} (bytes ${a.offset} to ${a.end}) and ${JSON.stringify(b.name)} (bytes ${b.offset} to ${b.end}) overlap in the external data file ${JSON.stringify(location)}`,
        );
      }
    }
    const last = list.reduce((x, y) => (y.end > x.end ? y : x));
    return { location, bytesNeeded: last.end, lastTensor: last.name };
  });
}

/** An external data offset or length: a decimal count of bytes, as the ONNX writers put it. */
function byteCount(value: string, key: string, where: string): number {
  const n = /^[0-9]{1,16}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw new ExternalDataLocationError(`${where} has the ${key} ${JSON.stringify(value)}, not a count of bytes`);
  return n;
}

/**
 * Every external data file against its size (undefined: the file is not there): a tensor that
 * would be read past a file's end is named, with both sizes, before a runtime reads anything.
 */
export function checkExternalDataSizes(files: readonly ExternalDataFile[], sizeOf: (location: string) => number | undefined, graph: string): void {
  for (const f of files) {
    const size = sizeOf(f.location);
    if (size === undefined)
      throw new ExternalDataLocationError(`the graph ${graph} keeps tensors in ${JSON.stringify(f.location)}, which was not given with it`);
    if (size < f.bytesNeeded) throw new ExternalDataSizeError(f, size, graph);
  }
}

/** A data file shorter than a tensor the graph reads from it. */
export class ExternalDataSizeError extends Error {
  constructor(
    readonly file: ExternalDataFile,
    readonly size: number,
    graph: string,
  ) {
    super(
      `the graph ${graph} reads the tensor ${JSON.stringify(file.lastTensor)} up to byte ${file.bytesNeeded.toLocaleString('en-US')} of ${JSON.stringify(file.location)}, ` +
        `which has ${size.toLocaleString('en-US')} bytes: the file is incomplete (an interrupted download?) or does not belong to this graph`,
    );
  }
}

/** A byte source over bytes in memory. */
export function bytesSource(bytes: Uint8Array): ByteSource {
  return { size: bytes.length, read: (position, length) => bytes.subarray(position, Math.min(bytes.length, position + length)) };
}
