/**
 * Messages between a host (extension host, webview page) and an engine worker (Node worker
 * thread or browser Web Worker). One model per worker; requests carry ids so several can be in
 * flight; `cancel` makes a queued or running request fail with "cancelled" at its next step.
 */
import type { Completion, GenerationOptions, GeneratedToken } from '../generation';
import type { Alternative } from '../scoring';

export interface ModelDescription {
  name: string;
  kind: 'ngram' | 'neural';
  description: string;
  contextLength: number;
  device?: string;
  /** A neural model's precision variant ("fp32", "q4" …). */
  precision?: string;
  vocabSize: number;
  bosId?: number;
  eosId?: number;
  /** Every end-of-sequence token, when the model has several. */
  eosIds?: number[];
  unkId?: number;
  unsampleableIds: number[];
}

export type EngineRequest =
  | { id: number; op: 'load'; spec: unknown }
  | { id: number; op: 'nextLogProbs'; context: number[] }
  | { id: number; op: 'sequenceLogProbs'; ids: number[]; from: number }
  | { id: number; op: 'sequenceScores'; ids: number[]; from: number }
  /** Generation in the worker, tokens streamed back as partial responses (the playground). */
  | { id: number; op: 'generate'; prompt: string; options: GenerationOptions }
  /** The next-token distribution after a prompt: its top tokens and entropy. */
  | { id: number; op: 'topTokens'; prompt: string; k: number }
  | { id: number; op: 'cancel'; target: number }
  | { id: number; op: 'dispose' };

export type EngineResponse =
  | {
      id: number;
      ok: true;
      model?: ModelDescription;
      logProbs?: Float64Array;
      ranks?: Int32Array;
      /** Streamed tokens of a `generate` request, in order; the final response has `completions`. */
      partial?: { completion: number; tokens: GeneratedToken[] };
      completions?: Completion[];
      top?: Alternative[];
      entropy?: number;
    }
  | { id: number; ok: false; error: string; kind: 'cancelled' | 'format' | 'error' };
