/**
 * The remote backend: a model served over HTTP, referenced as `http(s)://HOST[:PORT]/v1#MODEL`
 * (core/remote/remoteRef.ts). Opening it asks the server for its models (checking that the named
 * one is there) and, unless the reference sets it, which API dialect it speaks; no request is
 * made before, and none after the model is disposed.
 */
import { CancelledError, LmError, type CancelSignal } from '../../core/errors';
import { pickModelHint } from '../../core/remote/fixHints';
import { parseRemoteRef, type Dialect, type RemoteRef } from '../../core/remote/remoteRef';
import type { RemoteDialect } from '../remote/dialect';
import { Endpoint, NetworkError, type EndpointOptions } from '../remote/endpoint';
import { llamaCppDialect } from '../remote/llamaCppDialect';
import { ollamaDialect } from '../remote/ollamaDialect';
import { openaiDialect } from '../remote/openaiDialect';
import { REMOTE_CAPABILITIES, RemoteLanguageModel } from '../remote/remoteModel';
import type { ModelBackend } from './backend';

export const DIALECT_APIS: Record<Dialect, RemoteDialect> = { openai: openaiDialect, 'llama.cpp': llamaCppDialect, ollama: ollamaDialect };

/** The endpoint of a reference: its routes hang from the server's root. */
export function endpointFor(ref: RemoteRef, options: EndpointOptions = {}): Endpoint {
  return new Endpoint(`${ref.root}/`, ref.baseUrl, options);
}

/**
 * Which API the server speaks: Ollama answers `GET /api/version`, llama.cpp's server `GET /props`
 * with its generation settings; anything else is taken as the OpenAI API (vLLM, SGLang). Both are
 * asked at once; a server that gives no answer at all (refused, silent) ends the detection with
 * that error, after one timeout rather than one per route.
 */
export async function detectDialect(endpoint: Endpoint, signal?: CancelSignal): Promise<Dialect> {
  const probe = async (path: string, test: (j: Record<string, unknown>) => boolean) => {
    try {
      const j = await endpoint.json(path, undefined, signal);
      return j !== null && typeof j === 'object' && test(j as Record<string, unknown>);
    } catch (e) {
      if (e instanceof NetworkError || e instanceof CancelledError) throw e;
      return false; // an answer, but not this API's
    }
  };
  const [ollama, llamaCpp] = await Promise.all([
    probe('api/version', (j) => typeof j.version === 'string'),
    probe('props', (j) => typeof j.default_generation_settings === 'object'),
  ]);
  return ollama ? 'ollama' : llamaCpp ? 'llama.cpp' : 'openai';
}

/** Opens a remote model: lists the server's models, checks the named one is among them, detects the dialect. */
export async function openRemote(spec: string, options: EndpointOptions = {}): Promise<RemoteLanguageModel> {
  const ref = parseRemoteRef(spec);
  if (!ref) throw new LmError(`${spec} is not a remote model reference`);
  const endpoint = endpointFor(ref, options);
  try {
    const dialect = DIALECT_APIS[ref.dialect ?? (await detectDialect(endpoint))];
    const models = await dialect.listModels(endpoint);
    const found = models.find((m) => m.id === ref.model);
    if (!found)
      throw new LmError(
        `${ref.baseUrl}: the server has no model "${ref.model}"; it serves ${servedList(models.map((m) => m.id))} (${pickModelHint(ref.baseUrl)})`,
      );
    return new RemoteLanguageModel(ref, dialect, endpoint, found.contextLength, undefined, found.markovContext);
  } catch (e) {
    endpoint.close();
    throw e;
  }
}

/** Models shown in a message at most: a server may list thousands. */
const LISTED_MODELS = 20;

/** The served models for a message: the first 20 (each cut at 100 characters) and how many more. */
function servedList(ids: string[]): string {
  if (ids.length === 0) return 'none';
  const shown = ids.slice(0, LISTED_MODELS).map((id) => (id.length > 100 ? `${id.slice(0, 100)}…` : id));
  return `${shown.join(', ')}${ids.length > LISTED_MODELS ? ` and ${(ids.length - LISTED_MODELS).toLocaleString('en-US')} more` : ''}`;
}

export const remoteBackend: ModelBackend = {
  id: 'remote',
  label: 'a model on a server (http(s)://HOST[:PORT]/v1#MODEL)',
  accepts: 'a model on an OpenAI-compatible server, as http(s)://HOST[:PORT]/v1#MODEL (vLLM, SGLang; llama.cpp and Ollama generate only)',
  fileExtensions: [],
  capabilities: REMOTE_CAPABILITIES,
  // A URL names no file: taken as it is. A malformed one is not recognised (recognizeModel says why).
  recognize: (ref) => {
    if (ref.path !== undefined) return undefined;
    try {
      return parseRemoteRef(ref.spec) ? ref.spec.trim() : undefined;
    } catch {
      return undefined;
    }
  },
  open: (model, options) => openRemote(model.location, { apiKey: options.apiKey }),
  facts: (model) => {
    const ref = parseRemoteRef(model.location);
    return ref ? { parametersAre: 'weights', architecture: `served at ${ref.baseUrl}${ref.dialect ? ` (${ref.dialect})` : ''}` } : undefined;
  },
};
