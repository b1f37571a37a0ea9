/** Messages between the LM Playground panel's page and the extension. */
import type { BackendCapabilities } from '../core/backends/capabilities';
import type { EngineRequest } from '../core/engine/protocol';
import type { Query } from '../playground/query';
import type { OrtBinaryUrls } from './ortBinaries';
import type { RelayFromPage, RelayToPage, RelayedResponse } from './relayMessages';

/**
 * A model the page can load into its engine worker: the files it may ask the extension for
 * (`readModelFile`); or, with `host`, one the extension runs (a GGUF file, in its Node worker; a
 * model on a server): the page sends its engine requests there (`hostEngine`), loading it by its spec.
 */
export interface PlaygroundModel {
  label: string;
  spec: string;
  /** The registry's name of the backend that opens it in the page's worker. */
  backend: string;
  capabilities: BackendCapabilities;
  origin: string;
  /** Its files by role (the backend's), each with its name relative to the model. */
  files: Record<string, string>;
  /** The runtime whose binaries the page adds to the load. */
  runtime?: 'onnxruntime-web';
  host?: boolean;
  /** Where a host model computes (playgroundHostPlace): its server, or an engine process of the extension. */
  runsIn?: string;
}

/** A model of the editor's lists that the page cannot run (listed greyed out, with why, not left out unsaid). */
export interface UnavailablePlaygroundModel {
  label: string;
  spec: string;
  origin: string;
  why: string;
}

export interface PlaygroundConfig {
  workerUrl: string;
  ortBinaries: OrtBinaryUrls;
  models: PlaygroundModel[];
  unavailable: UnavailablePlaygroundModel[];
  defaultModel: string;
  /** The query to show first (the last panel's, kept in the workspace's state, or an opened file). */
  query?: Query;
  /** The results to show first (savedResults.ts's JSON): the last panel's, or the opened file's. */
  results?: string;
  /** Where the page's own engine runs neural models (lmPlayground.device; native counts as auto). */
  device?: 'auto' | 'webgpu' | 'wasm';
}

export type ToPlaygroundPage =
  | { type: 'setQuery'; query: Query; source: string }
  | { type: 'error'; message: string }
  /** The models offered changed (trained, downloaded, selected, the setting edited). */
  | { type: 'models'; models: PlaygroundModel[]; unavailable: UnavailablePlaygroundModel[]; defaultModel: string }
  | RelayToPage
  /** The answer to `readModelFile`: the file's bytes from the offset asked (a piece of at most PAGE_FILE_PIECE_BYTES) and its size, or why not. */
  | { type: 'modelFile'; id: number; bytes?: ArrayBuffer; size?: number; error?: string }
  /** A response of the extension's engine for a `host` model. */
  | { type: 'hostEngine'; response: RelayedResponse };

export type FromPlaygroundPage =
  | RelayFromPage
  /** `holds`: the results saved with it, in words ("2 results and 1 branch"). */
  | { type: 'saveQuery'; query: Query; holds?: string }
  /** The form and results to keep for the next panel (results absent: none, or too large). */
  | { type: 'keep'; query: Query; results?: string }
  | { type: 'openQuery' }
  | { type: 'readModelFile'; id: number; spec: string; name: string; offset?: number }
  | { type: 'ran'; model: string; device: string; tokensPerSecond: number }
  /** An engine request for a `host` model, run by the extension. */
  | { type: 'hostEngine'; request: EngineRequest }
  | { type: 'error'; message: string };
