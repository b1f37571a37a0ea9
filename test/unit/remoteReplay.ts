/**
 * A local HTTP server that answers as vLLM, llama.cpp's llama-server and Ollama do, in the shapes
 * their documentation gives (field names below, with where each is documented), for a toy model:
 * a token is a word with its leading space, or one byte of a non-ASCII character; its log-prob
 * and rank come from its text, so a test can compute what the client must report. Faults are
 * injected per test (`fault`).
 *
 * vLLM, OpenAI-compatible server (vllm/entrypoints/openai/protocol.py; docs "OpenAI-Compatible Server"):
 *   GET /v1/models → {object: "list", data: [{id, object: "model", owned_by, root, max_model_len}]}
 *   POST /v1/completions {model, prompt, max_tokens, echo, logprobs, prompt_logprobs, temperature, top_p, n, seed, stop, stream}
 *     → {id, object: "text_completion", model, choices: [{index, text, logprobs: {text_offset, token_logprobs, tokens, top_logprobs}, finish_reason, stop_reason, prompt_logprobs}], usage}
 *     prompt_logprobs: [null, {token_id: {logprob, rank, decoded_token}}, …] (the prompt token itself included, with its rank)
 *     stream: Server-Sent Events `data: {choices: [{index, text, logprobs, finish_reason, stop_reason}]}`, then `data: [DONE]`
 *   errors: {object: "error", message, type, param, code} (ErrorResponse), e.g. 400 "…greater than max allowed: 20", 404 "The model `x` does not exist."
 * llama.cpp server (tools/server/README.md: GET /props, GET /v1/models, POST /completion):
 *   GET /props → {default_generation_settings, total_slots, model_path}
 *   GET /v1/models → {object: "list", data: [{id, object: "model", owned_by, meta: {n_ctx_train, n_vocab}}]}
 *   POST /completion {prompt, n_predict, n_probs, temperature, top_p, top_k, seed, stop, stream}
 *     → SSE `data: {content, stop: false, completion_probabilities: [{id, token, bytes, logprob, top_logprobs: [{id, token, bytes, logprob}]}]}`,
 *       last `data: {content: "", stop: true, stop_type: "eos" | "word" | "limit"}`
 *   errors: {error: {code, message, type}}
 * Ollama (docs/api.md "Generate a completion", docs/openapi.yaml GenerateRequest/GenerateResponse/Logprob/ErrorResponse):
 *   GET /api/version → {version}; GET /api/tags → {models: [{name, model, modified_at, size, digest}]}
 *   POST /api/generate {model, prompt, raw, stream, options: {temperature, top_p, top_k, seed, stop, num_predict}, logprobs, top_logprobs}
 *     → one JSON object a line: {model, created_at, response, done: false, logprobs: [{token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}]},
 *       last {done: true, done_reason: "stop" | "length", total_duration, eval_count}
 *   errors: {error: "…"}
 */
import * as http from 'http';
import { LoopbackServer } from './loopbackServer';

export type Flavour = 'vllm' | 'llama.cpp' | 'ollama';

/** A toy token: its text (as the server shows it) and UTF-8 bytes. */
export interface ToyToken {
  text: string;
  bytes: number[];
}

const enc = new TextEncoder();

/** Words with their leading whitespace; each byte of a non-ASCII character is a token of its own. */
export function toyTokens(text: string): ToyToken[] {
  const out: ToyToken[] = [];
  for (const m of text.match(/\s*[^\s]+|\s+/g) ?? []) {
    let ascii = '';
    for (const ch of m) {
      if (ch.charCodeAt(0) < 0x80) {
        ascii += ch;
        continue;
      }
      if (ascii) out.push({ text: ascii, bytes: [...enc.encode(ascii)] });
      ascii = '';
      for (const b of enc.encode(ch)) out.push({ text: '\uFFFD', bytes: [b] });
    }
    if (ascii) out.push({ text: ascii, bytes: [...enc.encode(ascii)] });
  }
  return out;
}

function hash(s: string): number {
  let h = 2166136261;
  for (const b of enc.encode(s)) h = Math.imul(h ^ b, 16777619) >>> 0;
  return h;
}

/** The toy model's rank of a token at a position: 1 to 40, so some lie outside a top 20. */
export function toyRank(token: ToyToken, position: number): number {
  return 1 + (hash(`${position}:${token.bytes.join(',')}`) % 40);
}

/** Its log-prob: between the (rank − 1)-th and the rank-th alternative's. */
export function toyLogProb(token: ToyToken, position: number): number {
  return -toyRank(token, position) + 0.25;
}

/** The k best alternatives at a position, likeliest first: `alt1`…, the actual token in its place when its rank is ≤ k. */
export function toyTop(token: ToyToken, position: number, k: number): { text: string; logprob: number; rank: number }[] {
  const rank = toyRank(token, position);
  const top: { text: string; logprob: number; rank: number }[] = [];
  for (let r = 1; r <= k; r++)
    top.push(r === rank ? { text: token.text, logprob: toyLogProb(token, position), rank } : { text: ` alt${position}_${r}`, logprob: -r, rank: r });
  return top;
}

export const BOS = '<s>';

/** What the fault injection does to the next requests. */
export type Fault =
  | { kind: 'none' }
  | { kind: 'kill-mid-stream'; after: number }
  | { kind: 'silent' }
  | { kind: 'headers-then-silent' }
  | { kind: 'status'; status: number; body: string; headers?: Record<string, string>; times: number }
  | { kind: 'malformed-json' }
  | { kind: 'slow'; ms: number };

export class ReplayServer extends LoopbackServer {
  readonly requests: { method: string; url: string; body: unknown; headers: http.IncomingHttpHeaders; at: number }[] = [];
  /** Requests whose connection was closed by the client before an answer. */
  aborted = 0;
  inFlight = 0;
  maxInFlight = 0;
  fault: Fault = { kind: 'none' };
  /** vLLM's max_model_len: a longer prompt gets its 400. */
  maxModelLen = 2048;
  /** vLLM's --max-logprobs (default 20). */
  maxLogprobs = 20;
  /** Echo's top_logprobs list the prompt token itself beside the k best, as vLLM's do (taken from its prompt log-probs). */
  ownTokenInTop = false;
  /** Changes the next scoring answers (vLLM echo) before they are sent: a hostile or broken server. */
  mangle: ((choice: { logprobs: Record<string, unknown[]>; prompt_logprobs?: unknown[] }) => void) | undefined;
  readonly models: string[];

  constructor(
    readonly flavour: Flavour,
    models = ['toy-model'],
  ) {
    super();
    this.models = models;
  }

  private later(ms: number, f: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      f();
    }, ms);
    this.timers.add(t);
  }

  protected handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      let body: unknown;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        body = raw;
      }
      this.requests.push({ method: req.method ?? '', url: req.url ?? '', body, headers: req.headers, at: Date.now() });
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      let finished = false;
      const done = () => {
        if (!finished) {
          finished = true;
          this.inFlight--;
        }
      };
      res.on('close', () => {
        if (!res.writableFinished) this.aborted++;
        done();
      });
      this.answer(req, res, body as Record<string, unknown>);
    });
  }

  private json(res: http.ServerResponse, status: number, value: unknown): void {
    const text = JSON.stringify(value);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse, body: Record<string, unknown>): void {
    const f = this.fault;
    if (f.kind === 'silent') return;
    if (f.kind === 'status' && f.times > 0) {
      f.times--;
      res.writeHead(f.status, { 'content-type': 'application/json', ...(f.headers ?? {}) });
      res.end(f.body);
      return;
    }
    if (f.kind === 'malformed-json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"choices": [ {"text": "oops"');
      return;
    }
    if (f.kind === 'headers-then-silent') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': still here\n\n');
      return;
    }
    const go = () => this.route(req, res, body);
    if (f.kind === 'slow') this.later(f.ms, go);
    else go();
  }

  private route(req: http.IncomingMessage, res: http.ServerResponse, body: Record<string, unknown>): void {
    const url = req.url ?? '';
    const model = body?.model as string | undefined;
    if (this.flavour === 'ollama') {
      if (url === '/api/version') return this.json(res, 200, { version: '0.12.3' });
      if (url === '/api/tags')
        return this.json(res, 200, { models: this.models.map((m) => ({ name: m, model: m, modified_at: '2026-01-01T00:00:00Z', size: 1, digest: 'x' })) });
      if (url === '/api/generate') {
        if (!this.models.includes(model ?? '')) return this.json(res, 404, { error: `model '${model}' not found` });
        return this.ollamaGenerate(res, body);
      }
      return this.json(res, 404, { error: 'not found' });
    }
    if (this.flavour === 'llama.cpp') {
      if (url === '/props') return this.json(res, 200, { default_generation_settings: { n_ctx: 4096 }, total_slots: 1, model_path: '/models/toy.gguf' });
      if (url === '/v1/models')
        return this.json(res, 200, {
          object: 'list',
          data: this.models.map((id) => ({ id, object: 'model', owned_by: 'llamacpp', meta: { n_ctx_train: 4096, n_vocab: 32000 } })),
        });
      if (url === '/completion') return this.llamaCompletion(res, body);
      return this.json(res, 404, { error: { code: 404, message: 'File Not Found', type: 'not_found_error' } });
    }
    if (url === '/v1/models')
      return this.json(res, 200, { object: 'list', data: this.models.map((id) => ({ id, object: 'model', owned_by: 'vllm', root: id, max_model_len: 2048 })) });
    if (url === '/v1/completions') {
      if (!this.models.includes(model ?? ''))
        return this.json(res, 404, { object: 'error', message: `The model \`${model}\` does not exist.`, type: 'NotFoundError', param: null, code: 404 });
      const k = Math.max(Number(body.logprobs ?? 0), Number(body.prompt_logprobs ?? 0));
      if (k > this.maxLogprobs)
        return this.json(res, 400, {
          object: 'error',
          message: `Requested sample logprobs of ${k}, which is greater than max allowed: ${this.maxLogprobs}`,
          type: 'BadRequestError',
          param: null,
          code: 400,
        });
      return body.stream ? this.vllmStream(res, body) : this.vllmScore(res, body);
    }
    return this.json(res, 404, { object: 'error', message: 'Not Found', type: 'NotFoundError', param: null, code: 404 });
  }

  /** vLLM's echo scoring: the prompt's tokens, the begin-of-text token first (null log-prob). */
  private vllmScore(res: http.ServerResponse, body: Record<string, unknown>): void {
    const prompt = String(body.prompt);
    const k = Number(body.logprobs ?? 0);
    const toks = [{ text: BOS, bytes: [] as number[] }, ...toyTokens(prompt)];
    if (toks.length > this.maxModelLen)
      return this.json(res, 400, {
        object: 'error',
        message: `This model's maximum context length is ${this.maxModelLen} tokens. However, you requested ${toks.length} tokens (${toks.length} in the messages, 0 in the completion). Please reduce the length of the messages or completion.`,
        type: 'BadRequestError',
        param: null,
        code: 400,
      });
    const offsets: number[] = [];
    let at = 0;
    for (const t of toks) {
      offsets.push(at);
      if (t !== toks[0]) at += t.text.length;
    }
    const promptLogprobs: unknown[] = toks.map((t, i) => {
      if (i === 0) return null;
      const entry: Record<string, unknown> = {};
      // Keyed by token id: the k best, and the prompt's own token (id i here) whatever its rank.
      toyTop(t, i, Number(body.prompt_logprobs)).forEach((a) => {
        if (a.rank !== toyRank(t, i)) entry[String(1000 + i * 100 + a.rank)] = { logprob: a.logprob, rank: a.rank, decoded_token: a.text };
      });
      entry[String(i)] = { logprob: toyLogProb(t, i), rank: toyRank(t, i), decoded_token: t.text };
      return entry;
    });
    const answer = {
      id: 'cmpl-1',
      object: 'text_completion',
      created: 0,
      model: body.model,
      choices: [
        {
          index: 0,
          text: prompt,
          logprobs: {
            text_offset: offsets,
            token_logprobs: toks.map((t, i) => (i === 0 ? null : toyLogProb(t, i))),
            tokens: toks.map((t) => t.text),
            top_logprobs: toks.map((t, i) =>
              i === 0
                ? null
                : Object.fromEntries([...(this.ownTokenInTop ? [[t.text, toyLogProb(t, i)]] : []), ...toyTop(t, i, k).map((a) => [a.text, a.logprob])]),
            ),
          },
          finish_reason: 'length',
          stop_reason: null,
          prompt_logprobs: body.prompt_logprobs === undefined ? undefined : promptLogprobs,
        },
      ],
      usage: { prompt_tokens: toks.length, total_tokens: toks.length, completion_tokens: 0 },
    };
    this.mangle?.(answer.choices[0] as unknown as Parameters<NonNullable<ReplayServer['mangle']>>[0]);
    this.json(res, 200, answer);
  }

  /** Generated text of the toy model: " w1 w2 …", ended by max_tokens. */
  private generated(n: number, index: number): ToyToken[] {
    return Array.from({ length: n }, (_, i) => ({ text: ` w${index}_${i}`, bytes: [...enc.encode(` w${index}_${i}`)] }));
  }

  private sse(res: http.ServerResponse, events: unknown[], done: boolean): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const f = this.fault;
    events.forEach((e, i) => {
      if (f.kind === 'kill-mid-stream' && i >= f.after) return;
      res.write(`data: ${JSON.stringify(e)}\n\n`);
    });
    if (f.kind === 'kill-mid-stream') {
      res.socket?.destroy();
      return;
    }
    if (done) res.write('data: [DONE]\n\n');
    res.end();
  }

  private vllmStream(res: http.ServerResponse, body: Record<string, unknown>): void {
    const n = Number(body.n ?? 1);
    const max = Number(body.max_tokens ?? 16);
    const k = Number(body.logprobs ?? 0);
    const events: unknown[] = [];
    for (let c = 0; c < n; c++) {
      const toks = this.generated(max, c);
      toks.forEach((t, i) =>
        events.push({
          id: 'cmpl-2',
          object: 'text_completion',
          model: body.model,
          choices: [
            {
              index: c,
              text: t.text,
              logprobs: {
                text_offset: [0],
                token_logprobs: [toyLogProb(t, i)],
                tokens: [t.text],
                top_logprobs: [Object.fromEntries(toyTop(t, i, k).map((a) => [a.text, a.logprob]))],
              },
              finish_reason: i === toks.length - 1 ? 'length' : null,
              stop_reason: null,
            },
          ],
        }),
      );
    }
    this.sse(res, events, true);
  }

  private llamaCompletion(res: http.ServerResponse, body: Record<string, unknown>): void {
    const max = Number(body.n_predict ?? 16);
    const k = Number(body.n_probs ?? 0);
    if (k > 100) return this.json(res, 400, { error: { code: 400, message: 'n_probs is too large', type: 'invalid_request_error' } });
    const toks = this.generated(max, Number(body.seed ?? 0));
    const events: unknown[] = toks.map((t, i) => ({
      content: t.text,
      stop: false,
      id_slot: 0,
      completion_probabilities: [
        {
          id: 100 + i,
          token: t.text,
          bytes: t.bytes,
          logprob: toyLogProb(t, i),
          top_logprobs: toyTop(t, i, k).map((a, r) => ({ id: 200 + r, token: a.text, bytes: [...enc.encode(a.text)], logprob: a.logprob })),
        },
      ],
    }));
    events.push({ content: '', stop: true, stop_type: 'limit', tokens_predicted: max });
    this.sse(res, events, false);
  }

  private ollamaGenerate(res: http.ServerResponse, body: Record<string, unknown>): void {
    const options = (body.options ?? {}) as Record<string, unknown>;
    const max = Number(options.num_predict ?? 16);
    const k = Number(body.top_logprobs ?? 0);
    const toks = this.generated(max, Number(options.seed ?? 0));
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    const f = this.fault;
    toks.forEach((t, i) => {
      if (f.kind === 'kill-mid-stream' && i >= f.after) return;
      const top = toyTop(t, i, k).map((a) => ({ token: a.text, logprob: a.logprob, bytes: [...enc.encode(a.text)] }));
      res.write(
        JSON.stringify({
          model: body.model,
          created_at: '2026-01-01T00:00:00Z',
          response: t.text,
          done: false,
          logprobs: [{ token: t.text, logprob: toyLogProb(t, i), bytes: t.bytes, top_logprobs: top }],
        }) + '\n',
      );
    });
    if (f.kind === 'kill-mid-stream') {
      res.socket?.destroy();
      return;
    }
    res.end(
      JSON.stringify({
        model: body.model,
        created_at: '2026-01-01T00:00:00Z',
        response: '',
        done: true,
        done_reason: 'length',
        total_duration: 1,
        eval_count: max,
      }) + '\n',
    );
  }
}
