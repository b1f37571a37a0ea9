/**
 * Ollama's own API (docs/api.md, docs/openapi.yaml): `POST /api/generate` with `raw: true` (no
 * prompt template), `options` {temperature, top_p, top_k, seed, stop, num_predict}, `logprobs` and
 * `top_logprobs`, streamed as one JSON object a line ({response, done, done_reason, logprobs[]
 * {token, logprob, bytes, top_logprobs[]}}). Log-probs of output tokens only: it cannot score a
 * text. One completion a request.
 */
import { LmError, type CancelSignal } from '../../core/errors';
import type { FinishReason } from '../../core/generation';
import { arr, obj, type RemoteDialect, type SamplingRequest, type ServedModel } from './dialect';
import type { Endpoint } from './endpoint';
import { generatedPosition, NO_PROMPT_SCORES } from './llamaCppDialect';

export const ollamaDialect: RemoteDialect = {
  name: 'ollama',
  scoringUnavailable: NO_PROMPT_SCORES('Ollama'),

  async listModels(endpoint: Endpoint, signal?: CancelSignal): Promise<ServedModel[]> {
    const answer = obj(await endpoint.json('api/tags', undefined, signal));
    return arr(answer.models)
      .map(obj)
      .map((m) => (typeof m.model === 'string' ? m.model : m.name))
      .filter((id): id is string => typeof id === 'string')
      .map((id) => ({ id }));
  },

  async generate(endpoint, model, request: SamplingRequest, onToken, signal): Promise<FinishReason[]> {
    const finished: FinishReason[] = [];
    for (let index = 0; index < request.n; index++) {
      const options: Record<string, unknown> = {
        temperature: request.temperature,
        top_p: request.topP ?? 1,
        top_k: request.topK ?? 0,
        num_predict: request.maxTokens,
      };
      if (request.seed !== undefined) options.seed = request.seed + index;
      if (request.stop.length > 0) options.stop = request.stop;
      const body = { model, prompt: request.prompt, raw: true, stream: true, options, logprobs: true, top_logprobs: Math.min(20, request.logprobs) };
      let reason: FinishReason = 'length';
      let stopped = false;
      await endpoint.stream(
        'api/generate',
        body,
        'ndjson',
        (event) => {
          const e = obj(event);
          if (typeof e.error === 'string') throw new LmError(`${endpoint.name}: the server reported an error in the stream: ${e.error}`);
          const probs = arr(e.logprobs);
          if (probs.length === 0 && typeof e.response === 'string' && e.response) {
            if (!stopped && onToken(index, { piece: { text: e.response }, logProb: null, top: [] })) stopped = true;
          }
          for (const p of probs) if (!stopped && onToken(index, generatedPosition(p))) stopped = true;
          if (e.done === true) {
            // Ollama says "stop" both at the end of text and at a stop sequence.
            reason = e.done_reason === 'length' ? 'length' : 'eos';
            return true;
          }
          return stopped;
        },
        signal,
        { model },
      );
      finished.push(reason);
    }
    return finished;
  },
};
