/**
 * The header of a GGUF file (llama.cpp's format; ggml-org/ggml docs/gguf.md): version, metadata
 * key/values and tensor infos, read from the file's first bytes without touching the weights. The
 * host reads a model's facts and its tokenizer from here; llama.cpp loads the file itself.
 */
import { ModelFormatError } from '../errors';

export type GgufValue = number | bigint | boolean | string | GgufValue[];

export interface GgufTensorInfo {
  name: string;
  /** Dimensions innermost first, as GGUF lists them. */
  dims: number[];
  /** ggml_type id (0 F32, 1 F16, 2 Q4_0, 8 Q8_0, 12 Q4_K …). */
  type: number;
  /** Where its data starts, from the start of the data section. */
  offset: number;
}

export interface GgufHeader {
  version: number;
  metadata: Map<string, GgufValue>;
  tensors: GgufTensorInfo[];
  /** Bytes the header took (metadata and tensor infos). */
  headerBytes: number;
}

/** Thrown when `bytes` ends before the header does: read more of the file and parse again. */
export class GgufNeedMoreBytes extends Error {
  constructor(readonly needed: number) {
    super(`the GGUF header needs more than ${needed} bytes`);
  }
}

/** ggml_type names, for the precision shown in the UI. */
const GGML_TYPES: Record<number, string> = {
  0: 'F32',
  1: 'F16',
  2: 'Q4_0',
  3: 'Q4_1',
  6: 'Q5_0',
  7: 'Q5_1',
  8: 'Q8_0',
  9: 'Q8_1',
  10: 'Q2_K',
  11: 'Q3_K',
  12: 'Q4_K',
  13: 'Q5_K',
  14: 'Q6_K',
  15: 'Q8_K',
  16: 'IQ2_XXS',
  17: 'IQ2_XS',
  18: 'IQ3_XXS',
  19: 'IQ1_S',
  20: 'IQ4_NL',
  21: 'IQ3_S',
  22: 'IQ2_S',
  23: 'IQ4_XS',
  24: 'I8',
  25: 'I16',
  26: 'I32',
  27: 'I64',
  28: 'F64',
  29: 'IQ1_M',
  30: 'BF16',
  34: 'TQ1_0',
  35: 'TQ2_0',
  39: 'MXFP4',
};

/** llama_ftype names of general.file_type (the type most of the weights have). */
const FILE_TYPES: Record<number, string> = {
  0: 'F32',
  1: 'F16',
  2: 'Q4_0',
  3: 'Q4_1',
  7: 'Q8_0',
  8: 'Q5_0',
  9: 'Q5_1',
  10: 'Q2_K',
  11: 'Q3_K_S',
  12: 'Q3_K_M',
  13: 'Q3_K_L',
  14: 'Q4_K_S',
  15: 'Q4_K_M',
  16: 'Q5_K_S',
  17: 'Q5_K_M',
  18: 'Q6_K',
  19: 'IQ2_XXS',
  20: 'IQ2_XS',
  21: 'Q2_K_S',
  22: 'IQ3_XS',
  23: 'IQ3_XXS',
  24: 'IQ1_S',
  25: 'IQ4_NL',
  26: 'IQ3_S',
  27: 'IQ3_M',
  28: 'IQ2_S',
  29: 'IQ2_M',
  30: 'IQ4_XS',
  31: 'IQ1_M',
  32: 'BF16',
  36: 'TQ1_0',
  37: 'TQ2_0',
  38: 'MXFP4_MOE',
};

export function ggmlTypeName(type: number): string {
  return GGML_TYPES[type] ?? `type ${type}`;
}

/** Elements per block and bytes per block of the ggml types whose layout is fixed (ggml.c's type_traits); others are not sized. */
const GGML_BLOCKS: Record<number, [number, number]> = {
  0: [1, 4], // F32
  1: [1, 2], // F16
  2: [32, 18], // Q4_0
  3: [32, 20], // Q4_1
  6: [32, 22], // Q5_0
  7: [32, 24], // Q5_1
  8: [32, 34], // Q8_0
  10: [256, 84], // Q2_K
  11: [256, 110], // Q3_K
  12: [256, 144], // Q4_K
  13: [256, 176], // Q5_K
  14: [256, 210], // Q6_K
  24: [1, 1], // I8
  25: [1, 2], // I16
  26: [1, 4], // I32
  27: [1, 8], // I64
  28: [1, 8], // F64
  30: [1, 2], // BF16
};

/**
 * Where the file's tensor data must reach: the data section starts after the header, aligned
 * (general.alignment, 32 by default); each tensor's data ends at its offset plus its size (its
 * start only, for a type whose size is not known here). The furthest end, and whose it is.
 */
export function ggufDataEnd(header: GgufHeader): { tensor: string; end: number } | undefined {
  const alignment = Number(header.metadata.get('general.alignment') ?? 32) || 32;
  const start = Math.ceil(header.headerBytes / alignment) * alignment;
  let furthest: { tensor: string; end: number } | undefined;
  for (const t of header.tensors) {
    const block = GGML_BLOCKS[t.type];
    const elements = t.dims.reduce((a, b) => a * b, 1);
    const end = start + t.offset + (block ? Math.ceil(elements / block[0]) * block[1] : 0);
    if (!furthest || end > furthest.end) furthest = { tensor: t.name, end };
  }
  return furthest;
}

/** Sane bounds: far beyond any real file, small enough to refuse nonsense before allocating for it. */
const LIMITS = { metadata: 1 << 20, tensors: 1 << 20, arrayItems: 1 << 26, stringBytes: 1 << 26, dims: 8 };

/**
 * Parses the header from the file's first bytes. Throws GgufNeedMoreBytes when they end inside the
 * header, and ModelFormatError (naming `file`) when it is not a GGUF file or is malformed.
 */
export function parseGgufHeader(bytes: Uint8Array, file: string): GgufHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let at = 0;
  const need = (n: number) => {
    if (at + n > bytes.length) throw new GgufNeedMoreBytes(at + n);
  };
  const u32 = () => (need(4), (at += 4), view.getUint32(at - 4, true));
  const u64 = (what: string) => {
    need(8);
    const v = view.getBigUint64(at, true);
    at += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ModelFormatError(`${what} ${v} is out of range`, file);
    return Number(v);
  };
  const string = (): string => {
    const n = u64('a string length');
    if (n > LIMITS.stringBytes) throw new ModelFormatError(`a string of ${n} bytes in the header (at byte ${at})`, file);
    need(n);
    try {
      return utf8.decode(bytes.subarray(at, (at += n)));
    } catch {
      throw new ModelFormatError(`a string that is not UTF-8 at byte ${at - n}`, file);
    }
  };
  const scalar = (type: number): GgufValue => {
    switch (type) {
      case 0:
        return (need(1), view.getUint8(at++));
      case 1:
        return (need(1), view.getInt8(at++));
      case 2:
        return (need(2), (at += 2), view.getUint16(at - 2, true));
      case 3:
        return (need(2), (at += 2), view.getInt16(at - 2, true));
      case 4:
        return u32();
      case 5:
        return (need(4), (at += 4), view.getInt32(at - 4, true));
      case 6:
        return (need(4), (at += 4), view.getFloat32(at - 4, true));
      case 7:
        return (need(1), view.getUint8(at++) !== 0);
      case 8:
        return string();
      case 10:
        return (need(8), (at += 8), view.getBigUint64(at - 8, true));
      case 11:
        return (need(8), (at += 8), view.getBigInt64(at - 8, true));
      case 12:
        return (need(8), (at += 8), view.getFloat64(at - 8, true));
      default:
        throw new ModelFormatError(`unknown metadata value type ${type} at byte ${at}`, file);
    }
  };
  const value = (type: number): GgufValue => {
    if (type !== 9) return scalar(type);
    const itemType = u32();
    const n = u64('an array length');
    if (n > LIMITS.arrayItems) throw new ModelFormatError(`an array of ${n} items in the header`, file);
    if (itemType === 9) throw new ModelFormatError('nested arrays in the header', file);
    const out: GgufValue[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = scalar(itemType);
    return out;
  };

  need(4);
  if (String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]) !== 'GGUF')
    throw new ModelFormatError('not a GGUF file (it does not start with "GGUF")', file);
  at = 4;
  const version = u32();
  if (version !== 2 && version !== 3) throw new ModelFormatError(`GGUF version ${version}; versions 2 and 3 are read`, file);
  const tensorCount = u64('the tensor count');
  const kvCount = u64('the metadata count');
  if (tensorCount > LIMITS.tensors || kvCount > LIMITS.metadata)
    throw new ModelFormatError(`${tensorCount} tensors and ${kvCount} metadata entries: not a real model`, file);
  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < kvCount; i++) {
    const key = string();
    metadata.set(key, value(u32()));
  }
  const tensors: GgufTensorInfo[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = string();
    const nDims = u32();
    if (nDims > LIMITS.dims) throw new ModelFormatError(`tensor ${name} has ${nDims} dimensions`, file);
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) dims.push(u64(`a dimension of ${name}`));
    const type = u32();
    const offset = u64(`the offset of ${name}`);
    tensors.push({ name, dims, type, offset });
  }
  return { version, metadata, tensors, headerBytes: at };
}

/** Typed access to a header's metadata, with errors that name the key and the file. */
export class GgufMetadata {
  constructor(
    readonly header: GgufHeader,
    readonly file: string,
  ) {}

  get architecture(): string {
    return this.string('general.architecture');
  }

  has(key: string): boolean {
    return this.header.metadata.has(key);
  }

  string(key: string): string;
  string(key: string, fallback: string | undefined): string | undefined;
  string(key: string, fallback?: string): string | undefined {
    const v = this.header.metadata.get(key);
    if (v === undefined) {
      if (arguments.length > 1) return fallback;
      throw new ModelFormatError(`missing ${key}`, this.file);
    }
    if (typeof v !== 'string') throw new ModelFormatError(`${key} must be a string`, this.file);
    return v;
  }

  /** An integer (any integer type); `fallback` when absent and one is given. */
  int(key: string, fallback?: number): number {
    const v = this.header.metadata.get(key);
    if (v === undefined) {
      if (fallback !== undefined) return fallback;
      throw new ModelFormatError(`missing ${key}`, this.file);
    }
    const n = typeof v === 'bigint' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw new ModelFormatError(`${key} must be an integer, got ${String(v)}`, this.file);
    return n;
  }

  optionalInt(key: string): number | undefined {
    return this.has(key) ? this.int(key) : undefined;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.header.metadata.get(key);
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') throw new ModelFormatError(`${key} must be a boolean`, this.file);
    return v;
  }

  /** An array whose items all have the type `check` accepts. */
  array<T extends GgufValue>(key: string, check: (v: GgufValue) => v is T, what: string): T[] | undefined {
    const v = this.header.metadata.get(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || !v.every(check)) throw new ModelFormatError(`${key} must be an array of ${what}`, this.file);
    return v as T[];
  }

  /** The weights' precision: general.file_type's name, else the type most of the tensor elements have. */
  get precision(): string {
    const fileType = this.optionalInt('general.file_type');
    if (fileType !== undefined && FILE_TYPES[fileType]) return FILE_TYPES[fileType];
    const count = new Map<number, number>();
    for (const t of this.header.tensors) count.set(t.type, (count.get(t.type) ?? 0) + t.dims.reduce((a, b) => a * b, 1));
    const top = [...count].sort((a, b) => b[1] - a[1])[0];
    return top ? ggmlTypeName(top[0]) : 'unknown';
  }

  /** Weights: the product of every tensor's dimensions. */
  get parameters(): number {
    return this.header.tensors.reduce((sum, t) => sum + t.dims.reduce((a, b) => a * b, 1), 0);
  }
}
