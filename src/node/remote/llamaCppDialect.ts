/**
 * llama.cpp's `llama-server`, on its own routes (tools/server/README.md): `POST /completion` with
 * `n_predict`, `n_probs`, `stream` gives each generated token's `completion_probabilities`
 * ({id, token, bytes, logprob, top_logprobs[]}). Its echo gives no log-probs of the prompt's
 * tokens, so it cannot score a text. It makes one completion a request: n completions are n
 * requests, with seeds seed, seed + 1, ….
 */
import { LmError, type CancelSignal } from '../../core/errors';
import type { FinishReason } from '../../core/generation';
import { arr, byteList, num, obj, type RemoteDialect, type SamplingRequest, type ServerPosition, type ServedModel } from './dialect';
import type { Endpoint } from './endpoint';
import { errorMessage } from './serverErrors';

const errorText = (e: unknown) => errorMessage(JSON.stringify({ error: e }));

export const NO_PROMPT_SCORES = (server: string) =>
  `${server} gives log-probabilities of generated tokens only (its echo returns none for the prompt's tokens), so it cannot score a text; hovers, the heat-map and bits per character need a local model or a vLLM/SGLang server`;

/** A generated token's entry as llama.cpp's server and Ollama both give it: token, logprob, bytes, top_logprobs. */
export function generatedPosition(entry: unknown): ServerPosition {
  const e = obj(entry);
  return {
    piece: { text: typeof e.token === 'string' ? e.token : '', bytes: byteList(e.bytes) },
    logProb: num(e.logprob) ?? null,
    top: arr(e.top_logprobs)
      .map(obj)
      .filter((t) => num(t.logprob) !== undefined)
      .map((t) => ({ piece: { text: typeof t.token === 'string' ? t.token : '', bytes: byteList(t.bytes) }, logProb: t.logprob as number })),
  };
}

export const llamaCppDialect: RemoteDialect = {
  name: 'llama.cpp',
  scoringUnavailable: NO_PROMPT_SCORES("llama.cpp's server"),

  async listModels(endpoint: Endpoint, signal?: CancelSignal): Promise<ServedModel[]> {
    const answer = obj(await endpoint.json('v1/models', undefined, signal));
    return arr(answer.data)
      .map(obj)
      .filter((m) => typeof m.id === 'string')
      .map((m) => ({ id: m.id as string, contextLength: num(obj(m.meta).n_ctx_train) }));
  },

  async generate(endpoint, model, request: SamplingRequest, onToken, signal): Promise<FinishReason[]> {
    const finished: FinishReason[] = [];
    for (let index = 0; index < request.n; index++) {
      const body: Record<string, unknown> = {
        prompt: request.prompt,
        n_predict: request.maxTokens,
        temperature: request.temperature,
        top_p: request.topP ?? 1,
        top_k: request.topK ?? 0,
        min_p: 0,
        n_probs: request.logprobs,
        stream: true,
        cache_prompt: true,
      };
      if (request.seed !== undefined) body.seed = request.seed + index;
      if (request.stop.length > 0) body.stop = request.stop;
      let reason: FinishReason = 'length';
      let stopped = false;
      await endpoint.stream(
        'completion',
        body,
        'sse',
        (event) => {
          const e = obj(event);
          if (e.error) throw new LmError(`${endpoint.name}: the server reported an error in the stream: ${errorText(e.error)}`);
          const probs = arr(e.completion_probabilities);
          if (probs.length === 0 && typeof e.content === 'string' && e.content) {
            if (!stopped && onToken(index, { piece: { text: e.content }, logProb: null, top: [] })) stopped = true;
          }
          for (const p of probs) if (!stopped && onToken(index, generatedPosition(p))) stopped = true;
          if (e.stop === true) {
            reason = e.stop_type === 'word' ? 'stop' : e.stop_type === 'eos' ? 'eos' : 'length';
            return true;
          }
          return stopped;
        },
        signal,
        { model, asked: `n_probs ${request.logprobs}` },
      );
      finished.push(reason);
    }
    return finished;
  },
};
