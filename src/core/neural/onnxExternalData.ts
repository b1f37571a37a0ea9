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
}

/** Thrown for bytes that are not an ONNX model's protobuf (the runtime that loads it says more). */
export class NotOnnxError extends Error {}

/** Thrown for an external data location outside the graph's folder: no runtime may be given it. */
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
const TENSOR_NAME = 8;
const TENSOR_EXTERNAL_DATA = 13;
const TENSOR_DATA_LOCATION = 14;
const ENTRY_KEY = 1;
const ENTRY_VALUE = 2;
const DATA_LOCATION_EXTERNAL = 1;

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
  const files = new Map<string, number>();

  const tensor = (start: number, end: number) => {
    let name = '';
    let external = false;
    let location: string | undefined;
    let offset = 0;
    let length: number | undefined;
    for (const f of fields(r, start, end)) {
      if (f.number === TENSOR_NAME && f.wireType === 2) name = text(r, f);
      else if (f.number === TENSOR_DATA_LOCATION && f.wireType === 0) external = f.value === DATA_LOCATION_EXTERNAL;
      else if (f.number === TENSOR_EXTERNAL_DATA && f.wireType === 2) {
        let key = '';
        let value = '';
        for (const e of fields(r, f.start, f.end)) {
          if (e.number === ENTRY_KEY && e.wireType === 2) key = text(r, e);
          else if (e.number === ENTRY_VALUE && e.wireType === 2) value = text(r, e);
        }
        if (key === 'location') location = value;
        else if (key === 'offset') offset = Number(value);
        else if (key === 'length') length = Number(value);
      }
    }
    if (!external) return;
    if (location === undefined) throw new NotOnnxError(`the tensor ${JSON.stringify(name)} is stored externally but names no location`);
    const file = checkLocation(location, name);
    const needed = Number.isSafeInteger(offset) && length !== undefined && Number.isSafeInteger(length) ? offset + length : 0;
    files.set(file, Math.max(files.get(file) ?? 0, needed));
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
  return [...files].map(([location, bytesNeeded]) => ({ location, bytesNeeded }));
}

/** A byte source over bytes in memory. */
export function bytesSource(bytes: Uint8Array): ByteSource {
  return { size: bytes.length, read: (position, length) => bytes.subarray(position, Math.min(bytes.length, position + length)) };
}
