/**
 * Messages between a host (extension host, webview page) and an engine worker (Node worker
 * thread or browser Web Worker). One model per worker; requests carry ids so several can be in
 * flight; `cancel` makes a queued or running request fail with "cancelled" at its next step.
 */
export interface ModelDescription {
  name: string;
  kind: 'ngram' | 'neural';
  description: string;
  contextLength: number;
  device?: string;
  vocabSize: number;
  bosId?: number;
  eosId?: number;
  unkId?: number;
  unsampleableIds: number[];
}

export type EngineRequest =
  | { id: number; op: 'load'; spec: unknown }
  | { id: number; op: 'nextLogProbs'; context: number[] }
  | { id: number; op: 'sequenceLogProbs'; ids: number[]; from: number }
  | { id: number; op: 'sequenceScores'; ids: number[]; from: number }
  | { id: number; op: 'cancel'; target: number }
  | { id: number; op: 'dispose' };

export type EngineResponse =
  | { id: number; ok: true; model?: ModelDescription; logProbs?: Float64Array; ranks?: Int32Array }
  | { id: number; ok: false; error: string; kind: 'cancelled' | 'format' | 'error' };
