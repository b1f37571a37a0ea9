/**
 * A remote model against a hostile or broken server (the hostile tester's fake server, issue 13):
 * its answer is untrusted input. Each test replays one misbehaviour from a local server and checks
 * that the client ends with a message naming the server (never a hang, never unbounded memory,
 * never numbers the server did not send).
 */
import * as assert from 'assert';
import * as http from 'http';
import { CancelledError } from '../../src/core/errors';
import { generate } from '../../src/core/generation';
import { parseRemoteRef } from '../../src/core/remote/remoteRef';
import { endpointFor, openRemote } from '../../src/node/backends/remoteBackend';
import { loadModel } from '../../src/node/modelLoader';
import { Endpoint, Limiter, limiterFor, serverWaits, type EndpointOptions, type ServerWait } from '../../src/node/remote/endpoint';
import { llamaCppDialect } from '../../src/node/remote/llamaCppDialect';
import { openaiDialect } from '../../src/node/remote/openaiDialect';
import { RemoteLanguageModel } from '../../src/node/remote/remoteModel';
import { LoopbackServer } from './loopbackServer';

type Handler = (body: Record<string, unknown>, res: http.ServerResponse, server: HostileServer, url: string) => void;

/** A local server answering every request with `handler`; it counts requests and the connections the client closed. */
class HostileServer extends LoopbackServer {
  requests = 0;
  /** Answers the client stopped reading (it closed the connection before the end). */
  closedEarly = 0;

  constructor(private readonly handler: Handler) {
    super();
  }

  protected handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      this.requests++;
      res.on('close', () => {
        if (!res.writableFinished) this.closedEarly++;
      });
      this.handler(raw ? (JSON.parse(raw) as Record<string, unknown>) : {}, res, this, req.url ?? '');
    });
  }

  /** Calls `f` every `ms` until the answer is closed (by either side). */
  every(res: http.ServerResponse, ms: number, f: () => void): void {
    const t = setInterval(() => (res.destroyed || res.writableEnded ? this.stop(t) : f()), ms);
    this.timers.add(t);
  }

  private stop(t: ReturnType<typeof setInterval>): void {
    clearInterval(t);
    this.timers.delete(t);
  }
}

async function withServer<T>(handler: Handler, f: (s: HostileServer) => Promise<T>): Promise<T> {
  const server = await new HostileServer(handler).start();
  try {
    return await f(server);
  } finally {
    await server.close();
  }
}

/** A model on the server without opening it (no model list asked): the OpenAI dialect. */
function modelOn(server: HostileServer, options: EndpointOptions = {}): RemoteLanguageModel {
  const ref = parseRemoteRef(`${server.base}#toy`)!;
  return new RemoteLanguageModel(ref, openaiDialect, endpointFor(ref, options), 2048);
}

function endpointOn(server: HostileServer, options: EndpointOptions): Endpoint {
  return new Endpoint(`http://127.0.0.1:${server.port}/`, server.base, options);
}

async function rejects(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof Error, `not an Error: ${e}`);
    assert.match(e.message, pattern);
    return;
  }
  assert.fail(`expected a rejection matching ${pattern}`);
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** One SSE event of a streamed completion: a token of completion `index`. */
function tokenEvent(text: string, index = 0, finish: string | null = null): string {
  const choice = { index, text, logprobs: { tokens: [text], token_logprobs: [-1], top_logprobs: [{ [text]: -1 }] }, finish_reason: finish };
  return `data: ${JSON.stringify({ choices: [choice] })}\n\n`;
}

describe('remote model against a hostile server', () => {
  it('an answer past the size cap is refused, unread, naming the server (H4); an error answer is cut and still said', () =>
    withServer(
      (body, res, server) => {
        res.writeHead(body.model === 'error' ? 500 : 200, { 'content-type': 'application/json' });
        // Whitespace for ever (valid JSON so far): only a cap ends it.
        res.write(body.model === 'error' ? '{"error": {"message": "proxy page' : ' ');
        server.every(res, 1, () => res.write(' '.repeat(64 * 1024)));
      },
      async (server) => {
        const endpoint = endpointOn(server, { maxAnswerBytes: 1024 * 1024 });
        try {
          await rejects(
            endpoint.json('v1/completions', { model: 'big' }),
            /127\.0\.0\.1:\d+\/v1: the server's answer to v1\/completions passed 1 MiB .*nothing was used/,
          );
          await rejects(endpoint.json('v1/completions', { model: 'error' }), /the server failed \(500: \{"error": \{"message": "proxy page/);
          await waitFor(() => server.closedEarly === 2, 'both answers abandoned');
        } finally {
          endpoint.close();
        }
      },
    ));

  it('a server that trickles its answer (a byte at a time, never silent) meets the deadline of a request, a stream its own (H5)', () =>
    withServer(
      (body, res, server) => {
        res.writeHead(200, { 'content-type': body.stream ? 'text/event-stream' : 'application/json' });
        server.every(res, 20, () => res.write(body.stream ? ': still here\n' : ' '));
      },
      async (server) => {
        const model = modelOn(server, { readTimeoutMs: 5000, deadlineMs: 400, streamDeadlineMs: 600 });
        try {
          await rejects(
            model.scoreText('Dear sister', { topK: 0, atStart: true }),
            /127\.0\.0\.1:\d+\/v1: the answer to v1\/completions did not finish within 0.4 s \(the limit of one request\)/,
          );
          await waitFor(() => server.closedEarly === 1, 'the request aborted');
          await rejects(generate(model, 'Hello', { maxTokens: 5, temperature: 1 }), /the answer to v1\/completions did not finish within 0.6 s/);
          await waitFor(() => server.closedEarly === 2, 'the stream aborted');
        } finally {
          model.dispose();
        }
      },
    ));

  it('a stream event without a line end is refused past its cap (H6b)', () =>
    withServer(
      (body, res, server) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: {"choices":[{"index":0,"text":"');
        server.every(res, 1, () => res.write('x'.repeat(64 * 1024)));
      },
      async (server) => {
        const model = modelOn(server, { maxEventBytes: 256 * 1024 });
        try {
          await rejects(generate(model, 'Hello', { maxTokens: 5, temperature: 1 }), /an event of the stream of v1\/completions passed 256 KiB/);
          await waitFor(() => server.closedEarly === 1, 'the stream abandoned');
        } finally {
          model.dispose();
        }
      },
    ));

  it('a server that ignores max_tokens (an endless stream) is cut at max tokens on our side, and its stream closed (H6a, H9)', () =>
    withServer(
      (body, res, server) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        let i = 0;
        server.every(res, 1, () => res.write(tokenEvent(` word${i++}`)));
      },
      async (server) => {
        const model = modelOn(server);
        try {
          const [c] = await generate(model, 'Hello', { maxTokens: 5, temperature: 1 });
          assert.strictEqual(c.text, ' word0 word1 word2 word3 word4');
          assert.strictEqual(c.tokens.length, 5);
          assert.strictEqual(c.finishReason, 'length');
          await waitFor(() => server.closedEarly === 1, 'the stream closed by the client');
        } finally {
          model.dispose();
        }
      },
    ));

  it('a server that answers fewer completions than n is refused, not padded with empty ones at log p 0 (H11); a completion numbered past n is malformed', () =>
    withServer(
      (body, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const index = body.model === 'toy' ? 0 : 7;
        res.end(`${tokenEvent(' the', index)}${tokenEvent(' cat', index, 'length')}data: [DONE]\n\n`);
      },
      async (server) => {
        const model = modelOn(server);
        try {
          await rejects(
            generate(model, 'Hello', { maxTokens: 4, temperature: 1, numCompletions: 3 }),
            /127\.0\.0\.1:\d+\/v1: the server returned 1 of the 3 completions asked for \(it ignores n\): set lmPlayground\.generation\.numCompletions/,
          );
          const [one] = await generate(model, 'Hello', { maxTokens: 4, temperature: 1 });
          assert.strictEqual(one.text, ' the cat');
          assert.strictEqual(one.logProb, -2);
        } finally {
          model.dispose();
        }
        const ref = parseRemoteRef(`${server.base}#other`)!;
        const other = new RemoteLanguageModel(ref, openaiDialect, endpointFor(ref), 2048);
        try {
          await rejects(
            generate(other, 'Hello', { maxTokens: 4, temperature: 1, numCompletions: 2 }),
            /a malformed answer: a completion numbered 7 of the 2 asked for/,
          );
        } finally {
          other.dispose();
        }
      },
    ));

  it('after 503s, fewer requests in flight to that server: its own parallel requests do not knock each other out (#21)', async () => {
    let running = 0;
    let busy = 0;
    let answered = 0;
    await withServer(
      (_body, res) => {
        // A server that takes one request at a time and queues none (lmp serve --concurrency 1 --queue 0).
        if (running >= 1) {
          busy++;
          res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '0' });
          res.end('{"error": {"message": "the server is busy"}}');
          return;
        }
        running++;
        setTimeout(() => {
          running--;
          answered++;
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{}');
        }, 20);
      },
      async (server) => {
        const endpoint = endpointOn(server, { maxInFlight: 4 });
        try {
          await Promise.all(Array.from({ length: 12 }, (_, i) => endpoint.json('v1/completions', { i })));
          assert.strictEqual(answered, 12);
          // The first burst's 3 refusals bring it to one at a time; a try at two once 8 answers came: one more.
          assert.ok(busy <= 4, `${busy} answers were 503`);
          assert.ok(limiterFor(new URL(server.base).origin, 4).limit < 4);
        } finally {
          endpoint.close();
        }
      },
    );
    // Halved on each "busy", one at least; one more after each run of 8 answers, up to the most.
    const limiter = new Limiter(4);
    limiter.busy();
    limiter.busy();
    limiter.busy();
    assert.strictEqual(limiter.limit, 1);
    for (let i = 0; i < 7; i++) limiter.answer();
    assert.strictEqual(limiter.limit, 1);
    limiter.answer();
    assert.strictEqual(limiter.limit, 2);
    for (let i = 0; i < 40; i++) limiter.answer();
    assert.strictEqual(limiter.limit, 4);
  });

  it('a server down to one request at once gets a second within seconds, answers or not: one long stream does not hold the rest back', async () => {
    const limiter = new Limiter(4);
    limiter.busy();
    limiter.busy();
    const held = await limiter.acquire();
    const t0 = Date.now();
    let second: (() => void) | undefined;
    void limiter.acquire().then((release) => (second = release));
    await waitFor(() => second !== undefined, 'a second request let out', 10_000);
    assert.ok(Date.now() - t0 >= 4000, `let out after ${Date.now() - t0} ms, while the first still runs`);
    assert.strictEqual(limiter.limit, 2);
    held();
    second!();
  });

  it('a 429 storm: retries within a total budget, each wait told to listeners, and cancellable while waiting (H7)', async () => {
    const waits: ServerWait[] = [];
    const listen = (w: ServerWait) => waits.push(w);
    serverWaits.add(listen);
    try {
      await withServer(
        (_body, res) => {
          res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
          res.end('{"error": {"message": "slow down"}}');
        },
        async (server) => {
          const model = modelOn(server, { retryBudgetMs: 1500 });
          try {
            await rejects(
              model.scoreText('Dear sister', { topK: 0, atStart: true }),
              /the server stayed busy \(429: slow down\) through 2 tries in 1 s; try again later/,
            );
            assert.strictEqual(server.requests, 2);
            assert.deepStrictEqual(
              waits.map((w) => [w.status, w.ms, w.done]),
              [
                [429, 1000, false],
                [0, 0, true],
              ],
            );
            const signal = { cancelled: false };
            const p = model.scoreText('Dear sister', { topK: 0, atStart: true, signal });
            await waitFor(() => waits.length === 3, 'the second request waiting');
            const t0 = Date.now();
            signal.cancelled = true;
            await assert.rejects(p, CancelledError);
            assert.ok(Date.now() - t0 < 500, `cancelled after ${Date.now() - t0} ms`);
            await waitFor(() => waits.length === 4, 'the wait over');
            assert.deepStrictEqual(waits[3], { request: waits[2].request, server: server.base, status: 0, ms: 0, done: true });
            assert.notStrictEqual(waits[2].request, waits[0].request);
          } finally {
            model.dispose();
          }
        },
      );
    } finally {
      serverWaits.delete(listen);
    }
  });

  it('a redirect is refused saying where to and why; bytes that are not UTF-8 are a malformed answer, not "�" in the text (L1)', () =>
    withServer(
      (body, res) => {
        if (body.model === 'redirect') {
          res.writeHead(307, { location: 'http://127.0.0.2:9/v1/completions', 'content-length': 0 });
          res.end();
          return;
        }
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const event = Buffer.from(tokenEvent(' caf\u00e9 ~ bad', 0, 'length'));
        // The ~ as a byte that is never UTF-8.
        event[event.indexOf('~')] = 0xff;
        res.end(Buffer.concat([event, Buffer.from('data: [DONE]\n\n')]));
      },
      async (server) => {
        const ref = parseRemoteRef(`${server.base}#redirect`)!;
        const redirected = new RemoteLanguageModel(ref, openaiDialect, endpointFor(ref), 2048);
        try {
          await rejects(
            generate(redirected, 'Hello', { maxTokens: 2, temperature: 1 }),
            /the server redirects v1\/completions \(307\) to "http:\/\/127\.0\.0\.2:9\/v1\/completions"; redirects are not followed \(the API key would go along\)/,
          );
        } finally {
          redirected.dispose();
        }
        const model = modelOn(server);
        try {
          await rejects(generate(model, 'Hello', { maxTokens: 2, temperature: 1 }), /a malformed answer: the stream of v1\/completions is not UTF-8 text/);
        } finally {
          model.dispose();
        }
      },
    ));

  it('a log-prob far below any a model gives (-1e300) is a malformed answer, not perplexity Infinity (H1)', () =>
    withServer(
      (body, res) => {
        const answer = {
          choices: [
            {
              index: 0,
              text: 'Dear sister',
              logprobs: { tokens: ['<s>', 'Dear', ' sister'], token_logprobs: [null, -1, -1e300], top_logprobs: [null, {}, {}] },
            },
          ],
        };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
      },
      async (server) => {
        const model = modelOn(server);
        try {
          await rejects(
            model.scoreText('Dear sister', { topK: 0, atStart: true }),
            /a malformed answer: token 2 \(" sister"\) has log-prob -1e\+300, below any a model gives/,
          );
        } finally {
          model.dispose();
        }
      },
    ));

  it('a server listing 100,000 models: the error names 20 and says how many more (L1); file:// is said not to be a model server', async () => {
    await withServer(
      (body, res, server, url) => {
        if (url !== '/v1/models') {
          res.writeHead(404).end();
          return;
        }
        const data = Array.from({ length: 100_000 }, (_, i) => ({ id: `m${String(i).padStart(6, '0')}${' x'.repeat(20)}`, object: 'model' }));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data }));
      },
      async (server) => {
        const e = await openRemote(`${server.base}#nosuch`).then(
          () => assert.fail('opened'),
          (err: Error) => err,
        );
        assert.match(e.message, /the server has no model "nosuch"; it serves m000000 x x/);
        assert.match(e.message, /m000019 x x x x x x x x x x x x x x x x x x x x and 99,980 more \(LM: Select Model/);
        assert.ok(e.message.length < 1500, `${e.message.length} characters`);
      },
    );
    await rejects(
      loadModel('file:///etc/passwd#ok'),
      /model not found: .* a model given by URL must be on an http\(s\) server \(http\(s\):\/\/HOST\[:PORT\]\/v1#MODEL\), not file:\/\//,
    );
  });

  it("a generated token's log-prob above 0 from llama.cpp's server (its own shape) is a malformed answer, not log p = +10 (H1)", () =>
    withServer(
      (body, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const token = (t: string) => ({
          content: t,
          stop: false,
          completion_probabilities: [{ id: 1, token: t, bytes: [...Buffer.from(t)], logprob: 5, top_logprobs: [] }],
        });
        res.end(`data: ${JSON.stringify(token(' the'))}\n\ndata: ${JSON.stringify({ content: '', stop: true, stop_type: 'limit' })}\n\n`);
      },
      async (server) => {
        const ref = parseRemoteRef(`${server.base}#toy`)!;
        const model = new RemoteLanguageModel(ref, llamaCppDialect, endpointFor(ref), 2048);
        try {
          await rejects(
            generate(model, 'Hello', { maxTokens: 2, temperature: 1 }),
            /127\.0\.0\.1:\d+\/v1: a malformed answer: generated token 0 \(" the"\) of completion 0 has log-prob 5; nothing was used/,
          );
        } finally {
          model.dispose();
        }
      },
    ));
});
