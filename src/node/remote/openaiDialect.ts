/**
 * The OpenAI completions API as vLLM and SGLang serve it. Scoring: `POST /v1/completions` with
 * `max_tokens: 0`, `echo: true`, `logprobs: k` (choices[0].logprobs: tokens, token_logprobs,
 * top_logprobs) and vLLM's `prompt_logprobs: k` (choices[0].prompt_logprobs: per token
 * {id: {logprob, rank, decoded_token}}, which also gives the rank of the token itself). A server
 * that refuses prompt_logprobs is asked without it. Sampling: the same route with `stream: true`.
 */
import { LmError, type CancelSignal } from '../../core/errors';
import type { FinishReason } from '../../core/generation';
import {
  arr,
  LOGPROB_SLACK,
  MIN_LOGPROB,
  num,
  obj,
  PROBABILITY_SLACK,
  type RemoteDialect,
  type SamplingRequest,
  type ServerPosition,
  type ServedModel,
} from './dialect';
import type { Endpoint } from './endpoint';

/** Servers found not to take vLLM's prompt_logprobs, by origin. */
const noPromptLogprobs = new Set<string>();

/** `top_logprobs[i]`: {token text: logprob}, as the OpenAI API gives it. */
function topFromDict(d: unknown): ServerPosition['top'] {
  return Object.entries(obj(d))
    .filter(([, lp]) => num(lp) !== undefined)
    .map(([text, lp]) => ({ piece: { text }, logProb: lp as number }))
    .sort((a, b) => b.logProb - a.logProb);
}

/**
 * Positions from an OpenAI `logprobs` object. `given` positions at the start may have no log-prob
 * (the sequence's first token); any other missing one, arrays of different lengths, or a log-prob
 * above 0 is a malformed answer (a bug or a hostile server), never numbers.
 */
function positions(logprobs: Record<string, unknown>, server: string, given: number): ServerPosition[] {
  const tokens = arr(logprobs.tokens);
  const lps = arr(logprobs.token_logprobs);
  const tops = arr(logprobs.top_logprobs);
  const bad = (what: string): never => {
    throw new LmError(`${server}: a malformed answer: ${what}; nothing was scored (is this server OpenAI-compatible?)`);
  };
  if (lps.length !== tokens.length) bad(`logprobs.tokens has ${tokens.length} entries but token_logprobs ${lps.length}`);
  const out: ServerPosition[] = [];
  for (let i = 0; i < tokens.length; i++) {
    if (typeof tokens[i] !== 'string') bad(`logprobs.tokens[${i}] is not a string`);
    const logProb = num(lps[i]) ?? null;
    if (logProb === null && i >= given) bad(`token ${i} (${JSON.stringify(tokens[i])}) has no log-prob`);
    if (logProb !== null && logProb > LOGPROB_SLACK) bad(`token ${i} (${JSON.stringify(tokens[i])}) has log-prob ${logProb} > 0`);
    if (logProb !== null && logProb < MIN_LOGPROB)
      bad(`token ${i} (${JSON.stringify(tokens[i])}) has log-prob ${logProb}, below any a model gives (${MIN_LOGPROB})`);
    const top = topFromDict(tops[i]);
    if (top.some((t) => t.logProb > LOGPROB_SLACK)) bad(`an alternative of token ${i} has a log-prob > 0`);
    if (top.reduce((sum, t) => sum + Math.exp(t.logProb), 0) > 1 + PROBABILITY_SLACK) bad(`the alternatives of token ${i} have probabilities that sum above 1`);
    out.push({ piece: { text: tokens[i] as string }, logProb, top });
  }
  return out;
}

/** vLLM's prompt_logprobs entry for a token: its rank and the alternatives with ids. */
function fromPromptLogprobs(p: ServerPosition, entry: unknown, topK: number, server: string): void {
  const items = Object.values(obj(entry)).map(obj);
  if (items.length === 0) return;
  const own = p.logProb === null ? undefined : items.find((e) => e.decoded_token === p.piece.text && Math.abs((num(e.logprob) ?? NaN) - p.logProb!) < 1e-5);
  const rank = num(own?.rank);
  if (own && rank !== undefined) {
    // At least 1 + the listed tokens more probable: a rank that is not is a malformed answer.
    const above = items.filter((e) => (num(e.logprob) ?? -Infinity) > p.logProb! + 1e-6).length;
    if (!Number.isInteger(rank) || rank < 1 + above)
      throw new LmError(
        `${server}: a malformed answer: token ${JSON.stringify(p.piece.text)} has rank ${rank} with ${above} listed tokens more probable; nothing was scored`,
      );
    p.rank = rank;
  }
  // Its entries hold the k best and the token itself: the k best, likeliest first.
  const top = items
    .filter((e) => typeof e.decoded_token === 'string' && num(e.logprob) !== undefined && (num(e.rank) === undefined || (e.rank as number) <= topK))
    .map((e) => ({ piece: { text: e.decoded_token as string }, logProb: e.logprob as number }))
    .sort((a, b) => b.logProb - a.logProb)
    .slice(0, topK);
  if (top.length > 0) p.top = top;
}

function finishOf(choice: Record<string, unknown>): FinishReason | undefined {
  const reason = choice.finish_reason;
  if (reason === 'length') return 'length';
  // vLLM's stop_reason: the stop string (or token) that ended it; null at the end of text.
  if (reason === 'stop') return choice.stop_reason !== undefined && choice.stop_reason !== null ? 'stop' : 'eos';
  return undefined;
}

export const openaiDialect: RemoteDialect = {
  name: 'openai',

  async listModels(endpoint: Endpoint, signal?: CancelSignal): Promise<ServedModel[]> {
    const answer = obj(await endpoint.json('v1/models', undefined, signal));
    return arr(answer.data)
      .map(obj)
      .filter((m) => typeof m.id === 'string')
      .map((m) => ({ id: m.id as string, contextLength: num(m.max_model_len), markovContext: num(m.markov_context_tokens) }));
  },

  async score(
    endpoint: Endpoint,
    model: string,
    prompt: string | readonly number[],
    topK: number,
    rankTopK: number,
    signal?: CancelSignal,
  ): Promise<ServerPosition[]> {
    const body = (k: number): Record<string, unknown> => ({ model, prompt, max_tokens: 0, echo: true, logprobs: k, temperature: 0 });
    const withRanks = !noPromptLogprobs.has(endpoint.origin);
    // Without ranks, enough alternatives to tell a rank up to rankTopK.
    const fallbackK = Math.max(topK, rankTopK);
    let answer: Record<string, unknown>;
    try {
      // prompt_logprobs 0 is each token's own log-prob and rank (vLLM): ranks alone cost a server
      // one pass over the text, alternatives a sort of every position's distribution.
      answer = obj(
        withRanks
          ? await endpoint.json('v1/completions', { ...body(topK), prompt_logprobs: topK }, signal, { model, asked: `top-k ${topK}` })
          : await endpoint.json('v1/completions', body(fallbackK), signal, { model, asked: `top-k ${fallbackK}` }),
      );
    } catch (e) {
      if (!withRanks || !(e instanceof LmError) || !/prompt_logprobs/.test(e.message) || /max_logprobs|at most|maximum/i.test(e.message)) throw e;
      // Not vLLM: the OpenAI API's echo alone (no ranks outside the top k).
      noPromptLogprobs.add(endpoint.origin);
      answer = obj(await endpoint.json('v1/completions', body(fallbackK), signal, { model, asked: `top-k ${fallbackK}` }));
    }
    const choice = obj(arr(answer.choices)[0]);
    if (!choice.logprobs)
      throw new LmError(
        `${endpoint.name}: the answer has no choices[0].logprobs: this server does not score a prompt (echo with logprobs); use a vLLM or SGLang server, or a local model`,
      );
    const out = positions(obj(choice.logprobs), endpoint.name, 1);
    const promptScores = arr(choice.prompt_logprobs);
    if (promptScores.length > 0) {
      // With max_tokens 0 the echoed tokens are the prompt's; prompt_logprobs has one entry per prompt token.
      out.length = Math.min(out.length, promptScores.length);
      out.forEach((p, i) => fromPromptLogprobs(p, promptScores[i], topK, endpoint.name));
    }
    // lmp serve says which prompt tokens its model scored as the unknown word; other servers do not.
    if (Array.isArray(choice.prompt_unknown_tokens)) {
      const unknown = new Set(choice.prompt_unknown_tokens);
      out.forEach((p, i) => (p.oov = unknown.has(i)));
    }
    return out;
  },

  async tokenize(endpoint: Endpoint, model: string, text: string, addSpecial: boolean, signal?: CancelSignal): Promise<number[] | undefined> {
    let answer: Record<string, unknown>;
    try {
      answer = obj(await endpoint.json('tokenize', { model, prompt: text, add_special_tokens: addSpecial }, signal, { model }));
    } catch (e) {
      // No such route (an OpenAI-compatible server other than vLLM, SGLang, lmp serve), or one that takes other fields.
      if (e instanceof LmError && /\((?:400|404|405|422|501):/.test(e.message)) return undefined;
      throw e;
    }
    const ids = arr(answer.tokens);
    if (!ids.every((id) => Number.isInteger(id) && (id as number) >= 0))
      throw new LmError(`${endpoint.name}: a malformed answer: tokenize gave tokens that are not token ids; nothing was used`);
    return ids as number[];
  },

  async generate(endpoint, model, request: SamplingRequest, onToken, signal): Promise<(FinishReason | undefined)[]> {
    const body: Record<string, unknown> = {
      model,
      prompt: request.prompt,
      max_tokens: request.maxTokens,
      temperature: request.temperature,
      n: request.n,
      stream: true,
      logprobs: request.logprobs,
    };
    if (request.topP !== undefined && request.topP < 1) body.top_p = request.topP;
    if (request.topK !== undefined && request.topK > 0) body.top_k = request.topK; // vLLM, SGLang: a sampling parameter beyond OpenAI's
    if (request.seed !== undefined) body.seed = request.seed;
    if (request.stop.length > 0) body.stop = request.stop;
    // A completion the server never sent (one that ignores n) stays without a reason.
    const finished: (FinishReason | undefined)[] = new Array(request.n).fill(undefined);
    const done = new Set<number>();
    await endpoint.stream(
      'v1/completions',
      body,
      'sse',
      (event) => {
        const e = obj(event);
        if (e.error) throw new LmError(`${endpoint.name}: the server reported an error in the stream: ${JSON.stringify(e.error).slice(0, 200)}`);
        for (const c of arr(e.choices).map(obj)) {
          const index = num(c.index) ?? 0;
          if (!Number.isInteger(index) || index < 0 || index >= request.n)
            throw new LmError(`${endpoint.name}: a malformed answer: a completion numbered ${index} of the ${request.n} asked for; nothing was used`);
          if (done.has(index)) continue;
          finished[index] ??= 'length';
          const tokens = positions(obj(c.logprobs), endpoint.name, 0);
          // A server that sends no log-probs still sends the text.
          if (tokens.length === 0 && typeof c.text === 'string' && c.text) tokens.push({ piece: { text: c.text }, logProb: null, top: [] });
          for (const p of tokens) if (!done.has(index) && onToken(index, p)) done.add(index);
          const reason = finishOf(c);
          if (reason) finished[index] = reason;
          if (reason || c.finish_reason) done.add(index);
        }
        return done.size >= request.n;
      },
      signal,
      { model, asked: `${request.logprobs} log-probs per token` },
    );
    return finished;
  },
};
