/**
 * Worker thread that trains a Kneser-Ney model from texts the host sends, so that counting and
 * estimating never block the extension host. Scores the held-out texts and returns the model in
 * the LM Playground binary format.
 */
import { parentPort } from 'worker_threads';
import { writeNgramBinary, type NgramFileMetadata } from '../core/ngram/binaryFormat';
import { DEFAULT_FALLBACK_DISCOUNTS, KneserNeyTrainer } from '../core/ngram/kneserNey';
import { NgramLanguageModel } from '../core/ngram/ngramLanguageModel';
import { addTextToTrainer } from '../core/ngram/textTraining';
import { scoreText } from '../core/scoring';
import type { SkipReason } from '../editor/skippedFiles';
import { trainOnFile } from './trainingFile';

export type ToTrainingWorker =
  | { type: 'start'; order: number }
  | { type: 'text'; train: string; heldOut: string }
  /** A file on disk, read here in chunks (the host never holds its text). */
  | { type: 'file'; path: string }
  | { type: 'finish'; metadata: NgramFileMetadata };

export type FromTrainingWorker =
  | { type: 'added'; tokens: number; skipped?: SkipReason | false }
  /** While a file is read: its bytes read so far and the tokens counted so far (not an answer). */
  | { type: 'progress'; bytes: number; tokens: number }
  | { type: 'done'; bytes: Uint8Array; tokens: number; ngrams: number; heldOut: { logProb: number; tokens: number; chars: number } }
  | { type: 'error'; message: string };

let trainer: KneserNeyTrainer | undefined;
const heldOut: string[] = [];
const post = (m: FromTrainingWorker, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(m, transfer);

parentPort!.on('message', async (m: ToTrainingWorker) => {
  try {
    if (m.type === 'start') trainer = new KneserNeyTrainer({ order: m.order, discountFallback: DEFAULT_FALLBACK_DISCOUNTS, keepCounts: true });
    else if (m.type === 'text') {
      addTextToTrainer(trainer!, m.train, 'editor');
      if (m.heldOut.trim()) heldOut.push(m.heldOut);
      post({ type: 'added', tokens: trainer!.tokenCount });
    } else if (m.type === 'file') {
      const t = trainer!;
      const file = await trainOnFile(t, m.path, (bytes) => post({ type: 'progress', bytes, tokens: t.tokenCount }));
      if (file.heldOut.trim()) heldOut.push(file.heldOut);
      post({ type: 'added', tokens: t.tokenCount, skipped: file.skipped });
    } else {
      const { model, stats } = trainer!.build();
      trainer = undefined;
      const lm = new NgramLanguageModel(model, 'editor', m.metadata.name);
      const score = { logProb: 0, tokens: 0, chars: 0 };
      for (const text of heldOut) {
        const { summary } = await scoreText(lm, text);
        score.logProb += summary.logProbNats;
        score.tokens += summary.tokens;
        score.chars += summary.chars;
      }
      // The host saves the model gzipped: byte planes make it about a fifth smaller.
      const bytes = writeNgramBinary(model, { ...m.metadata, trainingTokens: stats.tokens }, { planes: true });
      post({ type: 'done', bytes, tokens: stats.tokens, ngrams: stats.counts.reduce((a, b) => a + b, 0), heldOut: score }, [bytes.buffer as ArrayBuffer]);
    }
  } catch (e) {
    post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  }
});
