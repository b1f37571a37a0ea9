/**
 * Writes a small ONNX model (protobuf bytes) from a list of standard operators, for graphs the
 * engine builds itself and hands to the same onnxruntime as the user's model. Only what such
 * graphs need: tensor inputs and outputs with named or fixed dimensions, and nodes whose
 * attributes are integers or lists of non-negative integers. Field numbers are onnx.proto's.
 */

/** onnx.proto's TensorProto.DataType values used here. */
export const OnnxType = { float: 1, int32: 6, int64: 7, bool: 9, double: 11 } as const;

export interface OnnxValue {
  name: string;
  type: (typeof OnnxType)[keyof typeof OnnxType];
  /** A number is a fixed size, a string a size named at run time. */
  dims: (number | string)[];
}

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, number | number[]>;
}

export interface OnnxGraph {
  name: string;
  /** The default domain's opset the nodes are written for. */
  opset: number;
  inputs: OnnxValue[];
  outputs: OnnxValue[];
  nodes: OnnxNode[];
}

/** ir_version 6 goes with opsets up to 12 and is read by every onnxruntime this project runs. */
const IR_VERSION = 6;
const ATTRIBUTE_INT = 2;
const ATTRIBUTE_INTS = 7;

class ProtoWriter {
  readonly bytes: number[] = [];

  varint(field: number, value: number): this {
    this.key(field, 0);
    this.raw(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytesField(field, new TextEncoder().encode(value));
  }

  message(field: number, body: ProtoWriter): this {
    return this.bytesField(field, body.bytes);
  }

  private bytesField(field: number, value: ArrayLike<number>): this {
    this.key(field, 2);
    this.raw(value.length);
    for (let i = 0; i < value.length; i++) this.bytes.push(value[i]);
    return this;
  }

  private key(field: number, wireType: number): void {
    this.raw(field * 8 + wireType);
  }

  /** A non-negative integer as a varint (negative ones would need ten bytes of two's complement: none is written). */
  private raw(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`cannot write ${value} as an ONNX integer`);
    while (value >= 0x80) {
      this.bytes.push((value % 0x80) | 0x80);
      value = Math.floor(value / 0x80);
    }
    this.bytes.push(value);
  }
}

function valueInfo(v: OnnxValue): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.dims) shape.message(1, typeof d === 'number' ? new ProtoWriter().varint(1, d) : new ProtoWriter().string(2, d));
  const tensor = new ProtoWriter().varint(1, v.type).message(2, shape);
  return new ProtoWriter().string(1, v.name).message(2, new ProtoWriter().message(1, tensor));
}

function node(n: OnnxNode, index: number): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, `${n.op}_${index}`).string(4, n.op);
  for (const [name, value] of Object.entries(n.attributes ?? {})) {
    const a = new ProtoWriter().string(1, name);
    if (typeof value === 'number') a.varint(3, value).varint(20, ATTRIBUTE_INT);
    else {
      for (const v of value) a.varint(8, v);
      a.varint(20, ATTRIBUTE_INTS);
    }
    w.message(5, a);
  }
  return w;
}

/** The model's protobuf bytes, as `InferenceSession.create` takes them. */
export function onnxModelBytes(graph: OnnxGraph): Uint8Array {
  const g = new ProtoWriter();
  graph.nodes.forEach((n, i) => g.message(1, node(n, i)));
  g.string(2, graph.name);
  for (const v of graph.inputs) g.message(11, valueInfo(v));
  for (const v of graph.outputs) g.message(12, valueInfo(v));
  const model = new ProtoWriter()
    .varint(1, IR_VERSION)
    .string(2, 'lm-playground')
    .message(7, g)
    .message(8, new ProtoWriter().string(1, '').varint(2, graph.opset));
  return Uint8Array.from(model.bytes);
}
