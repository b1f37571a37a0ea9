/**
 * The body of `POST /v1/completions`, checked field by field with vLLM's names, defaults and
 * limits (vllm/entrypoints/openai/completion/protocol.py): a field of the wrong type or out of
 * range is a 400 that names it. Fields that would change the result but that this server cannot
 * honour (penalties, logit_bias, suffix, beam search) are refused unless they have their neutral
 * value; other unknown fields are ignored, as vLLM ignores them.
 */
import { MAX_COMPLETIONS } from '../../core/generation';
import { badRequest } from './apiError';

/** One prompt: text, or token ids of the model's vocabulary. */
export type PromptInput = string | number[];

export interface CompletionRequest {
  model?: string;
  prompts: PromptInput[];
  /** 0 only with echo: the prompt is scored, nothing is generated. */
  maxTokens: number;
  echo: boolean;
  /** Alternatives per position in `logprobs` (0: the token's own log-prob only); undefined: no logprobs. */
  logprobs?: number;
  /** vLLM's prompt_logprobs: alternatives per prompt position in `prompt_logprobs`. */
  promptLogprobs?: number;
  temperature: number;
  topP: number;
  /** 0: off. */
  topK: number;
  n: number;
  seed?: number;
  stop: string[];
  stream: boolean;
  includeUsage: boolean;
  /** vLLM's return_tokens_as_token_ids: tokens named "token_id:ID" (a byte token's text cannot show it). */
  tokensAsIds: boolean;
}

export interface RequestLimits {
  vocabSize: number;
  /** Largest `logprobs` and `prompt_logprobs` (vLLM's --max-logprobs, default 20). */
  maxLogprobs: number;
}

/** Most prompts in one request (a list of prompts is a batch). */
export const MAX_PROMPTS = 64;
/** Most tokens one completion may ask for. */
export const MAX_MAX_TOKENS = 100_000;
/** Most stop sequences. */
export const MAX_STOP_SEQUENCES = 16;
/**
 * Most tokens one request may ask to generate (prompts × n × max_tokens): as much as one longest
 * completion, so that a batch cannot hold the server's slots for many times that.
 */
export const MAX_REQUEST_TOKENS = MAX_MAX_TOKENS;

type Json = Record<string, unknown>;

function isPlainObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optional<T>(body: Json, name: string, check: (v: unknown) => T): T | undefined {
  const v = body[name];
  return v === undefined || v === null ? undefined : check(v);
}

function integer(name: string, min: number, max: number) {
  return (v: unknown): number => {
    if (typeof v !== 'number' || !Number.isInteger(v)) throw badRequest(`\`${name}\` must be an integer, got ${JSON.stringify(v)}`, name);
    if (v < min || v > max) throw badRequest(`\`${name}\` must be from ${min} to ${max}, got ${v}`, name);
    return v;
  };
}

/** `logprobs`, `prompt_logprobs`: 0 up to the server's maximum (vLLM's max_logprobs, named so that a client can tell this limit). */
function topCount(name: string, max: number) {
  return (v: unknown): number => {
    const k = integer(name, 0, Number.MAX_SAFE_INTEGER)(v);
    if (k > max) throw badRequest(`\`${name}\` is ${k}, above this server's maximum of ${max} (max_logprobs; lmp serve --max-logprobs)`, name);
    return k;
  };
}

function boolean(name: string) {
  return (v: unknown): boolean => {
    if (typeof v !== 'boolean') throw badRequest(`\`${name}\` must be true or false, got ${JSON.stringify(v)}`, name);
    return v;
  };
}

function number(name: string) {
  return (v: unknown): number => {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw badRequest(`\`${name}\` must be a number, got ${JSON.stringify(v)}`, name);
    return v;
  };
}

function tokenIds(v: unknown[], vocabSize: number, where: string): number[] {
  if (v.length === 0) throw badRequest(`${where} is an empty list of token ids`, 'prompt');
  v.forEach((id, i) => {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= vocabSize)
      throw badRequest(`${where}[${i}] is ${JSON.stringify(id)}, not a token id of this model (0 to ${vocabSize - 1})`, 'prompt');
  });
  return v as number[];
}

/** `prompt`: a string, token ids, or a list of either (a batch). */
function prompts(v: unknown, vocabSize: number): PromptInput[] {
  if (v === undefined || v === null || v === '') throw badRequest('`prompt` must be given and non-empty', 'prompt');
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v)) throw badRequest('`prompt` must be a string, a list of token ids, or a list of those', 'prompt');
  if (v.length === 0) throw badRequest('`prompt` is an empty list', 'prompt');
  if (v.every((x) => typeof x === 'number')) return [tokenIds(v, vocabSize, 'prompt')];
  if (v.length > MAX_PROMPTS) throw badRequest(`\`prompt\` lists ${v.length} prompts; at most ${MAX_PROMPTS} are taken in one request`, 'prompt');
  return v.map((p, i) => {
    if (typeof p === 'string') {
      if (p === '') throw badRequest(`prompt[${i}] is empty`, 'prompt');
      return p;
    }
    if (Array.isArray(p)) return tokenIds(p, vocabSize, `prompt[${i}]`);
    throw badRequest(`prompt[${i}] must be a string or a list of token ids, got ${JSON.stringify(p)}`, 'prompt');
  });
}

function stops(v: unknown): string[] {
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || !list.every((s) => typeof s === 'string')) throw badRequest('`stop` must be a string or a list of strings', 'stop');
  if (list.length > MAX_STOP_SEQUENCES) throw badRequest(`\`stop\` has ${list.length} sequences; at most ${MAX_STOP_SEQUENCES}`, 'stop');
  if (list.some((s) => s === '')) throw badRequest('`stop` sequences must not be empty', 'stop');
  return list as string[];
}

/** Fields this server does not implement, with the value that means "off". */
const NEUTRAL: [string, (v: unknown) => boolean][] = [
  ['suffix', (v) => v === null || v === undefined || v === ''],
  ['presence_penalty', (v) => v === null || v === undefined || v === 0],
  ['frequency_penalty', (v) => v === null || v === undefined || v === 0],
  ['repetition_penalty', (v) => v === null || v === undefined || v === 1],
  ['logit_bias', (v) => v === null || v === undefined || (isPlainObject(v) && Object.keys(v).length === 0)],
  ['best_of', (v) => v === null || v === undefined || v === 1],
  ['use_beam_search', (v) => v === null || v === undefined || v === false],
  ['min_tokens', (v) => v === null || v === undefined || v === 0],
  ['min_p', (v) => v === null || v === undefined || v === 0],
  ['ignore_eos', (v) => v === null || v === undefined || v === false],
  ['include_stop_str_in_output', (v) => v === null || v === undefined || v === false],
  ['add_special_tokens', (v) => v === null || v === undefined || v === true],
];

export function parseCompletionRequest(body: unknown, limits: RequestLimits): CompletionRequest {
  if (!isPlainObject(body)) throw badRequest('the request body must be a JSON object');
  for (const [name, neutral] of NEUTRAL)
    if (!neutral(body[name])) throw badRequest(`\`${name}\` is not supported by lmp serve (got ${JSON.stringify(body[name])})`, name);
  const model = optional(body, 'model', (v) => {
    if (typeof v !== 'string') throw badRequest('`model` must be a string', 'model');
    return v;
  });
  const echo = optional(body, 'echo', boolean('echo')) ?? false;
  const stream = optional(body, 'stream', boolean('stream')) ?? false;
  const maxTokens = optional(body, 'max_tokens', integer('max_tokens', 0, MAX_MAX_TOKENS)) ?? 16;
  if (maxTokens === 0 && !echo) throw badRequest('`max_tokens` 0 needs `echo`: it generates nothing and only scores the prompt', 'max_tokens');
  const logprobs = optional(body, 'logprobs', topCount('logprobs', limits.maxLogprobs));
  const promptLogprobs = optional(body, 'prompt_logprobs', topCount('prompt_logprobs', limits.maxLogprobs));
  if (promptLogprobs !== undefined && stream) throw badRequest('`prompt_logprobs` are not available when `stream` is true', 'prompt_logprobs');
  const temperature = optional(body, 'temperature', number('temperature')) ?? 1;
  if (temperature < 0) throw badRequest(`\`temperature\` must be ≥ 0, got ${temperature}`, 'temperature');
  const topP = optional(body, 'top_p', number('top_p')) ?? 1;
  if (!(topP > 0 && topP <= 1)) throw badRequest(`\`top_p\` must be in (0, 1], got ${topP}`, 'top_p');
  const topK = optional(body, 'top_k', integer('top_k', -1, Number.MAX_SAFE_INTEGER)) ?? 0;
  const n = optional(body, 'n', integer('n', 1, MAX_COMPLETIONS)) ?? 1;
  const seed = optional(body, 'seed', integer('seed', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER));
  const stop = optional(body, 'stop', stops) ?? [];
  const streamOptions = optional(body, 'stream_options', (v) => {
    if (!isPlainObject(v)) throw badRequest('`stream_options` must be an object', 'stream_options');
    if (!stream) throw badRequest('`stream_options` can only be given when `stream` is true', 'stream_options');
    return v;
  });
  // vLLM's StreamOptions: include_usage defaults to true once stream_options is given.
  const includeUsage = streamOptions ? (optional(streamOptions, 'include_usage', boolean('stream_options.include_usage')) ?? true) : false;
  const tokensAsIds = optional(body, 'return_tokens_as_token_ids', boolean('return_tokens_as_token_ids')) ?? false;
  const inputs = prompts(body.prompt, limits.vocabSize);
  const work = inputs.length * n * maxTokens;
  if (work > MAX_REQUEST_TOKENS)
    throw badRequest(
      `this request asks for ${inputs.length} prompts × n ${n} × max_tokens ${maxTokens} = ${work.toLocaleString('en-US')} tokens; at most ${MAX_REQUEST_TOKENS.toLocaleString('en-US')} in one request: split it`,
      'max_tokens',
    );
  return {
    model,
    prompts: inputs,
    maxTokens,
    echo,
    logprobs,
    promptLogprobs,
    temperature,
    topP,
    topK: topK < 0 ? 0 : topK,
    n,
    seed,
    stop,
    stream,
    includeUsage,
    tokensAsIds,
  };
}
