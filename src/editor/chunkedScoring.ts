/**
 * Scores a long token sequence in chunks, with ranks, so that a 100k-token file neither blocks
 * the thread the model runs in nor has to finish before the first results show. Chunks grow or
 * shrink to take about `targetMs` each; the thread is yielded between chunks.
 *
 * A model with a context window reads the sequence in the windows of `slidingWindow.ts`, counted
 * from `ids[0]` whatever the chunks: a token's context is then known from its position alone
 * (`windowStartFor`), so the hover can ask for the very number the heat-map shows, and the status
 * bar's scoring (`ScoreStream`) gives each token the same context too.
 */
import { throwIfCancelled, type CancelSignal } from '../core/errors';
import type { LanguageModel, SequenceScores } from '../core/model';
import { nextPieceSize } from '../core/pieceSize';
import { windowStartFor } from '../core/slidingWindow';

export interface ChunkOptions {
  targetMs?: number;
  signal?: CancelSignal;
  /** Scores of tokens [start, start + scores.length), as each chunk is done. */
  onChunk?: (start: number, scores: SequenceScores) => void;
  /** The document's tokens before `ids[0]` (documentPlacement), whose windows are counted from its start. */
  tokensBefore?: number;
  /**
   * After each chunk the thread rests this fraction of the chunk's time: for a model that computes
   * on the caller's thread, so that the rest of the extension host gets a share (0: none).
   */
  restRatio?: number;
}

/**
 * The first token the prediction of `ids[position]` is given, as `scoreInChunks` scores it, when
 * `ids[0]` is the document's token `before` (its text window's start far into it): the window the
 * whole document is scored in, or as much of it as `ids` holds.
 */
export function chunkContextStart(model: LanguageModel, position: number, before = 0): number {
  const W = Math.max(1, model.info.contextLength);
  return model.info.capabilities.context === 'window' ? Math.max(0, windowStartFor(position + before, W) - before) : Math.max(0, position - W);
}

export async function scoreInChunks(model: LanguageModel, ids: readonly number[], from: number, to: number, options: ChunkOptions = {}): Promise<void> {
  await inChunks(model, ids, from, to, options, (part, at) => model.sequenceScores(part, at, options.signal), options.onChunk);
}

/**
 * As `scoreInChunks`, the log-probs alone (`sequenceLogProbs`): the status bar's incremental
 * scoring, which needs no ranks (an n-gram model computes a whole distribution per rank).
 */
export async function logProbsInChunks(
  model: LanguageModel,
  ids: readonly number[],
  from: number,
  to: number,
  options: Omit<ChunkOptions, 'onChunk'> & { onChunk?: (start: number, logProbs: Float64Array) => void } = {},
): Promise<void> {
  await inChunks(model, ids, from, to, options, (part, at) => model.sequenceLogProbs(part, at, options.signal), options.onChunk);
}

/** Contexts longer than a first piece's usual size are warmed before it (a shorter one costs a piece anyway). */
const WARM_CONTEXT_OVER = 64;

async function inChunks<R extends Float64Array | SequenceScores>(
  model: LanguageModel,
  ids: readonly number[],
  from: number,
  to: number,
  options: Omit<ChunkOptions, 'onChunk'>,
  ask: (part: readonly number[], at: number) => Promise<R>,
  onChunk: ((start: number, scores: R) => void) | undefined,
): Promise<void> {
  const target = options.targetMs ?? 40;
  const windowed = model.info.capabilities.context === 'window';
  const W = Math.max(1, model.info.contextLength);
  const before = options.tokensBefore ?? 0;
  let size = 64;
  let start = Math.max(from, 1);
  let warmed = false;
  while (start < to) {
    throwIfCancelled(options.signal);
    let end = Math.min(to, start + size);
    const base = chunkContextStart(model, start, before);
    // A long context the cache may not hold (scoring the end of a document after an edit, after a
    // hover elsewhere) is read first by the model's warm-up, which gives way to other requests
    // between short passes: otherwise the first piece reads all of it in one request, and a hover
    // waits for that (drive6: 110 s for ten tokens at the end, a hover 124 s). Once: the pieces
    // after it extend what the cache holds.
    if (!warmed && model.warmContext && !model.server && start - base > WARM_CONTEXT_OVER) {
      await model.warmContext(ids.slice(base, start), options.signal);
      throwIfCancelled(options.signal);
    }
    warmed = true;
    // A window's scores stop where the next window takes over (a window cut at ids[0] too).
    if (windowed) end = Math.min(end, windowStartFor(start + before, W) - before + W);
    const t0 = Date.now();
    const s = await ask(ids.slice(base, end), start - base);
    const ms = Date.now() - t0;
    onChunk?.(start, s);
    size = nextPieceSize(size, ms, target);
    start = end;
    await new Promise<void>((resolve) => setTimeout(resolve, ms * (options.restRatio ?? 0)));
  }
}
