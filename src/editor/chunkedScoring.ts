/**
 * Scores a long token sequence in chunks, with ranks, so that a 100k-token file neither blocks
 * the thread the model runs in nor has to finish before the first results show. Chunks grow or
 * shrink to take about `targetMs` each; the thread is yielded between chunks.
 */
import { throwIfCancelled, type CancelSignal } from '../core/errors';
import type { LanguageModel, SequenceScores } from '../core/model';

export interface ChunkOptions {
  targetMs?: number;
  signal?: CancelSignal;
  /** Scores of tokens [start, start + scores.length), as each chunk is done. */
  onChunk?: (start: number, scores: SequenceScores) => void;
}

export async function scoreInChunks(model: LanguageModel, ids: readonly number[], from: number, to: number, options: ChunkOptions = {}): Promise<void> {
  const target = options.targetMs ?? 40;
  // Tokens before a chunk that the model can use: enough for the same numbers as one long call.
  const context = Math.max(1, model.info.contextLength);
  let size = 64;
  let start = Math.max(from, 1);
  while (start < to) {
    throwIfCancelled(options.signal);
    const end = Math.min(to, start + size);
    const base = Math.max(0, start - context);
    const t0 = Date.now();
    const s = await model.sequenceScores(ids.slice(base, end), start - base, options.signal);
    const ms = Date.now() - t0;
    options.onChunk?.(start, s);
    size = Math.max(16, Math.min(8192, Math.round(size * Math.min(4, Math.max(0.25, target / Math.max(1, ms))))));
    start = end;
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
  }
}
