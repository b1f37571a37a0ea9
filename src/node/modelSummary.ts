/**
 * A one-line description of a model on disk for LM: Select Model (architecture, size, tokenizer),
 * read from its files without loading it: config.json and tokenizer.json of a Hugging Face folder,
 * the header of an n-gram file (decompressed only as far as the header), the counts of an ARPA
 * file. The backends call these (`facts`). Never throws: a fact that cannot be read is left out.
 */
import * as fs from 'fs';
import { OPEN_READ_NO_WAIT } from './fileErrors';
import * as path from 'path';
import * as zlib from 'zlib';
import { formatBytes } from './modelFileStream';
import { CONFIG_FILE, TOKENIZER_FILE } from '../core/neural/hfLayout';
import type { DtypeRequest } from '../core/neural/onnxVariants';
import { graphExternalData } from './externalData';
import { chooseFolderGraph, folderVariants } from './neuralLoader';

/** Largest config.json / tokenizer.json parsed for a description (a bigger one is only named). */
export const SUMMARY_MAX_JSON_BYTES = 8 << 20;
/** Most bytes of an n-gram file decompressed to read its header (vocabulary included). */
export const SUMMARY_MAX_HEADER_BYTES = 16 << 20;
/** Bytes read from the top of an ARPA file for its \data\ counts. */
const ARPA_HEAD_BYTES = 4096;

export interface ModelFacts {
  /** What `parameters` counts: a network's weights, or an n-gram model's n-grams. */
  parametersAre: 'weights' | 'n-grams';
  /** e.g. "GPT-2 transformer, 4 layers, d = 256" or "Kneser-Ney 4-gram". */
  architecture: string;
  parameters?: number;
  /** The file that would be loaded, and its size. */
  file?: string;
  bytes?: number;
  tokenizer?: string;
  vocabulary?: number;
  context?: number;
  /** Said first: why the file that would be loaded is missing (the variant asked for is not there). */
  note?: string;
}

const int = (n: number) => n.toLocaleString('en-US');

function readJsonCapped(file: string): Record<string, unknown> | undefined {
  try {
    if (fs.statSync(file).size > SUMMARY_MAX_JSON_BYTES) return undefined;
    const v = JSON.parse(fs.readFileSync(file, 'utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) && x > 0 ? x : undefined);

export function neuralFacts(dir: string, dtype: DtypeRequest | undefined): ModelFacts {
  const cfg = readJsonCapped(path.join(dir, CONFIG_FILE)) ?? {};
  const layers = num(cfg.n_layer ?? cfg.num_hidden_layers);
  const d = num(cfg.n_embd ?? cfg.hidden_size);
  const vocabulary = num(cfg.vocab_size);
  const context = num(cfg.n_positions ?? cfg.max_position_embeddings);
  const type = cfg.model_type === 'gpt2' ? 'GPT-2 transformer' : typeof cfg.model_type === 'string' ? `${cfg.model_type} transformer` : 'transformer';
  const declared = num((cfg.lm_playground as Record<string, unknown> | undefined)?.parameters);
  // A GPT-2 block has about 12 d² weights; embeddings V·d and positions P·d.
  const estimated = layers && d ? 12 * layers * d * d + (vocabulary ?? 0) * d + (context ?? 0) * d : undefined;
  let rel: string | undefined;
  let bytes: number | undefined;
  let note: string | undefined;
  // The graph and the weights it keeps beside it.
  const graphBytes = (rel: string) => {
    const graph = path.join(dir, rel);
    return fs.statSync(graph).size + graphExternalData(graph).reduce((sum, d) => sum + d.size, 0);
  };
  try {
    rel = chooseFolderGraph(dir, dtype).path;
    bytes = graphBytes(rel);
  } catch {
    bytes = undefined;
    // A folder without the variant lmPlayground.dtype names (drive16 L1: a downloaded int8 model under dtype fp32 showed no size, nor why).
    if (dtype && dtype.setting !== 'auto') {
      const has = folderVariants(dir).flatMap((v) => {
        try {
          return [`${v.dtype} ${formatBytes(graphBytes(v.path))}`];
        } catch {
          return [];
        }
      });
      if (has.length > 0) note = `no ${dtype.setting} variant, which lmPlayground.dtype asks for (it has ${has.join(', ')})`;
    }
  }
  const tok = readJsonCapped(path.join(dir, TOKENIZER_FILE));
  const model = tok?.model as Record<string, unknown> | undefined;
  const byteLevel = JSON.stringify(tok?.pre_tokenizer ?? null).includes('ByteLevel');
  const tokenizer = typeof model?.type === 'string' ? `${byteLevel ? 'byte-level ' : ''}${model.type}` : undefined;
  return {
    parametersAre: 'weights',
    architecture: `${type}${layers ? `, ${layers} layers` : ''}${d ? `, d = ${d}` : ''}`,
    parameters: declared ?? estimated,
    file: rel,
    bytes,
    tokenizer,
    vocabulary,
    context,
    ...(note ? { note } : {}),
  };
}

/** Compressed bytes read from the start of a gzipped n-gram file to find its header: a vocabulary of 41k words takes ~0.2 MB. */
const NGRAM_PREFIX_BYTES = [256 << 10, 4 << 20];

function readPrefix(file: string, n: number): Buffer {
  const fd = fs.openSync(file, OPEN_READ_NO_WAIT);
  try {
    const buf = Buffer.alloc(Math.min(n, fs.fstatSync(fd).size));
    const read = fs.readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, read);
  } finally {
    fs.closeSync(fd);
  }
}

/** A gzip prefix inflated (a prefix of a gzip stream inflates to a prefix of the file), or undefined past `cap` bytes. */
export function inflatePrefix(raw: Buffer, cap = SUMMARY_MAX_HEADER_BYTES): Buffer | undefined {
  try {
    return zlib.gunzipSync(raw, { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: cap });
  } catch {
    return undefined; // past the cap, or not gzip
  }
}

/** The header JSON of an LM Playground n-gram file (gzipped or not), decompressing only a prefix. */
export function ngramHeader(file: string): Record<string, unknown> | undefined {
  for (const n of NGRAM_PREFIX_BYTES) {
    try {
      const raw = readPrefix(file, n);
      const bytes = file.endsWith('.gz') ? inflatePrefix(raw) : raw;
      if (!bytes || bytes.length < 20 || bytes.subarray(0, 8).toString('latin1') !== 'LMPNGRAM') return undefined;
      const version = bytes.readUInt32LE(8);
      const fixed = version === 1 ? 16 : 20;
      const length = bytes.readUInt32LE(12);
      if (fixed + length > SUMMARY_MAX_HEADER_BYTES) return undefined;
      if (fixed + length > bytes.length) continue;
      const header = JSON.parse(bytes.subarray(fixed, fixed + length).toString('utf8'));
      return typeof header === 'object' && header !== null ? header : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** n-gram counts from an ARPA file's \data\ section. */
function arpaCounts(file: string): number[] | undefined {
  try {
    const raw = readPrefix(file, ARPA_HEAD_BYTES);
    // A gzipped ARPA (KenLM writes them): its first bytes inflated, capped (drive13 L8: described by its size alone).
    const head = (file.endsWith('.gz') ? inflatePrefix(raw, ARPA_HEAD_BYTES * 64) : raw)?.toString('utf8');
    if (!head) return undefined;
    const counts = [...head.matchAll(/^ngram (\d+)=(\d+)/gm)].map((m) => Number(m[2]));
    return counts.length ? counts : undefined;
  } catch {
    return undefined;
  }
}

const TOKENIZER_NAMES: Record<string, string> = {
  editor: 'editor tokens (words with their leading space, punctuation, whitespace)',
  whitespace: 'whitespace-separated words (KenLM)',
};

export function ngramFacts(file: string): ModelFacts {
  let bytes: number | undefined;
  try {
    bytes = fs.statSync(file).size;
  } catch {
    bytes = undefined;
  }
  const facts: ModelFacts = { parametersAre: 'n-grams', architecture: 'Kneser-Ney n-gram', file: path.basename(file), bytes };
  let counts: unknown;
  if (/\.arpa(\.gz)?$/.test(file)) {
    counts = arpaCounts(file);
    facts.tokenizer = TOKENIZER_NAMES.whitespace;
  } else {
    const header = ngramHeader(file);
    counts = header?.counts;
    const metadata = header?.metadata as Record<string, unknown> | undefined;
    if (typeof metadata?.tokenizer === 'string') facts.tokenizer = TOKENIZER_NAMES[metadata.tokenizer] ?? metadata.tokenizer;
  }
  if (Array.isArray(counts) && counts.every((c) => typeof c === 'number')) {
    facts.architecture = `Kneser-Ney ${counts.length}-gram`;
    facts.vocabulary = counts[0];
    facts.parameters = counts.reduce((a: number, b: number) => a + b, 0);
  }
  return facts;
}

/** "GPT-2 transformer, 4 layers, d = 256 · 4.2 M parameters · 20.2 MiB · byte-level BPE, 4,096 tokens · context 128 tokens". */
export function describeFacts(f: ModelFacts): string {
  const parts = [f.architecture];
  if (f.parameters) parts.push(f.parametersAre === 'n-grams' ? `${int(f.parameters)} n-grams` : `${+(f.parameters / 1e6).toFixed(1)} M parameters`);
  if (f.bytes !== undefined) parts.push(formatBytes(f.bytes));
  if (f.tokenizer || f.vocabulary) parts.push([f.tokenizer, f.vocabulary ? `${int(f.vocabulary)} tokens` : undefined].filter(Boolean).join(', '));
  if (f.context) parts.push(`context ${int(f.context)} tokens`);
  // First: a long row is cut at its end (drive18 L4: the note was out of sight).
  if (f.note) parts.unshift(f.note);
  return parts.join(' · ');
}
