/**
 * Tokenizing a novel with offsets (what the heat-map and `lmp score` do first): a SentencePiece BPE
 * with byte fallback, trained by SentencePiece on the training books at bench time
 * (scripts/sentencepiece_tokenizer.py, Debian's python3-sentencepiece), in the Llama 2 layout, and
 * the embedded gpt-classics byte-level BPE; each against @huggingface/tokenizers giving ids alone.
 */
import { Tokenizer as LibraryHfTokenizer } from '@huggingface/tokenizers';
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { HuggingFaceTokenizer } from '../src/core/neural/hfTokenizer';
import { median } from './benchFigures';

export interface TokenizerRow {
  label: string;
  tokens: number;
  /** Median seconds: ids and offsets by the product's tokenizer. */
  seconds: number;
  /** Median seconds: ids alone by @huggingface/tokenizers. */
  librarySeconds: number;
  /** Whether the ids equal the reference (SentencePiece's own, or the library's). */
  idsMatch: boolean;
  reference: string;
}

const LLAMA_2_LAYOUT = {
  normalizer: {
    type: 'Sequence',
    normalizers: [
      { type: 'Prepend', prepend: '▁' },
      { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
    ],
  },
  pre_tokenizer: null,
  decoder: {
    type: 'Sequence',
    decoders: [
      { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
      { type: 'ByteFallback' },
      { type: 'Fuse' },
      { type: 'Strip', content: ' ', start: 1, stop: 0 },
    ],
  },
};

const SENTENCEPIECE_VOCAB = 8000;

function secondsOf(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

/**
 * Trains the SentencePiece model into a temporary folder; returns tokenizer.json and SentencePiece's
 * ids digest for `textFile`, or the reason it could not.
 */
function trainSentencePiece(root: string, trainFiles: string[], textFile: string): { json: object; digest: { count: number; sha256: string } } | string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-bench-sp-'));
  try {
    const r = spawnSync(
      '/usr/bin/python3',
      [
        path.join(root, 'scripts', 'sentencepiece_tokenizer.py'),
        '--vocab-size',
        String(SENTENCEPIECE_VOCAB),
        '--out',
        dir,
        '--reference',
        textFile,
        ...trainFiles,
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0)
      return `SentencePiece could not train (apt-get install -y python3-sentencepiece): ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`;
    const model = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
    const reference = JSON.parse(fs.readFileSync(path.join(dir, 'reference.json'), 'utf8'));
    return {
      json: { version: '1.0', added_tokens: model.added_tokens, ...LLAMA_2_LAYOUT, post_processor: null, model: model.model },
      digest: reference.texts[0].ids_prefix,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function row(label: string, json: object, text: string, runs: number, reference: string, referenceIds?: { count: number; sha256: string }): TokenizerRow {
  const ours = new HuggingFaceTokenizer(json, {}, undefined);
  const library = new LibraryHfTokenizer(json, {});
  let ids: number[] = [];
  let libraryIds: number[] = [];
  // Turns: the two alternate run by run, after a warm-up each.
  ours.encode(text, true);
  library.encode(text, { add_special_tokens: false });
  const mine: number[] = [];
  const theirs: number[] = [];
  for (let i = 0; i < runs; i++) {
    mine.push(secondsOf(() => (ids = ours.encode(text, true).map((t) => t.id))));
    theirs.push(secondsOf(() => (libraryIds = library.encode(text, { add_special_tokens: false }).ids)));
  }
  const idsMatch = referenceIds
    ? ids.length === referenceIds.count && createHash('sha256').update(ids.join(',')).digest('hex') === referenceIds.sha256
    : ids.length === libraryIds.length && ids.every((id, i) => id === libraryIds[i]);
  return { label, tokens: ids.length, seconds: median(mine), librarySeconds: median(theirs), idsMatch, reference };
}

/** The rows, or the reason the SentencePiece one is missing in place of it. */
export function benchTokenizers(root: string, corpus: string, novelFile: string, runs: number): (TokenizerRow | string)[] {
  const text = fs.readFileSync(novelFile, 'utf8');
  const trainDir = path.join(corpus, 'train');
  const trainFiles = fs
    .readdirSync(trainDir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => path.join(trainDir, f));
  const rows: (TokenizerRow | string)[] = [];
  const sp = trainSentencePiece(root, trainFiles, novelFile);
  if (typeof sp === 'string') rows.push(sp);
  else
    rows.push(
      row(
        `SentencePiece BPE with byte fallback, ${SENTENCEPIECE_VOCAB.toLocaleString('en-US')} tokens, Llama 2 layout (no pre-tokenizer: BPE on the whole text)`,
        sp.json,
        text,
        runs,
        "SentencePiece's",
        sp.digest,
      ),
    );
  const gpt = JSON.parse(fs.readFileSync(path.join(root, 'models', 'gpt-classics', 'tokenizer.json'), 'utf8'));
  rows.push(row('`gpt-classics` byte-level BPE, 4,096 tokens', gpt, text, runs, "the library's"));
  return rows;
}
