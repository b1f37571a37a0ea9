/**
 * A server's error answer in words, naming the endpoint and the fix. Error bodies differ by
 * server: the OpenAI API and llama.cpp send `{"error": {"message", "type", "code"}}`, older vLLM
 * `{"object": "error", "message", "type", "code"}`, Ollama `{"error": "…"}`.
 */
import { LmError } from '../../core/errors';
import { apiKeyHint, pickModelHint } from '../../core/remote/fixHints';

export interface ErrorContext {
  /** The model the request named (a 404 is then most likely about it). */
  model?: string;
  /** What the request asked for, when a 400 is likely about a limit of the server ("top-k 20"). */
  asked?: string;
}

/** The message inside an error body, whatever its shape; the body's start when it has none. */
export function errorMessage(body: string): string {
  try {
    const j = JSON.parse(body) as { error?: unknown; message?: unknown; detail?: unknown };
    if (typeof j.error === 'string') return j.error;
    if (j.error && typeof j.error === 'object' && typeof (j.error as { message?: unknown }).message === 'string')
      return (j.error as { message: string }).message;
    if (typeof j.message === 'string') return j.message;
    if (typeof j.detail === 'string') return j.detail;
  } catch {
    // not JSON: the text itself
  }
  const text = body.trim().replace(/\s+/g, ' ');
  return text.length > 200 ? `${text.slice(0, 200)}…` : text || '(no message)';
}

export function describeServerError(status: number, body: string, name: string, context: ErrorContext = {}): LmError {
  const message = errorMessage(body);
  const said = `(${status}: ${message})`;
  if (status === 401 || status === 403) return new LmError(`${name}: the server refused the API key ${said}; give the right key with ${apiKeyHint()}`);
  if (status === 404) {
    if (context.model && (/model/i.test(message) || /not.?found/i.test(message)))
      return new LmError(`${name}: the server has no model "${context.model}" ${said}; pick one it serves (${pickModelHint(name)})`);
    return new LmError(`${name}: not found ${said}: the URL should be the API's root ending in /v1, and the dialect must match the server`);
  }
  if (status === 400 || status === 422) {
    const limit = /logprob|max_tokens|context|length|too (long|many|large)|maximum/i.test(message);
    const fix = limit
      ? `it is a limit of the server${context.asked ? ` (asked: ${context.asked})` : ''}: ask for fewer alternatives (lmPlayground.hover.topK, --top-k) or a shorter text, or raise the limit where the server starts (vLLM: --max-logprobs, --max-model-len)`
      : 'the server does not take this request: check that the dialect matches the server';
    return new LmError(`${name}: the server refused the request ${said}; ${fix}`);
  }
  if (status === 413) return new LmError(`${name}: the request is too large for the server ${said}; select a shorter text`);
  if (status === 429 || status === 503) return new LmError(`${name}: the server stayed busy ${said} after several retries; try again later`);
  return new LmError(`${name}: the server failed ${said}; see its log`);
}
