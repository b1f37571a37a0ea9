/**
 * The remote backend against a local server that replays vLLM's, llama.cpp's and Ollama's
 * documented response shapes (remoteReplay.ts lists the fields and where each is documented),
 * their error bodies, and injected faults.
 */
import * as assert from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { CancelledError, LmError } from '../../src/core/errors';
import { generate } from '../../src/core/generation';
import { parseRemoteRef, remoteSpec } from '../../src/core/remote/remoteRef';
import { shannonNeedsLocalModel } from '../../src/core/remote/serverModel';
import { placePieces } from '../../src/core/remote/tokenOffsets';
import { scoreText, type TokenScore } from '../../src/core/scoring';
import {
  heatmapServerOptions,
  scoreInServerChunks,
  scoreRange,
  scoreServerSelection,
  serverHoverAt,
  serverHoverFacts,
  tokensReach,
} from '../../src/editor/serverScoring';
import { hoverMarkdown } from '../../src/editor/hoverContent';
import { detectDialect, endpointFor, openRemote, remoteBackend } from '../../src/node/backends/remoteBackend';
import { Endpoint, retryDelay } from '../../src/node/remote/endpoint';
import { openaiDialect } from '../../src/node/remote/openaiDialect';
import { modelKindsLabel } from '../../src/node/backends/registry';
import { loadModel, recognizeModel } from '../../src/node/modelLoader';
import type { RemoteLanguageModel } from '../../src/node/remote/remoteModel';
import { EngineConnection } from '../../src/core/engine/engineClient';
import { EngineServer } from '../../src/core/engine/engineServer';
import type { EngineResponse } from '../../src/core/engine/protocol';
import { REPO, TEST_LOAD_SPEC } from './helpers';
import { BOS, ReplayServer, toyLogProb, toyRank, toyTokens, type Flavour } from './remoteReplay';

const TEXT = 'The café sat by the 😀 river,\nand the mouse ate the cheese.';

async function withServer<T>(flavour: Flavour, f: (s: ReplayServer) => Promise<T>): Promise<T> {
  const server = await new ReplayServer(flavour).start();
  try {
    return await f(server);
  } finally {
    await server.close();
  }
}

async function withModel<T>(server: ReplayServer, f: (m: RemoteLanguageModel) => Promise<T>, options = {}): Promise<T> {
  const model = await openRemote(`${server.base}#toy-model`, options);
  try {
    return await f(model);
  } finally {
    model.dispose();
  }
}

async function rejects(p: Promise<unknown>, pattern: RegExp): Promise<Error> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof Error, `not an Error: ${e}`);
    assert.match(e.message, pattern);
    return e;
  }
  assert.fail(`expected a rejection matching ${pattern}`);
}

describe('remote model references', () => {
  it('parses http(s)://HOST[:PORT]/v1#MODEL, with a dialect, and refuses malformed ones with the form', () => {
    assert.deepStrictEqual(parseRemoteRef('http://127.0.0.1:8000/v1#meta-llama/Llama-3-8B'), {
      baseUrl: 'http://127.0.0.1:8000/v1',
      root: 'http://127.0.0.1:8000',
      origin: 'http://127.0.0.1:8000',
      model: 'meta-llama/Llama-3-8B',
      dialect: undefined,
    });
    assert.strictEqual(parseRemoteRef('https://h/api/v1/?dialect=ollama#llama3.2:1b')!.dialect, 'ollama');
    assert.strictEqual(parseRemoteRef('https://h/api/v1#x')!.root, 'https://h/api');
    assert.strictEqual(parseRemoteRef('/models/x'), undefined);
    assert.throws(() => parseRemoteRef('http://h:8000/v1'), /names no model/);
    assert.throws(() => parseRemoteRef('http://h:8000/x#m'), /must end with \/v1/);
    assert.throws(() => parseRemoteRef('http://u:p@h/v1#m'), /credentials/);
    assert.throws(() => parseRemoteRef('http://h/v1?dialect=tgi#m'), /dialect must be one of/);
    assert.strictEqual(remoteSpec('http://h:1/v1/', 'org/m:1', 'llama.cpp'), 'http://h:1/v1?dialect=llama.cpp#org/m:1');
    assert.strictEqual(parseRemoteRef(remoteSpec('http://h:1/v1', 'a b#c'))!.model, 'a b#c');
  });

  it("wording (drive #23): the file dialog's kinds name no server; the Shannon game's refusal is one sentence after its colon", () => {
    assert.doesNotMatch(modelKindsLabel(), /server|http/);
    assert.match(modelKindsLabel(), /GGUF|ARPA/);
    const why = shannonNeedsLocalModel('gpt-classics');
    assert.match(why, /^gpt-classics runs on a server, .*\.$/);
    assert.doesNotMatch(why.replace('LM: Select Model', ''), /:/, 'no colon after "The model could not play:"');
  });

  it('the registry gives a URL to the remote backend, named by its model, never resolved as a path', () => {
    const m = recognizeModel('http://127.0.0.1:9/v1#toy', undefined, '/tmp');
    assert.strictEqual(m.backend.id, 'remote');
    assert.strictEqual(m.name, 'toy');
    assert.strictEqual(m.location, 'http://127.0.0.1:9/v1#toy');
    assert.throws(() => recognizeModel('http://127.0.0.1:9/v1'), /names no model/);
  });
});

describe('server tokens placed on the text', () => {
  it('covers the text exactly; a character split into byte tokens belongs to its last byte (token contract)', () => {
    const toks = toyTokens(TEXT);
    // As vLLM shows byte tokens ("�") and as llama.cpp/Ollama do (with bytes).
    for (const pieces of [toks.map((t) => ({ text: t.text })), toks.map((t) => ({ text: t.text, bytes: t.bytes }))]) {
      const placed = placePieces(TEXT, [{ text: BOS }, ...pieces], 'test', { leading: 1, offset: 100 });
      assert.deepStrictEqual(placed[0], { start: 100, length: 0 });
      let at = 100;
      for (const p of placed.slice(1)) {
        assert.strictEqual(p.start, at);
        at += p.length;
      }
      assert.strictEqual(at, 100 + TEXT.length);
      const emoji = TEXT.indexOf('😀') + 100;
      const covering = placed.filter((p) => p.start === emoji);
      // Four byte tokens: three of length 0, the last covering both UTF-16 units.
      assert.deepStrictEqual(
        covering.map((p) => p.length),
        [0, 0, 0, 2],
      );
    }
    assert.deepStrictEqual(placePieces('é', [{ text: 'bytes:\\xc3' }, { text: 'bytes:\\xa9' }], 'test'), [
      { start: 0, length: 0 },
      { start: 0, length: 1 },
    ]);
  });

  it('refuses tokens that do not spell the text, naming where (never numbers on the wrong place)', () => {
    assert.throws(
      () => placePieces('the cat', [{ text: 'the' }, { text: ' dog' }], 'http://x/v1'),
      /http:\/\/x\/v1: the server's tokens do not spell the text at character 3/,
    );
    assert.throws(() => placePieces('the cat', [{ text: 'the' }], 'http://x/v1'), /end at character 3 of 7/);
  });
});

describe('remote backend: vLLM (OpenAI API)', () => {
  it('detects the dialect, checks the model, and scores a text with prompt_logprobs: log p, exact ranks, top k, offsets', () =>
    withServer('vllm', async (server) => {
      assert.strictEqual(await detectDialect(endpointFor(parseRemoteRef(`${server.base}#x`)!)), 'openai');
      await withModel(server, async (model) => {
        assert.strictEqual(model.info.backend, 'remote');
        // As every backend's models (backends.test.ts): they carry its capabilities.
        assert.deepStrictEqual(model.info.capabilities, remoteBackend.capabilities);
        assert.strictEqual(model.info.capabilities.distribution, 'top-k');
        assert.strictEqual(model.info.contextLength, 2048);
        const { tokens, summary } = await scoreText(model, TEXT, { details: true, topK: 5 });
        const toks = toyTokens(TEXT);
        assert.strictEqual(tokens.length, toks.length, 'every prompt token after the begin-of-text token is scored');
        tokens.forEach((t, i) => {
          assert.ok(Math.abs(t.logProb - toyLogProb(toks[i], i + 1)) < 1e-12, `log p of token ${i}`);
          assert.strictEqual(t.rank, toyRank(toks[i], i + 1), `rank of token ${i} (from prompt_logprobs, also beyond the top 5)`);
          assert.ok(t.alternatives!.length === 5 && t.alternatives!.every((a, j) => j === 0 || a.logProb <= t.alternatives![j - 1].logProb));
        });
        assert.strictEqual(summary.tokens, toks.length);
        const last = server.requests[server.requests.length - 1];
        assert.deepStrictEqual(
          { ...(last.body as object), prompt: undefined },
          { model: 'toy-model', prompt: undefined, max_tokens: 0, echo: true, logprobs: 5, prompt_logprobs: 5, temperature: 0 },
        );
        // The words of the text are where the tokens say.
        const cheese = tokens.find((t) => t.text === ' cheese.')!;
        assert.strictEqual(TEXT.slice(cheese.start, cheese.start + cheese.length), ' cheese.');
      });
    }));

  it('the hover shows the token, its log p and rank, and says "rank > k" only where the server gives no rank', () =>
    withServer('vllm', async (server) =>
      withModel(server, async (model) => {
        const read = (a: number, b: number) => TEXT.slice(a, b);
        const lineStart = TEXT.indexOf('and');
        const range = await scoreRange(model, read, lineStart, TEXT.length, { topK: 5, maxContextChars: 4000, contextTokensHint: 2048 });
        const offset = TEXT.indexOf('mouse') + 1;
        const facts = serverHoverFacts('toy-model', range, offset, { text: TEXT.slice(lineStart), start: lineStart })!;
        const toks = toyTokens(TEXT);
        const i = toks.findIndex((t) => t.text === ' mouse');
        assert.strictEqual(facts.text, ' mouse');
        assert.ok(Math.abs(facts.logProb - toyLogProb(toks[i], i + 1)) < 1e-12);
        assert.strictEqual(facts.rank, toyRank(toks[i], i + 1));
        assert.strictEqual(facts.context.tokens, i + 1, 'the begin-of-text token and every token before it');
        const md = hoverMarkdown(facts);
        assert.match(md, /rank \*\*\d+\*\*/);
        assert.doesNotMatch(md, / of 0/);
        assert.match(md, /the server's top 5/);
        assert.match(hoverMarkdown({ ...facts, rank: undefined, rankAbove: 5 }), /rank > 5 \(the server gives its top 5 only\)/);
      }),
    ));

  it('the hover sends no more tokens than the model reads: an answer past its window is asked again with less context, and the context it claims fits', () =>
    withServer('vllm', async (server) =>
      withModel(server, async (model) => {
        // Two characters a token: the first guess of a request's length holds more tokens than a window of 16.
        const doc = `${Array.from({ length: 80 }, (_, i) => 'abcdefghij'[i % 10]).join(' ')} the mouse ate`;
        const read = (a: number, b: number) => doc.slice(a, b);
        const before = server.requests.length;
        const offset = doc.indexOf('mouse') + 2;
        const facts = await serverHoverAt(model, 'toy-model', read, offset, { text: doc, start: 0, end: doc.length }, 0, {
          topK: 5,
          contextTokensHint: 16,
        });
        const sent = server.requests.slice(before).map((r) => toyTokens((r.body as { prompt: string }).prompt).length + 1);
        assert.ok(sent[0] > 16 && sent[sent.length - 1] <= 16, `requests of ${sent} tokens`);
        assert.strictEqual(facts?.text, ' mouse');
        assert.ok(facts!.context.tokens <= 15 && !facts!.context.whole, `given ${facts!.context.tokens} tokens`);
      }),
    ));

  it('the hover\'s word view shows a character of byte tokens as one part, as locally (vLLM gives them as "�")', () =>
    withServer('vllm', async (server) =>
      withModel(server, async (model) => {
        const read = (a: number, b: number) => TEXT.slice(a, b);
        const offset = TEXT.indexOf('café') + 1;
        const facts = await serverHoverAt(model, 'toy-model', read, offset, { text: TEXT.slice(0, TEXT.indexOf('\n')), start: 0, end: TEXT.indexOf('\n') }, 0, {
          topK: 5,
          contextTokensHint: 2048,
        });
        const toks = toyTokens(TEXT);
        const i = toks.findIndex((t) => t.text === ' caf');
        assert.deepStrictEqual(
          facts?.word?.parts.map((p) => p.text),
          [' caf', 'é'],
        );
        const e = facts!.word!.parts[1].logProb;
        assert.ok(Math.abs(e - (toyLogProb(toks[i + 1], i + 2) + toyLogProb(toks[i + 2], i + 3))) < 1e-12, "both bytes' log-probs");
      }),
    ));

  it('the heat-map scores a chunk a request, with context as long as the server takes (its 400 for a too-long text halves it)', () =>
    withServer('vllm', async (server) =>
      withModel(server, async (model) => {
        server.maxModelLen = 25;
        const doc = Array.from({ length: 12 }, (_, i) => `Line ${i}: the mouse ate the cheese, and the café stayed open.`).join('\n');
        const read = (a: number, b: number) => doc.slice(a, b);
        const from = doc.indexOf('Line 3');
        const tokens: { start: number; length: number }[] = [];
        const before = server.requests.length;
        await scoreInServerChunks(model, read, from, doc.length, {
          topK: 5,
          chunkChars: 80,
          maxContextChars: 4000,
          contextTokensHint: 2048,
          onChunk: (scored) => tokens.push(...scored),
        });
        // The chunks' tokens tile the scope exactly, whatever the cuts; the first ("\nLine") may start before it and cover its start.
        assert.ok(
          tokens[0].start <= from && tokens[0].start + tokens[0].length > from,
          `the first token covers the scope's start: ${JSON.stringify(tokens[0])}`,
        );
        let at = tokens[0].start;
        for (const t of tokens) {
          assert.strictEqual(t.start, at);
          at += t.length;
        }
        assert.strictEqual(at, doc.length);
        const sent = server.requests.slice(before).map((r) => toyTokens((r.body as { prompt: string }).prompt).length + 1);
        const refused = sent.filter((n) => n > 25).length;
        assert.ok(sent[0] > 25, 'the first guess was too long');
        // Learnt once for the model: a few halvings in all (a request fills its window, so a text of more
        // tokens a character can still meet one later), and the second half of the chunks all fit.
        assert.ok(refused <= 3 && sent.slice(Math.floor(sent.length / 2)).every((n) => n <= 25), `requests of ${sent} tokens`);
      }),
    ));

  it('the heat-map asks for ranks alone (logprobs 0, prompt_logprobs 0), pieces of half the context, two out at once, as one at a time', () =>
    withServer('vllm', async (server) =>
      withModel(server, async (model) => {
        const doc = Array.from({ length: 30 }, (_, i) => `Line ${i}: the mouse ate the cheese, and the café stayed open.`).join('\n');
        const read = (a: number, b: number) => doc.slice(a, b);
        const run = async (inFlight: number) => {
          const before = server.requests.length;
          const tokens: TokenScore[] = [];
          await scoreInServerChunks(model, read, 0, doc.length, { ...heatmapServerOptions(64, 4000, 10), inFlight, onChunk: (s) => tokens.push(...s) });
          return { tokens, sent: server.requests.slice(before).map((r) => r.body as Record<string, unknown>) };
        };
        const pipelined = await run(2);
        assert.ok(pipelined.sent.length > 10, `${pipelined.sent.length} requests`);
        for (const b of pipelined.sent) {
          assert.deepStrictEqual([b.echo, b.max_tokens, b.logprobs, b.prompt_logprobs], [true, 0, 0, 0]);
          assert.ok(toyTokens(b.prompt as string).length + 1 <= 64, 'a request is one window of the model');
        }
        // After the server's begin-of-text token, the tokens tile the text as the server tokenizes it.
        let at = 0;
        for (const t of pipelined.tokens) {
          assert.strictEqual(t.start, at);
          at += t.length;
          assert.ok(t.rank !== undefined && t.rank >= 1, 'every token has its rank');
          assert.deepStrictEqual(t.alternatives, [], 'no alternatives asked');
        }
        assert.strictEqual(at, doc.length);
        const sequential = await run(1);
        // The same tokens (their numbers depend on each request's context, which what was learnt of the tokenizer sets).
        assert.deepStrictEqual(
          pipelined.tokens.map((t) => [t.start, t.length, t.text]),
          sequential.tokens.map((t) => [t.start, t.length, t.text]),
        );
      }),
    ));

  it("the status bar's selection is scored in its document, as the heat-map scores it: the tokens it touches, given the text before it", () =>
    withServer('vllm', async (server) =>
      withModel(server, async (model) => {
        const doc = 'A short line first.\n\nThe mouse ate the cheese, and the café stayed open.\n';
        const read = (a: number, b: number) => doc.slice(a, b);
        // From inside "mouse" to inside "cheese": the tokens it cuts count whole.
        const from = doc.indexOf('ouse');
        const to = doc.indexOf('eese');
        const whole = await model.scoreText(doc, { topK: 0, atStart: true });
        const touched = whole.filter((t) => t.start < to && t.start + t.length > from);
        assert.ok(touched[0].start < from && touched[touched.length - 1].start + touched[touched.length - 1].length > to, 'cut tokens at both ends');
        const scored = await scoreServerSelection(model, read, from, to, { maxContextChars: 4000, contextTokensHint: 2048, textEnd: doc.length });
        assert.strictEqual(scored.totals.tokens, touched.length);
        assert.ok(Math.abs(scored.totals.logProbNats - touched.reduce((sum, t) => sum + t.logProb, 0)) < 1e-9, "the whole text's log-probs of those tokens");
        assert.deepStrictEqual([scored.start, scored.end], [touched[0].start, touched[touched.length - 1].start + touched[touched.length - 1].length]);
        // The heat-map of that selection colours the same tokens (it coloured " ch" of " cheese," as a token of its own).
        const painted: TokenScore[] = [];
        await scoreInServerChunks(model, read, from, to, { ...heatmapServerOptions(2048, 4000, 10), textEnd: doc.length, onChunk: (t) => painted.push(...t) });
        assert.deepStrictEqual(
          painted.map((t) => [t.start, t.length, t.logProb]),
          touched.map((t) => [t.start, t.length, t.logProb]),
        );
        // Where a scope's end stops reading: the end of the word or whitespace run it is inside, else at once.
        const reach = (end: number) => tokensReach(read, end, doc.length);
        assert.strictEqual(doc.slice(to, reach(to)), 'eese,');
        assert.strictEqual(reach(doc.indexOf(' cheese')), doc.indexOf(' cheese'), "a word's end: the next token starts there");
        assert.strictEqual(doc.slice(doc.indexOf('cheese'), reach(doc.indexOf('cheese'))), 'cheese,', 'after a space: " cheese," starts before');
        assert.strictEqual(
          doc.slice(doc.indexOf('\n\n') + 1, reach(doc.indexOf('\n\n') + 1)),
          '\nThe',
          'inside a run of line breaks: to the end of the word after it',
        );
        assert.strictEqual(reach(doc.length), doc.length);
        // A selection that ends inside a run of spaces or line breaks: the run's token is the document's (hostile25 H2, H3).
        for (const [text, end] of [
          ['The bread; and wine!   Then three spaces.\n', 'wine!  '],
          ['Spaces end here.\n\n\n\nAfter four breaks.\n', 'here.\n\n'],
        ] as const) {
          const wholeText = await model.scoreText(text, { topK: 0, atStart: true });
          const [a, b] = [text.indexOf(end), text.indexOf(end) + end.length];
          const expected = wholeText.filter((t) => t.start < b && t.start + t.length > a);
          const got = await scoreServerSelection(model, (x, y) => text.slice(x, y), a, b, {
            maxContextChars: 4000,
            contextTokensHint: 2048,
            textEnd: text.length,
          });
          assert.deepStrictEqual(
            [got.totals.tokens, got.totals.logProbNats, got.end],
            [expected.length, expected.reduce((sum, t) => sum + t.logProb, 0), expected[expected.length - 1].start + expected[expected.length - 1].length],
            JSON.stringify(end),
          );
        }
        // Scored as a text of its own (the number before): other tokens, other numbers.
        const alone = await model.scoreText(doc.slice(from, to), { topK: 0, atStart: true });
        assert.notStrictEqual(
          alone.reduce((sum, t) => sum + t.logProb, 0),
          scored.totals.logProbNats,
        );
      }),
    ));

  it('a context cut short by the characters per token of another text (emoji) is asked again with what the window allows (hostile25 H4)', () =>
    withServer('vllm', async (server) =>
      withModel(server, async (model) => {
        // Learnt from an emoji text, one token a byte: half a character a token.
        const emoji = '👍🏽'.repeat(20);
        await scoreRange(model, (a, b) => emoji.slice(a, b), 0, emoji.length, { topK: 0, maxContextChars: 4000, contextTokensHint: 64 });
        const doc = 'Line one is here.\nLine two is here.\nLine three is here.\nLast line ends here.';
        const from = doc.indexOf('Last');
        const range = await scoreRange(model, (a, b) => doc.slice(a, b), from, doc.length, { topK: 0, maxContextChars: 4000, contextTokensHint: 64 });
        assert.ok(range.fromDocumentStart, 'the whole text before it fits the window: it is all given');
        // The same through the status bar's path, which scores in pieces (hostile26: its pieces' context
        // was capped at half the window, so the document's last character got another number).
        for (const end of [doc.length - 1, doc.indexOf('three')]) {
          await scoreRange(model, (a, b) => emoji.slice(a, b), 0, emoji.length, { topK: 0, maxContextChars: 4000, contextTokensHint: 64 });
          const got = await scoreServerSelection(model, (a, b) => doc.slice(a, b), end, end + 1, {
            maxContextChars: 4000,
            contextTokensHint: 64,
            textEnd: doc.length,
          });
          const wanted = (await model.scoreText(doc, { topK: 0, atStart: true })).filter((t) => t.start <= end && t.start + t.length > end);
          assert.deepStrictEqual([got.totals.tokens, got.totals.logProbNats], [wanted.length, wanted.reduce((sum, t) => sum + t.logProb, 0)], `at ${end}`);
        }
        const whole = (await model.scoreText(doc, { topK: 0, atStart: true })).filter((t) => t.start + t.length > from);
        assert.deepStrictEqual(
          range.tokens.map((t) => [t.start, t.logProb]),
          whole.map((t) => [t.start, t.logProb]),
        );
      }),
    ));

  it('without prompt_logprobs the heat-map asks for the first colour\'s k alternatives; a token listed beside k better ones (vLLM\'s echo) is "rank > k"', () =>
    withServer('vllm', async (server) =>
      withModel(server, async (model) => {
        server.ownTokenInTop = true;
        server.fault = {
          kind: 'status',
          status: 400,
          body: JSON.stringify({ error: { message: 'Unrecognized request argument supplied: prompt_logprobs', type: 'invalid_request_error' } }),
          times: 1,
        };
        const before = server.requests.length;
        const tokens = await model.scoreText(TEXT, { topK: 0, rankTopK: 10, atStart: true });
        const last = server.requests[server.requests.length - 1].body as Record<string, unknown>;
        assert.ok(server.requests.length - before === 2 && last.logprobs === 10 && last.prompt_logprobs === undefined, JSON.stringify(last));
        const toks = toyTokens(TEXT);
        let beyond = 0;
        tokens.forEach((t, i) => {
          const rank = toyRank(toks[i], i + 1);
          if (rank <= 10) assert.strictEqual(t.rank, rank);
          else {
            beyond++;
            assert.deepStrictEqual([t.rank, t.rankAbove], [undefined, 10], `${t.text}: rank ${rank}`);
          }
          assert.deepStrictEqual(t.alternatives, []);
        });
        assert.ok(beyond > 0, 'some tokens lie beyond the top 10');
        // The hover's top 5: the token itself is not among them when it lies beyond (not "the top 6").
        const hovered = await model.scoreText(TEXT, { topK: 5, atStart: true });
        hovered.forEach((t, i) => {
          assert.ok(t.alternatives!.length <= 5, `${t.text}: ${t.alternatives!.length} alternatives`);
          if (toyRank(toks[i], i + 1) > 5) assert.ok(!t.alternatives!.some((a) => a.id === t.id) && t.rankAbove === 5, t.text);
        });
      }),
    ));

  it('a server without prompt_logprobs (plain OpenAI echo): ranks from the top k, "rank > k" beyond', () =>
    withServer('vllm', async (server) => {
      await withModel(server, async (model) => {
        server.fault = {
          kind: 'status',
          status: 400,
          body: JSON.stringify({ error: { message: 'Unrecognized request argument supplied: prompt_logprobs', type: 'invalid_request_error' } }),
          times: 1,
        };
        const { tokens } = await scoreText(model, TEXT, { details: true, topK: 5 });
        const toks = toyTokens(TEXT);
        tokens.forEach((t, i) => {
          const rank = toyRank(toks[i], i + 1);
          if (rank <= 5) assert.strictEqual(t.rank, rank);
          else assert.deepStrictEqual([t.rank, t.rankAbove], [undefined, 5]);
        });
      });
    }));

  it('a server with a lower max_logprobs: its cap is learnt from its 400 and never asked past again; the context is not cut for it', () =>
    withServer('vllm', async (server) =>
      withModel(server, async (model) => {
        server.maxLogprobs = 5;
        const read = (a: number, b: number) => TEXT.slice(a, b);
        const lineStart = TEXT.indexOf('and');
        const before = server.requests.length;
        const range = await scoreRange(model, read, lineStart, TEXT.length, { topK: 10, maxContextChars: 4000, contextTokensHint: 2048 });
        const sent = server.requests.slice(before).map((r) => r.body as Record<string, unknown>);
        assert.deepStrictEqual(
          sent.map((b) => [b.logprobs, b.prompt]),
          [
            [10, TEXT],
            [5, TEXT],
          ],
        );
        assert.strictEqual(model.maxTopK, 5);
        assert.ok(range.tokens.every((t) => t.alternatives!.length <= 5));
        await scoreRange(model, read, lineStart, TEXT.length, { topK: 10, maxContextChars: 4000, contextTokensHint: 2048 });
        assert.strictEqual((server.requests[server.requests.length - 1].body as { prompt: string }).prompt, TEXT, 'the whole context again');
        assert.strictEqual(server.requests.length, before + 3, 'no request refused again');
      }),
    ));

  it('a malformed answer is refused, naming the server and the token, never numbers: log-prob > 0, a missing one mid-text, arrays of other lengths, top k above 1, an impossible rank', () =>
    withServer('vllm', async (server) =>
      withModel(server, async (model) => {
        const cases: [string, (c: { logprobs: Record<string, unknown[]>; prompt_logprobs?: unknown[] }) => void, RegExp][] = [
          ['positive', (c) => (c.logprobs.token_logprobs[2] = 3), /token 2 .* has log-prob 3 > 0/],
          ['null mid-text', (c) => (c.logprobs.token_logprobs[3] = null), /token 3 .* has no log-prob/],
          ['short', (c) => (c.logprobs.token_logprobs.length = 4), /token_logprobs 4/],
          ['top k above 1', (c) => (c.logprobs.top_logprobs[2] = { a: -0.1, b: -0.2, c: -0.3 }), /alternatives of token 2 have probabilities that sum above 1/],
          [
            'rank 0',
            (c) => {
              const entry = c.prompt_logprobs![2] as Record<string, { rank: number }>;
              for (const e of Object.values(entry)) e.rank = 0;
            },
            /has rank 0/,
          ],
        ];
        for (const [name, mangle, message] of cases) {
          server.mangle = mangle;
          await rejects(scoreText(model, TEXT, { details: true, topK: 5 }), new RegExp(`${server.base}: a malformed answer: .*${message.source}`)).catch(
            (e) => {
              throw new Error(`${name}: ${(e as Error).message}`);
            },
          );
        }
        server.mangle = undefined;
        assert.ok((await scoreText(model, TEXT)).summary.bitsPerChar > 0, 'the same model scores again once the answers are well-formed');
      }),
    ));

  it('generates on the server, streamed: temperature, top_p, seed, stop, n and max_tokens sent; per-token log-probs', () =>
    withServer('vllm', async (server) =>
      withModel(server, async (model) => {
        const seen: string[] = [];
        const completions = await generate(
          model,
          'the mouse',
          { maxTokens: 4, temperature: 0.7, topP: 0.9, seed: 7, stopSequences: ['\n\n'], numCompletions: 2, topKPerToken: 3 },
          { onToken: (c, t) => seen.push(`${c}:${t.text}`) },
        );
        const req = server.requests.find((r) => (r.body as { stream?: boolean })?.stream)!.body as Record<string, unknown>;
        assert.deepStrictEqual(
          [req.prompt, req.max_tokens, req.temperature, req.top_p, req.seed, req.stop, req.n, req.stream, req.logprobs],
          ['the mouse', 4, 0.7, 0.9, 7, ['\n\n'], 2, true, 3],
        );
        assert.deepStrictEqual(
          completions.map((c) => c.text),
          [' w0_0 w0_1 w0_2 w0_3', ' w1_0 w1_1 w1_2 w1_3'],
        );
        assert.strictEqual(seen.length, 8);
        const t = completions[0].tokens[1];
        assert.ok(Math.abs(t.logProb - toyLogProb({ text: ' w0_1', bytes: [...Buffer.from(' w0_1')] }, 1)) < 1e-12);
        assert.strictEqual(t.alternatives!.length, 3);
        assert.strictEqual(completions[0].finishReason, 'length');
        await rejects(generate(model, 'x', { maxTokens: 2, temperature: Infinity }), /temperature ∞ .* needs a local model/);
      }),
    ));

  it("the playground's branch (continue with an alternative) through the engine: the server continues the prompt's text and the chosen tokens' text", () =>
    withServer('vllm', async (server) =>
      withModel(server, async (model) => {
        const engine = new EngineServer(
          async () => ({ model }),
          (r) => setImmediate(() => conn.receive(r as EngineResponse)),
        );
        const conn = new EngineConnection((req) => void engine.handle(req));
        await conn.request({ op: 'load', spec: TEST_LOAD_SPEC });
        const options = { maxTokens: 4, temperature: 0.7, seed: 0, topKPerToken: 3 };
        const [c] = (await conn.request({ op: 'generate', prompt: 'the mouse', options })).completions;
        const alternative = c.tokens[1].alternatives!.find((a) => a.id !== c.tokens[1].id)!;
        const continuation = [c.tokens[0].id, alternative.id];
        const [b] = (await conn.request({ op: 'generate', prompt: 'the mouse', continuation, options })).completions;
        const sent = server.requests.filter((r) => (r.body as { stream?: boolean })?.stream).map((r) => (r.body as { prompt: string }).prompt);
        assert.deepStrictEqual(sent, ['the mouse', `the mouse${c.tokens[0].text}${alternative.text}`]);
        assert.strictEqual(b.tokens.length, 4, `the branch's own tokens: ${JSON.stringify(b.tokens.map((t) => t.text))}`);
        assert.strictEqual(b.finishReason, 'length');
      }),
    ));

  it('a stop sequence or a blank line ends a completion where the text has it, and the rest of the stream is not read', () =>
    withServer('vllm', async (server) =>
      withModel(server, async (model) => {
        const [c] = await generate(model, 'x', { maxTokens: 6, temperature: 0, stopSequences: [' w0_2'] });
        assert.strictEqual(c.text, ' w0_0 w0_1');
        assert.strictEqual(c.finishReason, 'stop');
        assert.strictEqual(c.tokens.length, 2);
        assert.strictEqual(c.stopKind, 'stop sequence');
      }),
    ));

  it('errors name the endpoint and the fix: unknown model (404), max_logprobs (400), bad key (401), malformed JSON', () =>
    withServer('vllm', async (server) => {
      await rejects(openRemote(`${server.base}#nope`), new RegExp(`${server.base}: the server has no model "nope"; it serves toy-model`));
      const model = await openRemote(`${server.base}#toy-model`);
      try {
        // The model asks for at most vLLM's default cap (20); a server with a lower cap answers 400.
        const endpoint = endpointFor(model.ref);
        await rejects(
          openaiDialect.score!(endpoint, 'toy-model', TEXT, 50, 50),
          /refused the request \(400: Requested sample logprobs of 50, which is greater than max allowed: 20\); it is a limit of the server.*--max-logprobs/,
        );
        endpoint.close();
        server.fault = {
          kind: 'status',
          status: 401,
          body: JSON.stringify({ error: { message: 'Invalid API key', type: 'invalid_request_error' } }),
          times: 1,
        };
        await rejects(scoreText(model, TEXT), /refused the API key \(401: Invalid API key\).*Add remote model.*LMP_API_KEY/);
        server.fault = { kind: 'malformed-json' };
        await rejects(scoreText(model, TEXT), new RegExp(`${server.base}: the answer to v1/completions is not JSON`));
        server.fault = { kind: 'none' };
        assert.strictEqual((await scoreText(model, 'hello world')).tokens.length, 2, 'the same model works again after the faults');
      } finally {
        model.dispose();
      }
    }));

  it('retries a 429 after the Retry-After it asks for, and honours an HTTP date too', async () => {
    assert.strictEqual(retryDelay('2', 0), 2000);
    assert.strictEqual(retryDelay(new Date(10_000).toUTCString(), 0, 7_000), 3000);
    assert.strictEqual(retryDelay(null, 3), 4000);
    await withServer('vllm', async (server) =>
      withModel(server, async (model) => {
        server.fault = { kind: 'status', status: 429, body: JSON.stringify({ error: { message: 'rate limited' } }), headers: { 'retry-after': '1' }, times: 1 };
        const before = server.requests.length;
        await scoreText(model, 'hello world');
        const [first, second] = server.requests.slice(before);
        assert.ok(second, 'the request was sent again');
        assert.ok(second.at - first.at >= 950, `retried after ${second.at - first.at} ms, Retry-After said 1 s`);
        server.fault = { kind: 'status', status: 503, body: '{"error": "overloaded"}', headers: { 'retry-after': '120' }, times: 1 };
        await rejects(scoreText(model, 'hello world'), /busy \(503\) and asks to wait 120 s/);
      }),
    );
  });

  it('a server killed mid-stream: an error that says so, no half completion', () =>
    withServer('vllm', async (server) =>
      withModel(server, async (model) => {
        server.fault = { kind: 'kill-mid-stream', after: 2 };
        await rejects(
          generate(model, 'x', { maxTokens: 8, temperature: 1 }),
          new RegExp(`${server.base}: the (connection dropped in the middle of the answer|stream of v1/completions was cut off)`),
        );
      }),
    ));

  it('a silent server while opening: both dialect probes out at once, and its silence ends the opening (no route asked after it)', () =>
    withServer('vllm', async (server) => {
      server.fault = { kind: 'silent' };
      await rejects(openRemote(`${server.base}#toy-model`, { connectTimeoutMs: 300 }), /no answer within 0.3 s/);
      const asked = server.requests.map((r) => r.url).sort();
      assert.deepStrictEqual(asked, ['/api/version', '/props'], 'the probes, and not /v1/models after them');
      assert.strictEqual(server.maxInFlight, 2, 'the two probes were out together');
      server.fault = { kind: 'none' };
    }));

  it('a silent server: cancel aborts the HTTP request at once; a read timeout names the silence', () =>
    withServer('vllm', async (server) => {
      await withModel(server, async (model) => {
        server.fault = { kind: 'silent' };
        const signal = { cancelled: false };
        const p = scoreText(model, 'hello world', { signal });
        await waitFor(() => server.inFlight === 1);
        const t0 = Date.now();
        signal.cancelled = true;
        await assert.rejects(p, CancelledError);
        assert.ok(Date.now() - t0 < 1000);
        await waitFor(() => server.aborted === 1);
        server.fault = { kind: 'none' };
      });
      const model = await openRemote(`${server.base}#toy-model`, { readTimeoutMs: 300 });
      try {
        server.fault = { kind: 'headers-then-silent' };
        await rejects(generate(model, 'x', { maxTokens: 2, temperature: 1 }), /went silent for 0.3 s/);
      } finally {
        model.dispose();
      }
    }));

  it('caps requests in flight per endpoint (a burst waits in a queue), shares identical ones, and sends nothing for a cancelled one', () =>
    withServer('vllm', async (server) =>
      withModel(server, async (model) => {
        server.fault = { kind: 'slow', ms: 100 };
        const before = server.requests.length;
        const texts = Array.from({ length: 10 }, (_, i) => `text number ${i}`);
        const cancelled = { cancelled: false };
        const all = Promise.all([...texts, texts[0]].map((t) => scoreText(model, t)));
        const dropped = scoreText(model, 'never sent', { signal: cancelled });
        cancelled.cancelled = true;
        await all;
        await assert.rejects(dropped, CancelledError);
        assert.ok(server.maxInFlight <= 4, `at most 4 in flight, saw ${server.maxInFlight}`);
        const sent = server.requests.slice(before).map((r) => (r.body as { prompt: string }).prompt);
        assert.strictEqual(sent.length, 10, 'the duplicate shared its request, the cancelled one was never sent');
        assert.ok(!sent.includes('never sent'));
      }),
    ));

  it('only talks to its endpoint, and not at all once closed', () =>
    withServer('vllm', async (server) => {
      const endpoint = new Endpoint(`http://127.0.0.1:${server.port}/`, server.base);
      await rejects(endpoint.json('http://example.com/v1/models', undefined), /refused a request to http:\/\/example.com/);
      endpoint.close();
      const before = server.requests.length;
      await rejects(endpoint.json('v1/models', undefined), /closed; no request is sent/);
      assert.strictEqual(server.requests.length, before);
    }));

  it('connection refused names the endpoint and the fix', async () => {
    const server = await new ReplayServer('vllm').start();
    const base = server.base;
    await server.close();
    await rejects(openRemote(`${base}#toy-model`), new RegExp(`${base}: connection refused: no server listens at 127.0.0.1:\\d+; start it, or fix the URL`));
  });
});

describe('remote backend: llama.cpp server and Ollama (generation only)', () => {
  for (const flavour of ['llama.cpp', 'ollama'] as const) {
    it(`${flavour}: detected; scoring refused with why; generation streamed with per-token log-probs and bytes`, () =>
      withServer(flavour, async (server) => {
        assert.strictEqual(await detectDialect(endpointFor(parseRemoteRef(`${server.base}#x`)!)), flavour);
        await withModel(server, async (model) => {
          await rejects(
            scoreText(model, TEXT),
            /gives log-probabilities of generated tokens only.*cannot score a text.*need a local model or a vLLM\/SGLang server/,
          );
          const completions = await generate(model, 'the mouse', { maxTokens: 3, temperature: 0.5, seed: 4, numCompletions: 2, topKPerToken: 2 });
          assert.deepStrictEqual(
            completions.map((c) => c.text),
            [' w4_0 w4_1 w4_2', ' w5_0 w5_1 w5_2'],
            'n completions: n requests, seeds seed, seed + 1',
          );
          const t = completions[1].tokens[2];
          assert.ok(Math.abs(t.logProb - toyLogProb({ text: ' w5_2', bytes: [...Buffer.from(' w5_2')] }, 2)) < 1e-12);
          assert.deepStrictEqual(t.bytes, [...Buffer.from(' w5_2')]);
          assert.strictEqual(t.alternatives!.length, 2);
          server.fault = { kind: 'kill-mid-stream', after: 1 };
          await rejects(generate(model, 'x', { maxTokens: 3, temperature: 1 }), /connection dropped|cut off/);
        });
        await rejects(openRemote(`${server.base}#missing`), /has no model "missing"/);
      }));
  }

  it("Ollama's error body ({error: string}) is read", () =>
    withServer('ollama', async (server) =>
      withModel(server, async (model) => {
        server.fault = { kind: 'status', status: 404, body: JSON.stringify({ error: "model 'toy-model' not found" }), times: 1 };
        await rejects(generate(model, 'x', { maxTokens: 2, temperature: 1 }), /has no model "toy-model" \(404: model 'toy-model' not found\)/);
      }),
    ));
});

describe('lmp with a remote model', () => {
  it('lmp score --model URL scores on the server and sends LMP_API_KEY as a bearer token', () =>
    withServer('vllm', async (server) => {
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-remote-')), 'text.txt');
      fs.writeFileSync(file, TEXT);
      try {
        const { code, stdout, stderr } = await run(['score', '--model', `${server.base}#toy-model`, '--json', file], { LMP_API_KEY: 'sk-test' });
        assert.strictEqual(code, 0, stderr);
        const result = JSON.parse(stdout);
        const toks = toyTokens(TEXT);
        const total = toks.reduce((s, t, i) => s + toyLogProb(t, i + 1), 0);
        assert.strictEqual(result.model, 'toy-model');
        assert.strictEqual(result.tokens, toks.length);
        assert.ok(Math.abs(result.logprob_nats - total) < 1e-9);
        assert.ok(server.requests.every((r) => r.headers.authorization === 'Bearer sk-test'));
        const bad = await run(['score', '--model', `${server.base}#other`, file], {});
        assert.notStrictEqual(bad.code, 0);
        assert.match(bad.stderr, /has no model "other"; it serves toy-model/);
        // In a terminal the fix is lmp's own (drive #17d), not the editor's LM: Select Model.
        assert.match(bad.stderr, /curl http:\/\/127\.0\.0\.1:\d+\/v1\/models lists them; name one in --model URL#MODEL/);
        const free = await new Promise<number>((resolve) => {
          const probe = net.createServer().listen(0, '127.0.0.1', () => {
            const port = (probe.address() as net.AddressInfo).port;
            probe.close(() => resolve(port));
          });
        });
        const refused = await run(['score', '--model', `http://127.0.0.1:${free}/v1#toy-model`, file], {});
        assert.match(refused.stderr, /connection refused: .*fix the URL \(lmp --model URL#MODEL\)/);
        assert.doesNotMatch(bad.stderr + refused.stderr, /LM: Select Model/);
      } finally {
        fs.rmSync(path.dirname(file), { recursive: true, force: true });
      }
    }));

  it('a model loaded by reference is the remote one', () =>
    withServer('vllm', async (server) => {
      const model = await loadModel(`${server.base}#toy-model`);
      try {
        assert.ok(model.server);
        assert.throws(() => model.tokenizer.encode('x', true), LmError);
        await rejects(model.nextLogProbs([1]), /needs a local model/);
      } finally {
        model.dispose?.();
      }
    }));
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Runs the built CLI without blocking this process (the replay server answers it). */
function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(REPO, 'dist', 'cli.js'), ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
