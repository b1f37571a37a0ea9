/** Shared fixtures for the unit tests. */
import * as fs from 'fs';
import * as path from 'path';
import type { LoadSpec } from '../../src/core/engine/protocol';
import type { CancelSignal } from '../../src/core/errors';
import type { LanguageModel, ModelInfo, SequenceScores, Token, Tokenizer } from '../../src/core/model';
import { NGRAM_CAPABILITIES } from '../../src/core/ngram/ngramLanguageModel';
import { ONNX_CAPABILITIES } from '../../src/core/neural/onnxCausalLm';
import { sequenceScoresFromDistributions } from '../../src/core/scoring';
import { scoreInChunks } from '../../src/editor/chunkedScoring';

export const REPO = path.resolve(__dirname, '..', '..', '..');
export const CORPUS = path.resolve(REPO, '..', 'shared', 'corpus', 'en');
/** The tiny Hugging Face ONNX models training/make_fixtures.py builds, with their PyTorch reference. */
export const ONNX_FIXTURES = path.join(REPO, 'test', 'fixtures', 'models');

/** Info of toy models: one that reads exactly its last tokens (as an n-gram model) or a window (as a transformer). */
export const MARKOV_TEST_MODEL = { backend: 'test', capabilities: NGRAM_CAPABILITIES } as const;
export const WINDOW_TEST_MODEL = { backend: 'test', capabilities: ONNX_CAPABILITIES } as const;

/** The `load` of a test engine whose server opens a model it already holds. */
export const TEST_LOAD_SPEC: LoadSpec = { backend: 'test', name: 'test', source: { path: '' }, device: 'auto' };

export function corpusFiles(split: 'train' | 'valid'): string[] {
  const dir = path.join(CORPUS, split);
  if (!fs.existsSync(dir)) throw new Error(`the shared corpus is missing at ${dir} (expected beside the repository)`);
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => path.join(dir, f));
}

/**
 * A toy model with a fixed next-token table, for exact tests of generation and scoring.
 * Tokens are single characters; id 0 is <s>, 1 is </s>.
 */
export class TableModel implements LanguageModel {
  readonly info: ModelInfo = { name: 'table', ...MARKOV_TEST_MODEL, description: 'toy', contextLength: 1 };
  readonly bosId = 0;
  readonly eosId = 1;
  readonly unkId = undefined;
  readonly unsampleableIds = [0];
  tokenizer: Tokenizer;
  calls = 0;

  constructor(
    readonly symbols: string[],
    /** next[prevId] = probabilities over ids */
    private readonly next: number[][],
  ) {
    const table = this.symbols;
    this.tokenizer = {
      vocabSize: symbols.length,
      sentencePerLine: false,
      encode(text: string, atStart: boolean, offset = 0): Token[] {
        const out: Token[] = atStart ? [{ id: 0, text: '<s>', start: offset, length: 0 }] : [];
        [...text].forEach((ch, i) => {
          const id = table.indexOf(ch);
          if (id < 0) throw new Error(`no symbol ${ch}`);
          out.push({ id, text: ch, start: offset + i, length: 1 });
        });
        return out;
      },
      decode: (ids: readonly number[]) =>
        ids
          .filter((i) => i > 1)
          .map((i) => symbols[i])
          .join(''),
      tokenText: (id: number) => symbols[id],
      continuation: (_previous: readonly number[], id: number) => ({ text: symbols[id] }),
    };
  }

  get vocabSize(): number {
    return this.symbols.length;
  }

  async nextLogProbs(context: readonly number[], signal?: CancelSignal): Promise<Float64Array> {
    if (signal?.cancelled) throw new (await import('../../src/core/errors')).CancelledError();
    this.calls++;
    const row = this.next[context[context.length - 1]];
    return Float64Array.from(row, (p) => Math.log(p));
  }

  sequenceScores(ids: readonly number[], from: number): Promise<SequenceScores> {
    return sequenceScoresFromDistributions(this, ids, from);
  }

  async sequenceLogProbs(ids: readonly number[], from: number): Promise<Float64Array> {
    const out = new Float64Array(ids.length - from);
    for (let i = from; i < ids.length; i++) out[i - from] = Math.log(this.next[ids[i - 1]][ids[i]]);
    return out;
  }
}

/** A small deterministic generator of 32-bit integers (xorshift32), so that a failure can be replayed. */
export function xorshift32(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** A whole text's tokens and their scores, as the document's heat-map and `lmp score` compute them (the model's cache forgotten first). */
export async function wholeTextScores(model: LanguageModel, text: string): Promise<{ tokens: Token[]; logProbs: Float64Array; ranks: Int32Array }> {
  const tokens = model.tokenizer.encode(text, true, 0);
  const logProbs = new Float64Array(tokens.length);
  const ranks = new Int32Array(tokens.length);
  await model.forgetContext?.();
  await scoreInChunks(
    model,
    tokens.map((t) => t.id),
    1,
    tokens.length,
    {
      onChunk: (start, r) => {
        logProbs.set(r.logProbs, start);
        ranks.set(r.ranks, start);
      },
    },
  );
  return { tokens, logProbs, ranks };
}
