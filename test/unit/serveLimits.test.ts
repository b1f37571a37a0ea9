/**
 * `lmp serve` against a hostile client (issue 13's hostile test): /tokenize of a long prompt goes
 * through admission and leaves the server answering between its pieces; one request cannot ask
 * unbounded work; a stream cut off by shutdown ends with an error event and [DONE].
 */
import * as assert from 'assert';
import type { AddressInfo } from 'net';
import type { LanguageModel, Tokenizer } from '../../src/core/model';
import { loadModel } from '../../src/node/modelLoader';
import { OpenAiServer, type ServerOptions } from '../../src/node/openaiServer/httpServer';
import { PIECE_CHARS } from '../../src/node/openaiServer/tokenizeInPieces';

/** Busy for `ms` on this thread: a tokenizer or model that is slow as a long text is. */
function busy(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // spinning: the point is to hold the thread
  }
}

/** The model with a slower tokenizer (`encodeMs` a call) and, for generation, `stepMs` before each next-token distribution. */
function slowed(model: LanguageModel, encodeMs: number, stepMs: number, calls: { encode: number }): LanguageModel {
  const tokenizer = new Proxy(model.tokenizer, {
    get(target, prop, receiver) {
      if (prop === 'encode')
        return (...args: Parameters<Tokenizer['encode']>) => {
          calls.encode++;
          busy(encodeMs);
          return target.encode(...args);
        };
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return new Proxy(model, {
    get(target, prop, receiver) {
      if (prop === 'tokenizer') return tokenizer;
      if (prop === 'nextLogProbs')
        return async (...args: Parameters<LanguageModel['nextLogProbs']>) => {
          await new Promise((resolve) => setTimeout(resolve, stepMs));
          return target.nextLogProbs(...args);
        };
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

async function serve(model: LanguageModel, options: Partial<ServerOptions> = {}): Promise<{ server: OpenAiServer; origin: string }> {
  const server = new OpenAiServer(
    { name: 'ngram-classics', model, created: 0, maxModelLen: 1 << 30 },
    { host: '127.0.0.1', port: 0, maxBodyBytes: 8 * 1024 * 1024, concurrency: 1, queue: 0, maxLogprobs: 20, shutdownGraceMs: 10_000, ...options },
  );
  const address: AddressInfo = await server.listen();
  return { server, origin: `http://127.0.0.1:${address.port}` };
}

const post = (origin: string, route: string, body: unknown) =>
  fetch(`${origin}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('lmp serve against a hostile client', () => {
  let base: LanguageModel;
  before(async () => {
    base = await loadModel('ngram-classics');
  });
  after(() => base?.dispose?.());

  it('/tokenize of a long prompt waits its turn (503 when full), and /health is answered between its pieces; the ids are those of the whole text (M2)', async () => {
    const calls = { encode: 0 };
    const { server, origin } = await serve(slowed(base, 20, 0, calls));
    try {
      const text = 'Dear sister, the fishermen stay at home.\nThe sea is grey. '.repeat(Math.ceil((30 * PIECE_CHARS) / 58));
      let tokenized = false;
      const tokenize = post(origin, '/tokenize', { model: 'ngram-classics', prompt: text }).then(async (r) => {
        tokenized = true;
        return { status: r.status, body: (await r.json()) as { tokens: number[]; count: number } };
      });
      await waitFor(() => calls.encode > 0, 'tokenizing started');
      const health = await fetch(`${origin}/health`);
      assert.strictEqual(health.status, 200);
      assert.ok(!tokenized, '/health was answered while the long prompt was still being tokenized');
      const other = await post(origin, '/detokenize', { tokens: [1, 2] });
      assert.strictEqual(other.status, 503, 'the one slot is taken and the queue is 0');
      assert.match(((await other.json()) as { error: { message: string } }).error.message, /the server is busy/);
      const { status, body } = await tokenize;
      assert.strictEqual(status, 200);
      const whole = base.tokenizer.encode(text, true).map((t) => t.id);
      assert.strictEqual(body.count, whole.length);
      assert.deepStrictEqual(body.tokens, whole);
    } finally {
      await server.close();
    }
  });

  it('one request may not ask for more than 100,000 generated tokens (one longest completion’s worth) (prompts × n × max_tokens): a 400 that says to split it (L1)', async () => {
    const { server, origin } = await serve(base);
    try {
      const res = await post(origin, '/v1/completions', { model: 'ngram-classics', prompt: Array(64).fill('It was'), n: 16, max_tokens: 100 });
      assert.strictEqual(res.status, 400);
      const { error } = (await res.json()) as { error: { message: string; param: string } };
      assert.match(error.message, /64 prompts × n 16 × max_tokens 100 = 102,400 tokens; at most 100,000 in one request: split it/);
    } finally {
      await server.close();
    }
  });

  it('a stream cut off by shutdown ends with an error event and [DONE], not a bare cut (L1)', async () => {
    const { server, origin } = await serve(slowed(base, 0, 5, { encode: 0 }), { shutdownGraceMs: 100 });
    const res = await post(origin, '/v1/completions', { model: 'ngram-classics', prompt: 'It was', max_tokens: 5000, stream: true });
    assert.strictEqual(res.status, 200);
    const reader = res.body!.getReader();
    let text = '';
    const decoder = new TextDecoder();
    const read = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        text += decoder.decode(value, { stream: true });
      }
    })();
    await waitFor(() => text.includes('"text"'), 'the first token');
    await server.close();
    await read;
    const events = text.trim().split('\n\n');
    assert.strictEqual(events.at(-1), 'data: [DONE]');
    const last = JSON.parse(events.at(-2)!.replace(/^data: /, '')) as { error?: { message: string; code: number } };
    assert.strictEqual(last.error?.code, 503);
    assert.match(last.error.message, /the server is shutting down: this request was cut off/);
  });
});
