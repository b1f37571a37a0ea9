/**
 * What a causal LM graph takes and gives, read from the session's metadata: which optional inputs
 * it has (position_ids, num_logits_to_keep, use_cache_branch), the element type of its KV cache
 * and logits (float32, or float16 in fp16/q4f16 exports), and the cache's shape where the export
 * fixed it. Inputs that this engine cannot feed (a hybrid model's convolution or state-space
 * caches) are refused with their names.
 */
import type { InferenceSession } from 'onnxruntime-common';
import { ModelFormatError } from '../errors';

export type FloatType = 'float32' | 'float16';

export interface GraphSignature {
  /** Layers of the KV cache (past_key_values.0 … layers-1). */
  layers: number;
  cacheType: FloatType;
  logitsType: FloatType;
  hasPositionIds: boolean;
  /** The input that limits logits to the last N positions (`num_logits_to_keep` or `logits_to_keep`), if any. */
  logitsToKeep: string | undefined;
  /** Xenova's merged decoders: a bool input choosing the branch with a cache. */
  hasUseCacheBranch: boolean;
  /** The output holding layer l's key or value: `present.l.key` or `present_key_values.l.key`. */
  presentNames: { key: string; value: string }[];
  /** Key/value heads and head size as fixed by the export (undefined for a symbolic dimension). */
  cacheHeads: number | undefined;
  cacheHeadDim: number | undefined;
}

/** The parts of a session read here. */
export type SessionShape = Pick<InferenceSession, 'inputNames' | 'outputNames'> & Partial<Pick<InferenceSession, 'inputMetadata' | 'outputMetadata'>>;

const PAST = /^past_key_values\.(\d+)\.(key|value)$/;
const REQUIRED = ['input_ids', 'attention_mask'];
const LOGITS_TO_KEEP = ['num_logits_to_keep', 'logits_to_keep'];
const KNOWN = new Set([...REQUIRED, 'position_ids', 'use_cache_branch', ...LOGITS_TO_KEEP]);

function tensorMeta(list: readonly InferenceSession.ValueMetadata[] | undefined, name: string): InferenceSession.TensorValueMetadata | undefined {
  const m = list?.find((x) => x.name === name);
  return m && m.isTensor ? m : undefined;
}

function floatType(type: string | undefined, what: string, onnxName: string): FloatType {
  if (type === undefined || type === 'float32') return 'float32';
  if (type === 'float16') return 'float16';
  throw new ModelFormatError(`${what} has element type ${type}; this engine runs graphs whose cache and logits are float32 or float16`, onnxName);
}

/** The graph's signature; throws ModelFormatError naming what is missing or cannot be fed. */
export function readGraphSignature(session: SessionShape, onnxName: string): GraphSignature {
  const inputs = session.inputNames;
  for (const name of REQUIRED) {
    if (!inputs.includes(name)) {
      throw new ModelFormatError(
        `the graph has no input "${name}" (inputs: ${inputs.join(', ')}); export it as a causal LM with a KV cache (text-generation-with-past)`,
        onnxName,
      );
    }
  }
  let layers = 0;
  const unknown: string[] = [];
  for (const name of inputs) {
    const m = PAST.exec(name);
    if (m) layers = Math.max(layers, Number(m[1]) + 1);
    else if (!KNOWN.has(name)) unknown.push(name);
  }
  if (unknown.length) {
    throw new ModelFormatError(
      `the graph has inputs this engine cannot feed: ${unknown.join(', ')}. It runs decoder-only transformers whose only state is a key/value cache ` +
        `(past_key_values.N.key/value); models with convolution or state-space caches (past_conv, past_ssm: LFM2, Mamba and other hybrids) are not supported`,
      onnxName,
    );
  }
  if (layers === 0)
    throw new ModelFormatError(`the graph has no input "past_key_values.0.key" (inputs: ${inputs.join(', ')}); export it with a KV cache`, onnxName);
  if (!session.outputNames.includes('logits')) throw new ModelFormatError('the graph has no "logits" output', onnxName);
  const outputs = new Set(session.outputNames);
  const presentNames: GraphSignature['presentNames'] = [];
  for (let l = 0; l < layers; l++) {
    const names = { key: '', value: '' };
    for (const part of ['key', 'value'] as const) {
      if (!inputs.includes(`past_key_values.${l}.${part}`)) throw new ModelFormatError(`the graph has no input past_key_values.${l}.${part}`, onnxName);
      const out = [`present.${l}.${part}`, `present_key_values.${l}.${part}`].find((n) => outputs.has(n));
      if (!out) throw new ModelFormatError(`the graph has no output present.${l}.${part}`, onnxName);
      names[part] = out;
    }
    presentNames.push(names);
  }
  const past = tensorMeta(session.inputMetadata, 'past_key_values.0.key');
  const cacheType = floatType(past?.type, 'the cache input past_key_values.0.key', onnxName);
  for (let l = 0; l < layers; l++) {
    for (const part of ['key', 'value']) {
      const t = tensorMeta(session.inputMetadata, `past_key_values.${l}.${part}`)?.type;
      if (t !== undefined && t !== cacheType)
        throw new ModelFormatError(`past_key_values.${l}.${part} is ${t} but past_key_values.0.key is ${cacheType}`, onnxName);
    }
  }
  const shape = past?.shape ?? [];
  const fixed = (d: number | string | undefined) => (typeof d === 'number' && d > 0 ? d : undefined);
  return {
    layers,
    cacheType,
    logitsType: floatType(tensorMeta(session.outputMetadata, 'logits')?.type, 'the output logits', onnxName),
    hasPositionIds: inputs.includes('position_ids'),
    logitsToKeep: LOGITS_TO_KEEP.find((n) => inputs.includes(n)),
    hasUseCacheBranch: inputs.includes('use_cache_branch'),
    presentNames,
    cacheHeads: shape.length === 4 ? fixed(shape[1]) : undefined,
    cacheHeadDim: shape.length === 4 ? fixed(shape[3]) : undefined,
  };
}
