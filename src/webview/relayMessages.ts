/**
 * The engine protocol relayed through a webview page, one message type for both ends: the
 * extension (vscode/webviewEngineHost.ts) posts engine requests to the page, the page
 * (engineRelay.ts) hands them to its Web Worker and posts the worker's responses back. Webview
 * messages are serialised: model files cross as ArrayBuffers, but typed arrays in results cross
 * as plain arrays (`toRelay`, `fromRelay`). Pure: used by the page and the extension host.
 */
import type { EngineOp, EngineRequest, EngineResponse, EngineResult, OpResult } from '../core/engine/protocol';
import type { PieceAnswer } from './filePieces';
import type { AdapterReport } from './gpuAdapter';

/** A result with its typed arrays as plain arrays. */
type Plain<R> = { [F in keyof R]: R[F] extends Float64Array | Int32Array ? number[] : R[F] };

export type RelayedResponse =
  { [K in EngineOp]: { id: number; ok: true; op: K; result: Plain<OpResult<K>> } }[EngineOp] | Exclude<EngineResponse, EngineResult>;

/**
 * From the extension to the page: an engine request (a `load` names the model's files, which the
 * page asks for piece by piece: the extension host then holds one piece at a time, not a whole
 * graph, drive16 H1), or the answer to a `readFile`.
 */
export type RelayToPage = { type: 'request'; request: EngineRequest } | ({ type: 'filePiece'; read: number } & PieceAnswer);

/** From the page to the extension: ready (with its WebGPU adapter), a response, a failure of its worker, or a piece of a model file it loads. */
export type RelayFromPage =
  | { type: 'ready'; webgpu: boolean; adapter: AdapterReport }
  | { type: 'response'; response: RelayedResponse }
  | { type: 'fatal'; error: string }
  | { type: 'readFile'; read: number; role: string; offset: number };

/** The typed-array fields of results, and their types. */
const TYPED_FIELDS: Record<string, { from(values: number[]): Float64Array | Int32Array }> = { logProbs: Float64Array, ranks: Int32Array };

/** A worker's response as the page posts it. */
export function toRelay(res: EngineResponse): RelayedResponse {
  if (!res.ok || !('result' in res)) return res;
  const result = Object.fromEntries(Object.entries(res.result).map(([k, v]) => [k, ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v]));
  return { ...res, result } as RelayedResponse;
}

/** A relayed response as the engine's connection takes it. */
export function fromRelay(res: RelayedResponse): EngineResponse {
  if (!res.ok || !('result' in res)) return res;
  const result = Object.fromEntries(
    Object.entries(res.result).map(([k, v]) => [k, Object.hasOwn(TYPED_FIELDS, k) && Array.isArray(v) ? TYPED_FIELDS[k].from(v) : v]),
  );
  return { ...res, result } as EngineResponse;
}
