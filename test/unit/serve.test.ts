/**
 * `lmp serve` driven by the official `openai` npm client (a client we did not write), on each
 * model family: echoed log-probs against `lmp score` of the same text, completions against
 * `lmp generate` with the same settings and seed, streaming against the whole answer, prompts as
 * token ids, stop sequences, and the errors (400, 404, 413, 503) with vLLM's error body.
 */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import OpenAI, { APIError } from 'openai';
import type { CompletionCreateParamsNonStreaming } from 'openai/resources/completions';
import { IncrementalDecoder } from '../../src/core/incrementalDecode';
import { loadModel } from '../../src/node/modelLoader';
import { startServe, type RunningServe } from '../../scripts/serveProcess';
import { CORPUS, ONNX_FIXTURES, REPO } from './helpers';

const CLI = path.join(REPO, 'dist', 'cli.js');

function lmpJson(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  assert.strictEqual(r.status, 0, `lmp ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** vLLM's fields outside the OpenAI schema, on the request (sent as they are by the client) and on a choice. */
type VllmParams = CompletionCreateParamsNonStreaming & { prompt_logprobs?: number; top_k?: number; return_tokens_as_token_ids?: boolean };
type PromptLogprobs = (Record<string, { logprob: number; rank: number; decoded_token: string }> | null)[];

/** Code-point offset of each UTF-16 offset of `text` (text_offset counts code points). */
function codePointOffset(text: string, utf16: number): number {
  return [...text.slice(0, utf16)].length;
}

/** A text of the valid split with accents, a euro sign and an emoji (a character split over byte tokens). */
function sampleText(): string {
  const valid = fs.readdirSync(path.join(CORPUS, 'valid')).sort()[0];
  const prose = fs.readFileSync(path.join(CORPUS, 'valid', valid), 'utf8').slice(0, 600);
  return `${prose}\nCafé déjà vu: 5 € and a smile 😀.\n`;
}

/** A KenLM-style ARPA model (whitespace tokens, a sentence per line) that the tests train: a model brought by the user. */
const ARPA_DIR = path.join(os.tmpdir(), `lmp-serve-arpa-${process.pid}`);

/** `scoringOnly`: a sentence-per-line model trained on hard-wrapped text ends a greedy completion at once (its </s>), so only its scoring is compared. */
const FAMILIES: { name: string; spec: string; args?: string[]; scoringOnly?: boolean }[] = [
  { name: 'ngram-classics', spec: 'ngram-classics' },
  { name: 'gpt-classics', spec: 'gpt-classics' },
  { name: 'tiny-llama', spec: path.join(ONNX_FIXTURES, 'tiny-llama') },
  { name: 'whitespace-arpa', spec: path.join(ARPA_DIR, 'model.arpa'), args: ['--served-model-name', 'whitespace-arpa'], scoringOnly: true },
];

describe('lmp serve through the openai client', function () {
  this.timeout(180_000);
  let dir: string;
  before(() => {
    assert.ok(fs.existsSync(CLI), 'dist/cli.js is built by npm run build');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-serve-'));
    fs.mkdirSync(ARPA_DIR, { recursive: true });
    const train = path.join(ARPA_DIR, 'train.txt');
    const first = fs.readdirSync(path.join(CORPUS, 'train')).sort()[0];
    fs.writeFileSync(train, fs.readFileSync(path.join(CORPUS, 'train', first), 'utf8').slice(0, 300_000));
    const t = spawnSync(process.execPath, [CLI, 'train-ngram', '--order', '3', '--arpa', path.join(ARPA_DIR, 'model.arpa'), train], { encoding: 'utf8' });
    assert.strictEqual(t.status, 0, t.stderr);
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(ARPA_DIR, { recursive: true, force: true });
  });

  for (const family of FAMILIES) {
    describe(family.name, () => {
      let serve: RunningServe;
      let client: OpenAI;
      before(async () => {
        serve = await startServe(CLI, family.spec, family.args);
        client = new OpenAI({ baseURL: serve.baseURL, apiKey: 'unused', maxRetries: 0 });
      });
      after(async () => {
        if (!serve) return;
        const code = await serve.stop();
        assert.strictEqual(code, 0, `lmp serve exited with ${code}:\n${serve.log()}`);
      });
      afterEach(function () {
        if (this.currentTest?.state === 'failed') console.log(`lmp serve's log:\n${serve.log()}`);
      });
      const generation = family.scoringOnly ? () => undefined : it;

      it('lists the model', async () => {
        const models = await client.models.list();
        assert.deepStrictEqual(
          models.data.map((m) => m.id),
          [family.name],
        );
      });

      it("echoes the prompt's log-probs, ranks and offsets as lmp score gives them", async () => {
        const text = sampleText();
        const file = path.join(dir, `${family.name}.txt`);
        fs.writeFileSync(file, text);
        const local = lmpJson('score', '--model', family.spec, '--json', '--details', '--top-k', '3', file);
        const params: VllmParams = { model: family.name, prompt: text, max_tokens: 0, echo: true, logprobs: 3, prompt_logprobs: 3 };
        const res = await client.completions.create(params);
        const choice = res.choices[0];
        assert.strictEqual(choice.text, text);
        assert.strictEqual(choice.finish_reason, 'length');
        const lp = choice.logprobs!;
        assert.strictEqual(lp.token_logprobs![0], null, 'the first prompt token is given, not predicted');
        const scored = lp.token_logprobs!.map((x, i) => ({ x, i })).filter((e) => e.x !== null);
        assert.strictEqual(scored.length, local.tokens);
        const promptLogprobs = (choice as unknown as { prompt_logprobs: PromptLogprobs }).prompt_logprobs;
        assert.strictEqual(promptLogprobs.length, lp.tokens!.length);
        assert.strictEqual(promptLogprobs[0], null);
        let total = 0;
        scored.forEach(({ x, i }, j) => {
          const t = local.token_scores[j];
          assert.ok(Math.abs(x! - t.logprob) < 1e-4, `token ${j} ${JSON.stringify(t.text)}: ${x} served, ${t.logprob} by lmp score`);
          assert.strictEqual(lp.text_offset![i], codePointOffset(text, t.start), `offset of token ${j} ${JSON.stringify(t.text)}`);
          assert.strictEqual(lp.tokens![i], text.slice(t.start, t.start + t.length));
          const entry = promptLogprobs[i]![t.id];
          assert.ok(entry, `prompt_logprobs[${i}] has the token ${t.id}`);
          assert.strictEqual(entry.rank, t.rank);
          assert.strictEqual(entry.decoded_token, lp.tokens![i], 'the token is named alike in logprobs and prompt_logprobs');
          assert.ok(Math.abs(entry.logprob - t.logprob) < 1e-4);
          // The token itself and the top 3, as OpenAI's top_logprobs (keys are texts, so may coincide).
          const top = lp.top_logprobs![i]!;
          assert.ok(Object.keys(top).length >= 1 && Object.keys(top).length <= 4);
          assert.ok(Math.abs(top[lp.tokens![i]] - t.logprob) < 1e-4);
          for (const a of t.top)
            assert.ok(findId(promptLogprobs[i]!, a, t.id), `prompt_logprobs[${i}] lists lmp score's alternative ${JSON.stringify(a.text)}`);
          total += x!;
        });
        assert.ok(Math.abs(total - local.logprob_nats) < 1e-4, `total ${total} served, ${local.logprob_nats} by lmp score`);
        // Ranks alone (prompt_logprobs 0, no alternatives) come from the heat-map's whole-sequence pass.
        const ranked = await client.completions.create({ model: family.name, prompt: text, max_tokens: 0, echo: true, prompt_logprobs: 0 } as VllmParams);
        const rankOnly = (ranked.choices[0] as unknown as { prompt_logprobs: PromptLogprobs }).prompt_logprobs;
        scored.forEach(({ i }, j) => {
          const t = local.token_scores[j];
          assert.deepStrictEqual(Object.keys(rankOnly[i]!), [String(t.id)]);
          assert.ok(Math.abs(rankOnly[i]![t.id].logprob - t.logprob) < 1e-4);
          assert.strictEqual(rankOnly[i]![t.id].rank, t.rank, `rank of token ${j} ${JSON.stringify(t.text)}`);
        });
        // The tokens spell the text from the offsets on, as the editor's tokens do.
        const cps = [...text];
        lp.tokens!.forEach((tok, i) => {
          if (lp.token_logprobs![i] === null) return;
          assert.strictEqual(cps.slice(lp.text_offset![i], lp.text_offset![i] + [...tok].length).join(''), tok);
        });
      });

      it("scores a long prompt as lmp score does, through the model's windows and the server's slices", async () => {
        const valid = fs.readdirSync(path.join(CORPUS, 'valid')).sort()[0];
        const text = fs.readFileSync(path.join(CORPUS, 'valid', valid), 'utf8').slice(10_000, 18_000);
        const file = path.join(dir, `${family.name}-long.txt`);
        fs.writeFileSync(file, text);
        const local = lmpJson('score', '--model', family.spec, '--json', file);
        const res = await client.completions.create({ model: family.name, prompt: text, max_tokens: 0, echo: true, logprobs: 0 });
        const lps = res.choices[0].logprobs!.token_logprobs!.filter((x) => x !== null) as number[];
        assert.ok(lps.length > 1000, `${lps.length} tokens`);
        assert.strictEqual(lps.length, local.tokens);
        const total = lps.reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(total - local.logprob_nats) < 1e-4, `total ${total} served, ${local.logprob_nats} by lmp score`);
      });

      generation('completes greedily as lmp generate does, its tokens spelling the text', async () => {
        const prompt = 'It was a dark and stormy night; the rain fell';
        const local = lmpJson(
          'generate',
          '--model',
          family.spec,

          '--prompt',
          prompt,
          '--temperature',
          '0',
          '--max-tokens',
          '24',
          '--json',
        );
        const res = await client.completions.create({ model: family.name, prompt, max_tokens: 24, temperature: 0, logprobs: 2 });
        const c = res.choices[0];
        assert.strictEqual(c.text, local.completions[0].text);
        const lp = c.logprobs!;
        assert.strictEqual(lp.tokens!.join(''), c.text);
        let offset = 0;
        lp.tokens!.forEach((t, i) => {
          assert.strictEqual(lp.text_offset![i], offset);
          offset += [...t].length;
          assert.ok(Math.abs(lp.token_logprobs![i]! - local.completions[0].tokens[i].logprob) < 1e-4);
        });
        assert.strictEqual(res.usage!.completion_tokens, lp.tokens!.length);
      });

      generation('streams the same completion, ending with [DONE]', async () => {
        const prompt = 'The old man looked at the sea and said';
        const whole = await client.completions.create({ model: family.name, prompt, max_tokens: 30, temperature: 0, logprobs: 1, echo: true });
        const stream = await client.completions.create({ model: family.name, prompt, max_tokens: 30, temperature: 0, logprobs: 1, echo: true, stream: true });
        let text = '';
        const tokens: string[] = [];
        const offsets: number[] = [];
        let finish: string | null = null;
        for await (const chunk of stream) {
          const c = chunk.choices[0];
          text += c.text;
          tokens.push(...(c.logprobs?.tokens ?? []));
          offsets.push(...(c.logprobs?.text_offset ?? []));
          if (c.finish_reason) finish = c.finish_reason;
        }
        assert.strictEqual(text, whole.choices[0].text);
        assert.deepStrictEqual(tokens, whole.choices[0].logprobs!.tokens);
        assert.deepStrictEqual(offsets, whole.choices[0].logprobs!.text_offset);
        assert.strictEqual(finish, whole.choices[0].finish_reason);
      });

      generation('stops before a stop sequence, streamed or not', async () => {
        const prompt = 'It was the best of times, it was the worst of times,';
        const free = await client.completions.create({ model: family.name, prompt, max_tokens: 40, temperature: 0 });
        const text = free.choices[0].text;
        // A stop sequence of three characters from the middle of the greedy text: it must end there.
        const at = Math.max(1, Math.floor(text.length / 2));
        const stop = text.slice(at, at + 3);
        const expected = text.slice(0, text.indexOf(stop));
        const res = await client.completions.create({ model: family.name, prompt, max_tokens: 40, temperature: 0, stop: [stop, 'NEVER SEEN'], logprobs: 0 });
        assert.strictEqual(res.choices[0].text, expected);
        assert.strictEqual(res.choices[0].finish_reason, 'stop');
        assert.strictEqual((res.choices[0] as unknown as { stop_reason: string }).stop_reason, stop);
        const stream = await client.completions.create({ model: family.name, prompt, max_tokens: 40, temperature: 0, stop, stream: true });
        let streamed = '';
        for await (const chunk of stream) streamed += chunk.choices[0].text;
        assert.strictEqual(streamed, expected);
      });

      it('takes the prompt as token ids, and tokenizes and detokenizes as the model does', async () => {
        const text = 'It was the best of times';
        const tok = await client.post<{ tokens: number[]; count: number }>('/../tokenize', { body: { model: family.name, prompt: text } });
        assert.strictEqual(tok.count, tok.tokens.length);
        const detok = await client.post<{ prompt: string }>('/../detokenize', { body: { model: family.name, tokens: tok.tokens } });
        assert.strictEqual(detok.prompt, text);
        const byText = await client.completions.create({ model: family.name, prompt: text, max_tokens: 5, temperature: 0, echo: true, logprobs: 1 });
        const byIds = await client.completions.create({ model: family.name, prompt: tok.tokens, max_tokens: 5, temperature: 0, echo: true, logprobs: 1 });
        assert.deepStrictEqual(byIds.choices[0].logprobs, byText.choices[0].logprobs);
        assert.strictEqual(byIds.choices[0].text, byText.choices[0].text);
      });

      generation('draws n completions reproducibly from a seed, as lmp generate does', async () => {
        const prompt = 'She opened the door and';
        const params = { model: family.name, prompt, max_tokens: 8, temperature: 1, n: 3, seed: 1234 };
        const a = await client.completions.create(params);
        const b = await client.completions.create(params);
        assert.deepStrictEqual(
          a.choices.map((c) => c.text),
          b.choices.map((c) => c.text),
        );
        assert.deepStrictEqual(
          a.choices.map((c) => c.index),
          [0, 1, 2],
        );
        const local = lmpJson(
          'generate',
          '--model',
          family.spec,

          '--prompt',
          prompt,
          '--max-tokens',
          '8',
          '--temperature',
          '1',
          '--num-completions',
          '3',
          '--seed',
          '1234',
          '--json',
        );
        assert.deepStrictEqual(
          a.choices.map((c) => c.text),
          local.completions.map((c: { text: string }) => c.text),
        );
      });
    });
  }

  it("the incremental decoder's pieces join to the decoded text on every tokenizer, whole characters each", async () => {
    const text = 'Café déjà vu: 5 € and a smile 😀, naïve 東京.';
    for (const family of FAMILIES) {
      const model = await loadModel(family.spec);
      try {
        const ids = model.tokenizer.encode(text, false).map((t) => t.id);
        const decoder = new IncrementalDecoder(model.tokenizer, false);
        const pieces = ids.map((id) => decoder.push(id));
        assert.strictEqual(pieces.join(''), model.tokenizer.decode(ids, false), family.name);
        for (const p of pieces) assert.ok(!p.includes('\uFFFD'), `${family.name}: ${JSON.stringify(p)}`);
      } finally {
        model.dispose?.();
      }
    }
  });
});

/**
 * The id under which prompt_logprobs lists an alternative of lmp score's top, matched by text and
 * log-prob; the scored token itself is listed once, under its text in the prompt and with its own
 * log-prob (a quantized graph's single-position distribution may differ slightly from the
 * whole-sequence pass).
 */
function findId(entry: Record<string, { logprob: number; decoded_token: string }>, a: { text: string; logprob: number }, own: number): string | undefined {
  return Object.keys(entry).find((id) => Number(id) === own || (entry[id].decoded_token === a.text && Math.abs(entry[id].logprob - a.logprob) < 1e-4));
}

describe('lmp serve --concurrency with a model computed here', function () {
  this.timeout(120_000);
  it('says what more than one costs (two caches: a long pair of completions or more than two run their prompts again at each step); not for an n-gram model', async () => {
    const llama = path.join(REPO, 'test', 'fixtures', 'models', 'gguf', 'tiny-llama-f32.gguf');
    for (const [model, warned] of [
      [llama, true],
      ['ngram-classics', false],
    ] as const) {
      const serve = await startServe(CLI, model, ['--concurrency', '2']);
      try {
        assert.strictEqual(
          /--concurrency 2 with a model computed here: it keeps two caches .* run their whole prompt again at each step/.test(serve.log()),
          warned,
          `${model}: ${serve.log()}`,
        );
      } finally {
        await serve.stop();
      }
    }
  });
});

describe("lmp serve's errors, limits and shutdown", function () {
  this.timeout(120_000);
  const KEY = 'test-key';
  let serve: RunningServe;
  let client: OpenAI;
  /** A raw request, for what the client would not send. */
  const raw = (route: string, init: RequestInit = {}) =>
    fetch(`${serve.origin}${route}`, { ...init, headers: { Authorization: `Bearer ${KEY}`, ...init.headers } });
  const running = async () => Number(/lmp:num_requests_running\{[^}]*\} (\d+)/.exec(await (await raw('/metrics')).text())![1]);

  before(async () => {
    assert.ok(fs.existsSync(CLI), 'dist/cli.js is built by npm run build');
    serve = await startServe(CLI, 'ngram-classics', ['--queue', '0', '--max-body-bytes', '4096', '--api-key', KEY]);
    client = new OpenAI({ baseURL: serve.baseURL, apiKey: KEY, maxRetries: 0 });
  });
  after(async () => {
    if (serve) await serve.stop();
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.log(`lmp serve's log:\n${serve.log()}`);
  });

  /** The error a request fails with, checked to be an OpenAI-style body whose code is the status. */
  async function failure(request: Promise<unknown>, status: number, param?: string | null): Promise<APIError> {
    try {
      await request;
    } catch (e) {
      assert.ok(e instanceof APIError, String(e));
      assert.strictEqual(e.status, status, e.message);
      const body = e.error as { message: string; type: string; param: string | null; code: number };
      assert.strictEqual(typeof body.message, 'string');
      assert.strictEqual(typeof body.type, 'string');
      assert.strictEqual(body.code, status);
      if (param !== undefined) assert.strictEqual(body.param, param);
      return e;
    }
    assert.fail(`expected a ${status}`);
  }

  it('answers bad requests with 400 naming the field', async () => {
    const ok = { model: 'ngram-classics', prompt: 'It was', max_tokens: 2 };
    await failure(client.completions.create({ ...ok, temperature: -1 }), 400, 'temperature');
    const tooMany = await failure(client.completions.create({ ...ok, logprobs: 21 }), 400, 'logprobs');
    assert.match(tooMany.message, /maximum of 20 \(max_logprobs/);
    await failure(client.completions.create({ ...ok, top_p: 0 }), 400, 'top_p');
    await failure(client.completions.create({ ...ok, n: 17 }), 400, 'n');
    await failure(client.completions.create({ ...ok, max_tokens: 0 }), 400, 'max_tokens');
    await failure(client.completions.create({ ...ok, prompt: '' }), 400, 'prompt');
    await failure(client.completions.create({ ...ok, prompt: [1, 2, 10_000_000] }), 400, 'prompt');
    await failure(client.completions.create({ ...ok, stop: [''] }), 400, 'stop');
    await failure(client.completions.create({ ...ok, presence_penalty: 0.5 }), 400, 'presence_penalty');
    const streamed = { ...ok, stream: true, prompt_logprobs: 1 } as unknown as OpenAI.CompletionCreateParamsStreaming;
    await failure(client.completions.create(streamed), 400, 'prompt_logprobs');
    const r = await raw('/v1/completions', { method: 'POST', body: '{"prompt": "unclosed' });
    assert.strictEqual(r.status, 400);
    assert.match(((await r.json()) as { error: { message: string } }).error.message, /not valid JSON/);
  });

  it('answers 404 for another model and for routes it does not have, 401 without the key', async () => {
    const e = await failure(client.completions.create({ model: 'gpt-4', prompt: 'x', max_tokens: 1 }), 404, 'model');
    assert.match(e.message, /gpt-4.*does not exist/);
    const chat = await raw('/v1/chat/completions', { method: 'POST', body: '{}' });
    assert.strictEqual(chat.status, 404);
    const keyless = new OpenAI({ baseURL: serve.baseURL, apiKey: 'wrong', maxRetries: 0 });
    await failure(keyless.models.list(), 401);
  });

  it('answers 413 to a body over the limit', async () => {
    const r = await raw('/v1/completions', { method: 'POST', body: JSON.stringify({ prompt: 'x'.repeat(5000), max_tokens: 1 }) });
    assert.strictEqual(r.status, 413);
    const body = (await r.json()) as { error: { code: number; message: string } };
    assert.strictEqual(body.error.code, 413);
    assert.match(body.error.message, /4,096 bytes/);
  });

  it('names tokens by id on request, and takes token ids that are not how the text tokenizes', async () => {
    const ids = async (prompt: string) => (await client.post<{ tokens: number[] }>('/../tokenize', { body: { prompt, add_special_tokens: false } })).tokens;
    const [space] = await ids(' ');
    const [the] = await ids('the');
    assert.deepStrictEqual(await ids(' the'), [30], 'the text is one token');
    const params = {
      model: 'ngram-classics',
      prompt: [space, the],
      max_tokens: 0,
      echo: true,
      logprobs: 0,
      return_tokens_as_token_ids: true,
    } as unknown as OpenAI.CompletionCreateParamsNonStreaming;
    const res = await client.completions.create(params);
    assert.strictEqual(res.choices[0].text, ' the');
    assert.deepStrictEqual(res.choices[0].logprobs!.tokens, [`token_id:${space}`, `token_id:${the}`]);
    assert.deepStrictEqual(res.choices[0].logprobs!.text_offset, [0, 1]);
    assert.strictEqual(res.choices[0].logprobs!.token_logprobs![0], null);
    assert.ok(res.choices[0].logprobs!.token_logprobs![1]! < 0);
  });

  it('completes a batch of prompts, n each, numbered as vLLM numbers them, and streams the usage last when asked', async () => {
    const prompts = ['It was the best of times', 'Call me'];
    const one = { model: 'ngram-classics', max_tokens: 6, n: 2, seed: 99, temperature: 1 };
    const batch = await client.completions.create({ ...one, prompt: prompts });
    assert.deepStrictEqual(
      batch.choices.map((c) => c.index),
      [0, 1, 2, 3],
    );
    for (const [i, prompt] of prompts.entries()) {
      const single = await client.completions.create({ ...one, prompt });
      assert.deepStrictEqual(
        batch.choices.slice(2 * i, 2 * i + 2).map((c) => c.text),
        single.choices.map((c) => c.text),
      );
    }
    const stream = await client.completions.create({ ...one, prompt: prompts, stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const last = chunks[chunks.length - 1];
    assert.deepStrictEqual(last.choices, []);
    assert.deepStrictEqual(last.usage, batch.usage);
    const tokens = await client.post<{ tokens: number[]; token_strs: string[] }>('/../tokenize', { body: { prompt: 'It was', return_token_strs: true } });
    assert.deepStrictEqual(tokens.token_strs, ['<s>', 'It', ' was']);
    assert.strictEqual((await raw('/health')).status, 200);
  });

  it('refuses a request with 503 while the running one fills it, and cancels a generation whose client leaves', async () => {
    const abort = new AbortController();
    const long = await client.completions.create({ model: 'ngram-classics', prompt: 'It was', max_tokens: 100_000, stream: true }, { signal: abort.signal });
    const chunks = long[Symbol.asyncIterator]();
    await chunks.next(); // it runs
    assert.strictEqual(await running(), 1);
    const e = await failure(client.completions.create({ model: 'ngram-classics', prompt: 'x', max_tokens: 1 }), 503);
    assert.strictEqual(e.headers?.get('retry-after'), '1');
    abort.abort();
    await chunks.next().catch(() => undefined);
    while ((await running()) !== 0) await new Promise((resolve) => setImmediate(resolve));
    const after = await client.completions.create({ model: 'ngram-classics', prompt: 'It was', max_tokens: 1 });
    assert.strictEqual(after.choices.length, 1);
    assert.match(serve.log(), /client went away/);
  });

  it('finishes the running request on SIGTERM, then exits 0', async () => {
    const request = client.completions.create({ model: 'ngram-classics', prompt: 'It was', max_tokens: 300 });
    while ((await running()) !== 1) await new Promise((resolve) => setImmediate(resolve));
    serve.proc.kill('SIGTERM');
    const res = await request;
    assert.strictEqual(res.usage!.completion_tokens, 300);
    assert.strictEqual(await serve.stop(), 0);
    assert.match(serve.log(), /SIGTERM: finishing running requests[\s\S]*stopped/);
  });
});
