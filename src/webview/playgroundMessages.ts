/** Messages between the LM Playground panel's page and the extension. */
import type { Query } from '../playground/query';
import type { RelayMessage, RelayRequest } from './engineRelay';
import type { OrtBinaryUrls } from './ortBinaries';

/** A model the page can load into its engine worker: the files it may ask the extension for (`readModelFile`). */
export interface PlaygroundModel {
  label: string;
  spec: string;
  kind: 'ngram' | 'neural';
  origin: string;
  /** neural: config, tokenizer, tokenizerConfig?, generationConfig?, onnx, data:LOCATION for each external data file; n-gram: file. */
  files: string[];
  /** neural: the graph's path in the folder and its precision variant. */
  graph?: { path: string; dtype?: string };
}

export interface PlaygroundConfig {
  workerUrl: string;
  ortBinaries: OrtBinaryUrls;
  models: PlaygroundModel[];
  defaultModel: string;
  /** The query to show first (restored state, or an opened file). */
  query?: Query;
  /** Where the page's own engine runs neural models (lmPlayground.device; native counts as auto). */
  device?: 'auto' | 'webgpu' | 'wasm';
}

export type ToPlaygroundPage =
  | { type: 'setQuery'; query: Query; source: string }
  | { type: 'error'; message: string }
  | { type: 'request'; request: RelayRequest }
  /** The answer to `readModelFile`: the file's bytes, or why not. */
  | { type: 'modelFile'; id: number; bytes?: ArrayBuffer; error?: string };

export type FromPlaygroundPage =
  | RelayMessage
  | { type: 'saveQuery'; query: Query }
  | { type: 'openQuery' }
  | { type: 'readModelFile'; id: number; spec: string; name: string }
  | { type: 'ran'; model: string; device: string; tokensPerSecond: number }
  | { type: 'error'; message: string };
