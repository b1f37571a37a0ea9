/**
 * A remote model reference: `http(s)://HOST[:PORT]/v1#MODEL`, an OpenAI-compatible base URL and
 * the server's name of the model, optionally `?dialect=openai|llama.cpp|ollama` before the `#`.
 * Pure: parsed here, opened by the remote backend (src/node/backends/remoteBackend.ts).
 */
import { LmError } from '../errors';

/** How a server is asked: vLLM/SGLang's OpenAI API, llama.cpp's llama-server, Ollama. */
export type Dialect = 'openai' | 'llama.cpp' | 'ollama';
export const DIALECTS: readonly Dialect[] = ['openai', 'llama.cpp', 'ollama'];

export interface RemoteRef {
  /** The OpenAI-compatible base URL, without query or fragment: `http://127.0.0.1:8000/v1`. */
  baseUrl: string;
  /** The server's root (the base URL without `/v1`): llama.cpp's and Ollama's own routes hang there. */
  root: string;
  /** `http://host:port`, for messages and the per-endpoint request cap. */
  origin: string;
  model: string;
  /** Set in the reference; absent: detected when the model opens. */
  dialect?: Dialect;
}

/** Whether `spec` is meant as a remote reference (an http(s) URL): such a spec is never a path. */
export function isRemoteSpec(spec: string): boolean {
  return /^https?:\/\//i.test(spec.trim());
}

const FORM = 'http(s)://HOST[:PORT]/v1#MODEL, e.g. http://127.0.0.1:8000/v1#gpt-classics';

/** Parses a remote reference; undefined when it is no http(s) URL, an LmError naming the fault when it is a malformed one. */
export function parseRemoteRef(spec: string): RemoteRef | undefined {
  const trimmed = spec.trim();
  if (!isRemoteSpec(trimmed)) return undefined;
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new LmError(`${trimmed} is not a valid URL; a remote model is given as ${FORM}`);
  }
  if (url.username || url.password)
    throw new LmError(`${url.origin}: a remote model's URL must not hold credentials; give the API key when LM: Select Model asks (or in LMP_API_KEY for lmp)`);
  const model = decodeURIComponent(url.hash.replace(/^#/, '')).trim();
  if (!model) throw new LmError(`${trimmed} names no model; add it after a #: ${FORM}`);
  const path = url.pathname.replace(/\/+$/, '');
  if (!path.endsWith('/v1')) throw new LmError(`${trimmed}: the base URL must end with /v1 (the OpenAI-compatible API's root): ${FORM}`);
  let dialect: Dialect | undefined;
  for (const [key, value] of url.searchParams) {
    if (key !== 'dialect') throw new LmError(`${trimmed}: unknown parameter ${key}; only dialect=${DIALECTS.join('|')} is accepted`);
    if (!DIALECTS.includes(value as Dialect)) throw new LmError(`${trimmed}: dialect must be one of ${DIALECTS.join(', ')}, got ${JSON.stringify(value)}`);
    dialect = value as Dialect;
  }
  const baseUrl = `${url.origin}${path}`;
  return { baseUrl, root: `${url.origin}${path.slice(0, -'/v1'.length)}`, origin: url.origin, model, dialect };
}

/** The reference for a base URL and a model (what LM: Select Model writes). */
export function remoteSpec(baseUrl: string, model: string, dialect?: Dialect): string {
  const base = baseUrl.trim().replace(/\/+$/, '');
  return `${base}${dialect ? `?dialect=${dialect}` : ''}#${encodeURIComponent(model).replace(/%2F/g, '/').replace(/%3A/g, ':')}`;
}
