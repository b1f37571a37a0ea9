/**
 * HTTP to one model server, with what a remote model needs around Node's fetch: requests only to
 * its own origin, a cap on requests in flight per origin (bursts of hovers wait in a queue, and a
 * request whose caller gave up is never sent), identical requests in flight shared, connect and
 * read timeouts, retries with backoff on 429 and 503 honouring Retry-After, cancellation that
 * aborts the HTTP request, and errors that name the endpoint and the fix.
 */
import { CancelledError, LmError, type CancelSignal } from '../../core/errors';
import { fixUrlHint } from '../../core/remote/fixHints';
import { describeServerError, errorMessage, type ErrorContext } from './serverErrors';

export interface EndpointOptions {
  /** Sent as `Authorization: Bearer …` when set. */
  apiKey?: string;
  /**
   * Time to the answer of a GET (the model list, dialect probes: answered at once by a live
   * server, so this is in effect the connection's timeout).
   */
  connectTimeoutMs?: number;
  /** Time to the answer of a POST (the server computes first: a long text's scores) and longest silence while a body arrives. */
  readTimeoutMs?: number;
  /** Requests in flight per origin; more wait in a queue. */
  maxInFlight?: number;
  /** Retries of a 429 or 503 before giving up. */
  maxRetries?: number;
  /** Longest Retry-After honoured; a server asking for longer is reported. */
  maxRetryAfterMs?: number;
  /** Longest total wait across the retries of one request: a server busy for longer is reported. */
  retryBudgetMs?: number;
  /**
   * Longest time one request may take from sending to the end of its answer, whatever arrives
   * meanwhile: a server that trickles its answer (a byte now and then) cannot hold it for ever.
   */
  deadlineMs?: number;
  /** The same for a stream (a generation), which may rightly run long on a slow server. */
  streamDeadlineMs?: number;
  /** Largest answer read: a larger one is refused, unread. */
  maxAnswerBytes?: number;
  /** Largest event (SSE) or line (NDJSON) of a stream. */
  maxEventBytes?: number;
}

const MiB = 1024 * 1024;
const DEFAULTS = {
  connectTimeoutMs: 15_000,
  readTimeoutMs: 120_000,
  maxInFlight: 4,
  maxRetries: 4,
  maxRetryAfterMs: 30_000,
  retryBudgetMs: 45_000,
  deadlineMs: 300_000,
  streamDeadlineMs: 1_800_000,
  maxAnswerBytes: 64 * MiB,
  maxEventBytes: 1 * MiB,
};

/** Of an error answer only its start is read: its message is what is shown. */
const MAX_ERROR_BYTES = 64 * 1024;

/** A request waiting before a retry because the server is busy (429, 503): shown while it waits. */
export interface ServerWait {
  /** Which request waits (a number of its own). */
  request: number;
  server: string;
  status: number;
  /** How long this wait is. */
  ms: number;
  /** The waits are over (a retry was sent, or the request ended). */
  done: boolean;
}

/** Listeners told of every wait for a busy server (the editor's status bar). */
export const serverWaits = new Set<(wait: ServerWait) => void>();

let requestIds = 0;

/** Whether a server answers: it stopped answering (refused, no answer in time), or answered again. */
export interface ServerReachability {
  /** The server's origin (`http://host:port`). */
  origin: string;
  reachable: boolean;
  /** Why it is unreachable: the message of the request that found it so. */
  reason?: string;
}

/** Listeners told when a server stops answering or answers again (the editor's status bar). */
export const serverReachability = new Set<(r: ServerReachability) => void>();
/** Origins last found not answering. */
const unreachable = new Set<string>();

function tellReachability(origin: string, reachable: boolean, reason?: string): void {
  if (reachable ? !unreachable.delete(origin) : unreachable.has(origin) && !reason) return;
  if (!reachable) unreachable.add(origin);
  for (const listener of serverReachability) listener({ origin, reachable, reason });
}

function tellWait(wait: ServerWait): void {
  for (const listener of serverWaits) listener(wait);
}

/** `bytes` in words: "64 MiB", "512 KiB". */
function size(bytes: number): string {
  return bytes >= MiB ? `${+(bytes / MiB).toFixed(1)} MiB` : `${+(bytes / 1024).toFixed(1)} KiB`;
}

/** No answer came (refused, unreachable, timed out, cut off): unlike an HTTP error, another route of the same server would fare no better. */
export class NetworkError extends LmError {}

/** How often a CancelSignal (a polled flag) is looked at while a request is out. */
const CANCEL_POLL_MS = 25;

/** Answers, with no "busy" among them, after which a server is sent one more request at once. */
const GROW_AFTER_ANSWERS = 8;
/** Time without a "busy" answer after which a server is sent one more request at once, answers or not. */
const GROW_AFTER_MS = 5000;

/**
 * Requests in flight per origin, shared by every model on it; the queue is first come, first
 * served. A server that answers "busy" (429, 503) gets half as many at once (one at least), and
 * one more after each run of GROW_AFTER_ANSWERS answers or GROW_AFTER_MS without a "busy", up to
 * `max`: a server that queues little is not knocked over by this client's own requests, and one
 * long request (a stream) cannot hold the others back for long.
 */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  /** Requests out at once now: `max`, less after the server said it was busy. */
  limit: number;
  /** Answers since the last change of `limit`, and when it changed. */
  private answered = 0;
  private changedAt = 0;
  /** Wakes the queue when the limit may grow with time. */
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly max: number) {
    this.limit = max;
  }

  /** The server said it was busy: half as many at once from now on. */
  busy(): void {
    this.limit = Math.max(1, Math.floor(this.limit / 2));
    this.answered = 0;
    this.changedAt = Date.now();
  }

  /** The server answered: after a run of answers, one more at once. */
  answer(): void {
    if (this.limit >= this.max || ++this.answered < GROW_AFTER_ANSWERS) return;
    this.grow();
  }

  private grow(): void {
    this.limit++;
    this.answered = 0;
    this.changedAt = Date.now();
    this.next();
  }

  async acquire(signal?: CancelSignal): Promise<() => void> {
    for (;;) {
      if (this.limit < this.max && Date.now() - this.changedAt >= GROW_AFTER_MS) this.grow();
      if (this.active < this.limit) break;
      if (this.limit < this.max && !this.timer)
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.wakeAll();
        }, GROW_AFTER_MS);
      await new Promise<void>((resolve) => this.waiting.push(resolve));
      if (signal?.cancelled) {
        this.next();
        throw new CancelledError();
      }
    }
    this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.next();
    };
  }

  /** Cancelled waiters are woken so that they can leave the queue (and all when the limit may have grown). */
  wakeAll(): void {
    // Those that still cannot go set it again.
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.waiting.splice(0)) w();
  }

  private next(): void {
    this.waiting.shift()?.();
    // Nobody waits: nothing for the timer to wake.
    if (this.waiting.length === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }
}

const limiters = new Map<string, Limiter>();

export function limiterFor(origin: string, max: number): Limiter {
  let l = limiters.get(origin);
  if (!l || l.max !== max) limiters.set(origin, (l = new Limiter(max)));
  return l;
}

/** Polls a CancelSignal and aborts `controller` when it fires; returns the stop function. */
function watchCancel(signal: CancelSignal | undefined, onCancel: () => void): () => void {
  if (!signal) return () => undefined;
  if (signal.cancelled) {
    onCancel();
    return () => undefined;
  }
  const timer = setInterval(() => {
    if (signal.cancelled) {
      clearInterval(timer);
      onCancel();
    }
  }, CANCEL_POLL_MS);
  return () => clearInterval(timer);
}

/** Why a request was aborted: by its caller, by a timeout, or because the model was closed. */
type AbortWhy = 'cancel' | 'connect-timeout' | 'read-timeout' | 'deadline' | 'closed';

export class Endpoint {
  private readonly options: Required<Omit<EndpointOptions, 'apiKey'>> & { apiKey?: string };
  private readonly open = new Set<AbortController>();
  private closed = false;
  /** Identical JSON requests in flight: one HTTP request, every caller gets its answer. */
  private readonly shared = new Map<string, { promise: Promise<unknown>; callers: number; controller: { abort(): void } }>();

  /** The server's origin (`http://host:port`): no request goes anywhere else. */
  readonly origin: string;
  private readonly root: string;

  constructor(
    /** The server's root (`http://host:port/`, or with the path before `/v1`): routes are relative to it. */
    root: string,
    /** The name in messages: the base URL the user gave. */
    readonly name: string,
    options: EndpointOptions = {},
  ) {
    this.root = root.endsWith('/') ? root : `${root}/`;
    this.origin = new URL(this.root).origin;
    this.options = { ...DEFAULTS, ...options };
  }

  /** Stops every request in flight and refuses new ones: the model is no longer active. */
  close(): void {
    this.closed = true;
    for (const c of this.open) c.abort('closed');
    limiterFor(this.origin, this.options.maxInFlight).wakeAll();
  }

  private url(path: string): string {
    const url = new URL(path, this.root);
    if (url.origin !== this.origin) throw new LmError(`refused a request to ${url.origin}: a remote model only talks to ${this.origin}`);
    return url.toString();
  }

  private headers(body: boolean): Record<string, string> {
    const h: Record<string, string> = { accept: 'application/json, text/event-stream, application/x-ndjson' };
    if (body) h['content-type'] = 'application/json';
    if (this.options.apiKey) h.authorization = `Bearer ${this.options.apiKey}`;
    return h;
  }

  /**
   * GET (no body) or POST a JSON request and parse the JSON answer. Identical requests in flight
   * share one HTTP request, which is aborted only when every caller has cancelled.
   */
  async json(path: string, body: unknown | undefined, signal?: CancelSignal, context: ErrorContext = {}): Promise<unknown> {
    const key = `${path}\u0000${body === undefined ? '' : JSON.stringify(body)}`;
    let entry = this.shared.get(key);
    if (!entry) {
      const own = { cancelled: false };
      const controller = { abort: () => (own.cancelled = true) };
      const promise = this.request(path, body, own, context, async (res, read) => parseJson(await read(), this.name, path)).finally(() => {
        if (this.shared.get(key) === entry) this.shared.delete(key);
      });
      // Every caller may have gone (cancelled) by the time it fails: not an unhandled rejection.
      promise.catch(() => undefined);
      entry = { promise, callers: 0, controller };
      this.shared.set(key, entry);
    }
    const e = entry;
    e.callers++;
    let stop: () => void = () => undefined;
    try {
      return await new Promise<unknown>((resolve, reject) => {
        e.promise.then(resolve, reject);
        stop = watchCancel(signal, () => {
          reject(new CancelledError());
          if (--e.callers === 0) e.controller.abort();
        });
      });
    } finally {
      stop();
    }
  }

  /**
   * POSTs a streaming request and yields each event's JSON: Server-Sent Events (`data: …`, ended
   * by `[DONE]`, the OpenAI API and llama.cpp) or one JSON object a line (Ollama). A stream that
   * stops before its end (`isLast` never true, no `[DONE]`) is an error, as is a line that is
   * not JSON.
   */
  async stream(
    path: string,
    body: unknown,
    format: 'sse' | 'ndjson',
    onEvent: (event: unknown) => boolean | void,
    signal?: CancelSignal,
    context: ErrorContext = {},
  ): Promise<void> {
    const readEvents = async (chunks: () => AsyncIterable<Uint8Array>) => {
      const decoder = new TextDecoder('utf-8', { fatal: true });
      const decode = (chunk?: Uint8Array) => {
        try {
          return decoder.decode(chunk, { stream: chunk !== undefined });
        } catch {
          throw new LmError(`${this.name}: a malformed answer: the stream of ${path} is not UTF-8 text; nothing more was read`);
        }
      };
      let buffer = '';
      let ended = false;
      let data: string[] = [];
      let dataLength = 0;
      const maxEvent = this.options.maxEventBytes;
      const tooLong = (): never => {
        throw new LmError(`${this.name}: a malformed answer: an event of the stream of ${path} passed ${size(maxEvent)} (no line end); nothing more was read`);
      };
      const line = (raw: string) => {
        const l = raw.replace(/\r$/, '');
        if (format === 'ndjson') {
          if (l.trim() && !ended) ended = onEvent(parseJson(l, this.name, path, 'a line of the stream')) === true;
          return;
        }
        if (l === '') {
          if (data.length > 0 && !ended) {
            const payload = data.join('\n');
            if (payload.trim() === '[DONE]') ended = true;
            else ended = onEvent(parseJson(payload, this.name, path, 'an event of the stream')) === true;
          }
          data = [];
          dataLength = 0;
        } else if (l.startsWith('data:')) {
          data.push(l.slice(5).replace(/^ /, ''));
          if ((dataLength += l.length) > maxEvent) tooLong();
        } else if (l.startsWith('error:')) throw new LmError(`${this.name}: the stream reported an error: ${l.slice(6).trim()}`);
        // Comments (":"), event names and ids carry nothing we use.
      };
      for await (const chunk of chunks()) {
        buffer += decode(chunk);
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0 && !ended) {
          line(buffer.slice(0, nl));
          buffer = buffer.slice(nl + 1);
        }
        if (ended) return;
        // A UTF-16 unit is at least a byte: past the cap in units is past it in bytes.
        if (buffer.length > maxEvent) tooLong();
      }
      buffer += decode();
      for (const l of buffer.split('\n')) if (!ended) line(l);
      if (!ended && format === 'sse') line('');
      if (!ended)
        throw new LmError(
          `${this.name}: the stream of ${path} was cut off before the completion finished (the server stopped or the connection dropped); try again once the server runs`,
        );
    };
    await this.request(path, body, signal, context, (_res, _read, chunks) => readEvents(chunks), this.options.streamDeadlineMs);
  }

  /**
   * One request with retries on 429 and 503, within the per-origin cap. `consume` reads the
   * answer while the request still holds its place and its timeouts.
   */
  private async request<T>(
    path: string,
    body: unknown | undefined,
    signal: CancelSignal | undefined,
    context: ErrorContext,
    consume: (res: Response, read: () => Promise<string>, chunks: () => AsyncIterable<Uint8Array>) => Promise<T>,
    deadlineMs = this.options.deadlineMs,
  ): Promise<T> {
    const url = this.url(path);
    let waited = 0;
    let told = false;
    const request = ++requestIds;
    try {
      for (let attempt = 0; ; attempt++) {
        const outcome = await this.attempt(url, path, body, signal, context, consume, attempt, waited, deadlineMs);
        if ('value' in outcome) return outcome.value;
        tellWait({ request, server: this.name, status: outcome.status, ms: outcome.retryAfterMs, done: false });
        told = true;
        waited += outcome.retryAfterMs;
        await sleepCancellable(outcome.retryAfterMs, signal, () => this.closed);
      }
    } finally {
      if (told) tellWait({ request, server: this.name, status: 0, ms: 0, done: true });
    }
  }

  /**
   * One attempt of a request: its answer (`value`), or how long to wait before the next attempt
   * and the busy status that asked for it.
   */
  private async attempt<T>(
    url: string,
    path: string,
    body: unknown | undefined,
    signal: CancelSignal | undefined,
    context: ErrorContext,
    consume: (res: Response, read: () => Promise<string>, chunks: () => AsyncIterable<Uint8Array>) => Promise<T>,
    attempt: number,
    waited: number,
    deadlineMs: number,
  ): Promise<{ value: T } | { retryAfterMs: number; status: number }> {
    if (this.closed) throw new LmError(`${this.name}: the remote model was closed; no request is sent`);
    if (signal?.cancelled) throw new CancelledError();
    const release = await limiterFor(this.origin, this.options.maxInFlight).acquire(signal);
    if (this.closed) {
      release();
      throw new LmError(`${this.name}: the remote model was closed; no request is sent`);
    }
    const controller = new AbortController();
    let why: AbortWhy | undefined;
    const abort = (w: AbortWhy) => {
      why ??= w;
      controller.abort(w);
    };
    this.open.add(controller);
    const stopCancel = watchCancel(signal, () => abort('cancel'));
    const firstWait = body === undefined ? this.options.connectTimeoutMs : this.options.readTimeoutMs;
    let timer: ReturnType<typeof setTimeout> | undefined = setTimeout(() => abort('connect-timeout'), firstWait);
    const idle = () => {
      clearTimeout(timer);
      timer = setTimeout(() => abort('read-timeout'), this.options.readTimeoutMs);
    };
    const deadline = setTimeout(() => abort('deadline'), deadlineMs);
    const failed = (e: unknown): never => {
      if (why === 'cancel') throw new CancelledError();
      if (why === 'closed') throw new LmError(`${this.name}: the remote model was closed while a request was out`);
      if (why === 'connect-timeout')
        throw new NetworkError(
          `${this.name}: no answer within ${firstWait / 1000} s: the server is unreachable or too busy; check that it runs and that the URL is right (${fixUrlHint()})`,
        );
      if (why === 'read-timeout')
        throw new NetworkError(`${this.name}: the server went silent for ${this.options.readTimeoutMs / 1000} s in the middle of its answer: try again`);
      if (why === 'deadline')
        throw new NetworkError(
          `${this.name}: the answer to ${path} did not finish within ${deadlineMs / 1000} s (the limit of one request): the server is overloaded or sends its answer a trickle at a time; try again, or a less loaded server`,
        );
      if (e instanceof LmError || e instanceof CancelledError) throw e;
      throw describeNetworkError(e, this.name);
    };
    try {
      let res: Response;
      try {
        res = await fetch(url, {
          method: body === undefined ? 'GET' : 'POST',
          headers: this.headers(body !== undefined),
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: controller.signal,
          // Not followed: the API key would go along to wherever it points. Said below, with where to.
          redirect: 'manual',
        });
      } catch (e) {
        try {
          return failed(e);
        } catch (why) {
          // No answer at all: the server is down or out of reach (not a cancel, not a closed model).
          if (why instanceof NetworkError) tellReachability(this.origin, false, why.message);
          throw why;
        }
      }
      tellReachability(this.origin, true);
      if (res.status >= 300 && res.status < 400) {
        controller.abort('done');
        const to = res.headers.get('location');
        throw new LmError(
          `${this.name}: the server redirects ${path} (${res.status}) to ${to ? JSON.stringify(to.slice(0, 200)) : 'an address it does not give'}; redirects are not followed (the API key would go along): give the URL it redirects to, if you trust it`,
        );
      }
      idle();
      const reader = res.body?.getReader();
      const chunks = async function* () {
        if (!reader) return;
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          idle();
          yield value;
        }
      };
      /** The whole answer, refused past `max` bytes; an error answer is cut there instead (its start says what failed). */
      const read = async (max = this.options.maxAnswerBytes, cut = false) => {
        const parts: Uint8Array[] = [];
        let bytes = 0;
        for await (const c of chunks()) {
          if (bytes + c.length > max) {
            if (cut) {
              parts.push(c.subarray(0, max - bytes));
              break;
            }
            throw new LmError(`${this.name}: the server's answer to ${path} passed ${size(max)} (the most read); nothing was used: is the URL right?`);
          }
          parts.push(c);
          bytes += c.length;
        }
        const answer = Buffer.concat(parts);
        return cut ? answer.toString('utf8') : utf8(answer, this.name, path);
      };
      const limiter = limiterFor(this.origin, this.options.maxInFlight);
      if (res.status === 429 || res.status === 503) limiter.busy();
      else if (res.ok) limiter.answer();
      try {
        if (res.ok) return { value: await consume(res, () => read(), chunks) };
        const text = await read(MAX_ERROR_BYTES, true);
        if ((res.status === 429 || res.status === 503) && attempt < this.options.maxRetries) {
          const wait = retryDelay(res.headers.get('retry-after'), attempt);
          if (wait > this.options.maxRetryAfterMs)
            throw new LmError(
              `${this.name}: the server is busy (${res.status}) and asks to wait ${Math.round(wait / 1000)} s before trying again; try later, or a less loaded server`,
            );
          if (waited + wait > this.options.retryBudgetMs)
            throw new LmError(
              `${this.name}: the server stayed busy (${res.status}: ${errorMessage(text)}) through ${attempt + 1} tries in ${Math.round(waited / 1000)} s; try again later, or a less loaded server`,
            );
          return { retryAfterMs: wait, status: res.status };
        }
        throw describeServerError(res.status, text, this.name, context);
      } catch (e) {
        if (controller.signal.aborted) return failed(e);
        if (e instanceof LmError || e instanceof CancelledError) throw e;
        if (e instanceof TypeError || (e as { name?: string }).name === 'TypeError') throw describeNetworkError(e, this.name, true);
        throw e;
      } finally {
        reader?.releaseLock();
        // A body left unread (an error thrown mid-stream) must not hold the connection.
        if (!controller.signal.aborted) controller.abort('done');
      }
    } finally {
      clearTimeout(timer);
      clearTimeout(deadline);
      stopCancel();
      this.open.delete(controller);
      release();
    }
  }
}

/** Retry-After in seconds or as an HTTP date; else exponential backoff from half a second. */
export function retryDelay(header: string | null, attempt: number, now = Date.now()): number {
  if (header) {
    const seconds = Number(header);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
    const date = Date.parse(header);
    if (Number.isFinite(date)) return Math.max(0, date - now);
  }
  return Math.min(8000, 500 * 2 ** attempt);
}

async function sleepCancellable(ms: number, signal: CancelSignal | undefined, closed: () => boolean): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (signal?.cancelled) throw new CancelledError();
    if (closed()) throw new LmError('the remote model was closed');
    await new Promise<void>((resolve) => setTimeout(resolve, Math.min(CANCEL_POLL_MS, until - Date.now())));
  }
}

/** An answer's bytes as text: bytes that are not UTF-8 are a malformed answer, not "�" in a model's text. */
function utf8(bytes: Uint8Array, name: string, path: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const start = JSON.stringify(Buffer.from(bytes.subarray(0, 60)).toString('utf8'));
    throw new LmError(
      `${name}: a malformed answer: the answer to ${path} is not UTF-8 text (it starts ${start}); nothing was used: is this an OpenAI-compatible server?`,
    );
  }
}

function parseJson(text: string, name: string, path: string, what = 'the answer'): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const start = JSON.stringify(text.slice(0, 60));
    throw new LmError(`${name}: ${what} to ${path} is not JSON (it starts ${start}): is this an OpenAI-compatible server, and is the dialect right?`);
  }
}

/** A failure before any answer (fetch's TypeError and its cause's code) in words, with the fix. */
export function describeNetworkError(e: unknown, name: string, midAnswer = false): NetworkError {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? (e as { code?: string }).code ?? '';
  const host = (() => {
    try {
      return new URL(name).host;
    } catch {
      return name;
    }
  })();
  if (midAnswer || code === 'UND_ERR_SOCKET' || code === 'ECONNRESET')
    return new NetworkError(`${name}: the connection dropped in the middle of the answer (the server stopped or restarted): try again once it runs`);
  if (code === 'ECONNREFUSED') return new NetworkError(`${name}: connection refused: no server listens at ${host}; start it, or fix the URL (${fixUrlHint()})`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return new NetworkError(`${name}: the host name ${host.replace(/:\d+$/, '')} cannot be resolved (DNS); check it in the URL`);
  if (/CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_VERIFY/i.test(code))
    return new NetworkError(
      `${name}: the TLS connection failed (${code}): the server's certificate is not trusted here; use its CA (NODE_EXTRA_CA_CERTS) or plain http:// for a server on this machine`,
    );
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT')
    return new NetworkError(`${name}: the connection timed out: check the host, the port and any firewall`);
  return new NetworkError(`${name}: the request failed (${code || cause?.message || (e as Error).message}); check that the server runs and the URL is right`);
}
