/**
 * The HTTP layer of `lmp serve` (Node's http): vLLM's routes for one model, `GET /v1/models`,
 * `POST /v1/completions` (JSON, or server-sent events ending in `data: [DONE]`), `POST /tokenize`,
 * `POST /detokenize`, and `GET /health` and `GET /metrics` (requests running and waiting). Bodies
 * are read up to a size limit (413), completions pass through bounded admission (503 when the
 * queue is full), a client that goes away cancels its generation, and closing lets the running
 * requests finish (for a while) before the connections are cut.
 */
import { randomUUID, timingSafeEqual } from 'crypto';
import * as http from 'http';
import type { AddressInfo } from 'net';
import { CancelledError, LmError } from '../../core/errors';
import { displayTokenText } from '../../core/tokenBytes';
import { Admission } from './admission';
import { ApiError, badRequest } from './apiError';
import { parseCompletionRequest } from './completionRequest';
import { runCompletion, type CompletionChoice } from './completions';
import { tokenizeInPieces } from './tokenizeInPieces';
import { MARKOV_MAX_MODEL_LEN, type ServedModel } from './servedModel';

export interface ServerOptions {
  host: string;
  port: number;
  /** Largest request body. */
  maxBodyBytes: number;
  /** Completions computed at once. */
  concurrency: number;
  /** Completions waiting beyond those. */
  queue: number;
  /** Largest `logprobs` and `prompt_logprobs` (vLLM's --max-logprobs). */
  maxLogprobs: number;
  /** When set, every route but /health needs `Authorization: Bearer KEY`. */
  apiKey?: string;
  /** How long closing waits for running requests before cancelling them. */
  shutdownGraceMs: number;
  /** One line per request and per event. */
  log?: (line: string) => void;
}

export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;
/** A body larger than the limit is read and thrown away up to this much (so that its client reads the 413), then the connection is cut. */
const MAX_DISCARDED_BYTES = 64 * 1024 * 1024;
const KEEP_ALIVE_MS = 65_000;
/** How long closing waits for the answers it cut off to be sent. */
const FLUSH_MS = 1000;

interface Running {
  signal: { cancelled: boolean };
  done: Promise<void>;
  res: http.ServerResponse;
}

export class OpenAiServer {
  private readonly server: http.Server;
  private readonly admission: Admission;
  private readonly running = new Set<Running>();
  private closing = false;

  constructor(
    private readonly served: ServedModel,
    private readonly options: ServerOptions,
  ) {
    this.admission = new Admission(options.concurrency, options.queue);
    this.server = http.createServer((req, res) => {
      const started = Date.now();
      const signal = { cancelled: false };
      const done = this.handle(req, res, signal)
        .catch((e) => this.fail(res, e))
        .finally(() => {
          this.running.delete(entry);
          options.log?.(`${req.method} ${req.url} ${res.statusCode} ${Date.now() - started} ms${signal.cancelled ? ' (client went away)' : ''}`);
        });
      const entry: Running = { signal, done, res };
      this.running.add(entry);
    });
    // Longer than clients keep idle connections (Node's default is 5 s): a client reusing a connection as the server closes it sees a reset, not an answer.
    this.server.keepAliveTimeout = KEEP_ALIVE_MS;
  }

  /** Starts listening; resolves with the address (port 0 gives an ephemeral port). */
  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /** Stops accepting, refuses waiting requests, lets running ones finish within the grace period, then cancels them and closes every connection. */
  async close(): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    this.admission.rejectWaiting(new ApiError(503, 'the server is shutting down'));
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.shutdownGraceMs)));
    await Promise.race([Promise.allSettled([...this.running].map((r) => r.done)), grace]);
    clearTimeout(timer);
    const cut = [...this.running];
    for (const r of cut) r.signal.cancelled = true;
    await Promise.allSettled(cut.map((r) => r.done));
    // Their last words (an error event and [DONE]) reach the clients before the connections are cut.
    await Promise.race([Promise.all(cut.map((r) => sent(r.res))), new Promise((resolve) => setTimeout(resolve, FLUSH_MS).unref())]);
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse, signal: { cancelled: boolean }): Promise<void> {
    res.on('close', () => {
      if (!res.writableFinished) signal.cancelled = true;
    });
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (this.closing) {
      res.setHeader('Connection', 'close');
      throw new ApiError(503, 'the server is shutting down');
    }
    if (this.options.apiKey !== undefined && path !== '/health' && !sameSecret(req.headers.authorization, `Bearer ${this.options.apiKey}`))
      throw new ApiError(401, 'a valid API key is needed: send the header "Authorization: Bearer KEY" with the key lmp serve was started with');
    const route = ROUTES[path];
    if (!route) throw new ApiError(404, `no route ${req.method} ${path}; this server has ${Object.keys(ROUTES).join(', ')}`);
    if (req.method !== route.method) {
      res.setHeader('Allow', route.method);
      throw new ApiError(405, `${path} takes ${route.method}, not ${req.method}`);
    }
    switch (path) {
      case '/v1/models':
        return sendJson(res, 200, this.modelList());
      case '/health':
        res.writeHead(200).end();
        return;
      case '/metrics':
        res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(this.metrics());
        return;
      case '/v1/completions':
        return this.completions(await this.readJson(req, res), res, signal);
      // Tokenizing is work too: it waits for its turn (503 when the queue is full) as completions do.
      case '/tokenize': {
        const body = await this.readJson(req, res);
        return this.admitted(res, async () => sendJson(res, 200, await this.tokenize(body, signal)));
      }
      case '/detokenize': {
        const body = await this.readJson(req, res);
        return this.admitted(res, async () => sendJson(res, 200, this.detokenize(body)));
      }
    }
  }

  private modelList() {
    const { name, created, maxModelLen, model } = this.served;
    // lmp serve's own field for a model whose prediction reads a bounded context (an n-gram
    // model's n − 1 tokens): its max_model_len says only that any prompt length is taken.
    const markov = maxModelLen === MARKOV_MAX_MODEL_LEN ? { markov_context_tokens: model.info.contextLength } : {};
    return {
      object: 'list',
      data: [{ id: name, object: 'model', created, owned_by: 'lmp', root: name, parent: null, max_model_len: maxModelLen, ...markov, permission: [] }],
    };
  }

  private metrics(): string {
    const label = `{model_name=${JSON.stringify(this.served.name)}}`;
    return [
      '# HELP lmp:num_requests_running Completions being computed.',
      '# TYPE lmp:num_requests_running gauge',
      `lmp:num_requests_running${label} ${this.admission.runningCount}`,
      '# HELP lmp:num_requests_waiting Completions waiting for their turn.',
      '# TYPE lmp:num_requests_waiting gauge',
      `lmp:num_requests_waiting${label} ${this.admission.waitingCount}`,
      '',
    ].join('\n');
  }

  /** A request's `model`, when given, must be the served one (404 otherwise, as vLLM). */
  private checkModel(model: unknown): void {
    if (model === undefined || model === null) return;
    if (typeof model !== 'string') throw badRequest('`model` must be a string', 'model');
    if (model !== this.served.name) throw new ApiError(404, `The model \`${model}\` does not exist. This server serves \`${this.served.name}\`.`, 'model');
  }

  private async completions(body: unknown, res: http.ServerResponse, signal: { cancelled: boolean }): Promise<void> {
    const request = parseCompletionRequest(body, { vocabSize: this.served.model.vocabSize, maxLogprobs: this.options.maxLogprobs });
    this.checkModel(request.model);
    return this.admitted(res, async () => {
      if (signal.cancelled) return;
      const head = { id: `cmpl-${randomUUID().replace(/-/g, '')}`, object: 'text_completion', created: Math.floor(Date.now() / 1000), model: this.served.name };
      if (!request.stream) {
        const { choices, usage } = await runCompletion(this.served, request, signal);
        sendJson(res, 200, { ...head, choices, usage, system_fingerprint: null });
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
      // Nothing is written once the client has gone (the generation stops at its next step).
      const event = (data: unknown) => void (res.destroyed || res.write(`data: ${JSON.stringify(data)}\n\n`));
      const { usage } = await runCompletion(this.served, request, signal, (choice: CompletionChoice) => event({ ...head, choices: [choice] }));
      if (request.includeUsage) event({ ...head, choices: [], usage });
      res.end('data: [DONE]\n\n');
    });
  }

  /** Runs `work` once admitted (bounded concurrency and queue); a client that goes away gives up its place. */
  private async admitted(res: http.ServerResponse, work: () => Promise<void>): Promise<void> {
    const { admitted, leave } = this.admission.enter();
    res.on('close', leave);
    const release = await admitted;
    try {
      await work();
    } finally {
      release();
    }
  }

  private async tokenize(body: unknown, signal: { cancelled: boolean }) {
    if (!isObject(body)) throw badRequest('the request body must be a JSON object');
    this.checkModel(body.model);
    if (body.messages !== undefined) throw badRequest('`messages` (chat) is not supported: lmp serve tokenizes a `prompt`', 'messages');
    if (typeof body.prompt !== 'string') throw badRequest('`prompt` must be a string', 'prompt');
    const special = body.add_special_tokens ?? true;
    if (typeof special !== 'boolean') throw badRequest('`add_special_tokens` must be true or false', 'add_special_tokens');
    const strs = body.return_token_strs ?? false;
    if (typeof strs !== 'boolean') throw badRequest('`return_token_strs` must be true or false', 'return_token_strs');
    const { model, maxModelLen } = this.served;
    const ids = await tokenizeInPieces(model.tokenizer, body.prompt, special, signal);
    return { count: ids.length, max_model_len: maxModelLen, tokens: ids, token_strs: strs ? ids.map((id) => displayTokenText(model.tokenizer, id)) : null };
  }

  private detokenize(body: unknown) {
    if (!isObject(body)) throw badRequest('the request body must be a JSON object');
    this.checkModel(body.model);
    const { vocabSize, tokenizer } = this.served.model;
    const ids = body.tokens;
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'number' && Number.isInteger(id) && id >= 0 && id < vocabSize))
      throw badRequest(`\`tokens\` must be a list of token ids of this model (0 to ${vocabSize - 1})`, 'tokens');
    return { prompt: tokenizer.decode(ids as number[], false) };
  }

  /** The body as JSON, at most maxBodyBytes (413 past it). */
  private async readJson(req: http.IncomingMessage, res: http.ServerResponse): Promise<unknown> {
    const limit = this.options.maxBodyBytes;
    const tooLarge = () =>
      new ApiError(413, `the request body is larger than this server's limit of ${limit.toLocaleString('en-US')} bytes (lmp serve --max-body-bytes)`);
    if (Number(req.headers['content-length']) > MAX_DISCARDED_BYTES) {
      res.setHeader('Connection', 'close');
      throw tooLarge();
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size > MAX_DISCARDED_BYTES) {
        res.setHeader('Connection', 'close');
        throw tooLarge();
      }
    }
    if (size > limit) throw tooLarge();
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
    } catch {
      throw badRequest('the request body is not UTF-8 text');
    }
    try {
      return JSON.parse(text);
    } catch (e) {
      throw badRequest(`the request body is not valid JSON: ${(e as Error).message}`);
    }
  }

  /** Answers an error: a JSON error body, or within a stream an error event and the end of the stream. */
  private fail(res: http.ServerResponse, e: unknown): void {
    // Cut off by shutdown, not by its client: the client is told so (a stream gets a last error event and [DONE]).
    if (e instanceof CancelledError && this.closing && !res.destroyed)
      e = new ApiError(503, 'the server is shutting down: this request was cut off; retry on another server or once it is back');
    if (e instanceof CancelledError || res.destroyed) {
      if (!res.writableEnded) res.destroy();
      return;
    }
    const error =
      e instanceof ApiError ? e : e instanceof LmError ? badRequest(e.message) : new ApiError(500, `internal error: ${(e as Error).message ?? String(e)}`);
    if (error.status === 500) this.options.log?.(`internal error: ${(e as Error).stack ?? e}`);
    if (!res.headersSent) {
      if (error.status === 503) res.setHeader('Retry-After', '1');
      sendJson(res, error.status, error.body());
      return;
    }
    if (!res.writableEnded) res.end(`data: ${JSON.stringify(error.body())}\n\ndata: [DONE]\n\n`);
  }
}

const ROUTES: Record<string, { method: 'GET' | 'POST' }> = {
  '/v1/models': { method: 'GET' },
  '/v1/completions': { method: 'POST' },
  '/tokenize': { method: 'POST' },
  '/detokenize': { method: 'POST' },
  '/health': { method: 'GET' },
  '/metrics': { method: 'GET' },
};

/** Compares in a time that does not tell how much of the key a guess got right. */
function sameSecret(given: string | undefined, expected: string): boolean {
  const a = Buffer.from(given ?? '');
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Resolves once the answer is sent whole (or its connection is gone). */
function sent(res: http.ServerResponse): Promise<void> {
  if (res.writableFinished || res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    res.once('finish', resolve);
    res.once('close', resolve);
  });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) }).end(text);
}
