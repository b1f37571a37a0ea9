/**
 * The hover of a model on a server gives the numbers of the same model's local hover, on a text
 * longer than the model's window: `lmp serve --model gpt-classics` tokenizes the hover's window,
 * and each position is sent as token ids laid out as the local model reads them. An n-gram model
 * behind lmp serve flags its unknown words and reads its last n − 1 tokens, as locally.
 */
import * as assert from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { textWindowAt, windowFrom } from '../../src/core/contextWindow';
import { DocumentTokenIndex, serverEncoder, tokenizerEncoder } from '../../src/core/documentTokenIndex';
import type { LanguageModel } from '../../src/core/model';
import { hoverInWindow, placedWindow } from '../../src/editor/hoverFacts';
import { scoreText } from '../../src/core/scoring';
import { serverHoverAt, serverHoverInWindow } from '../../src/editor/serverScoring';
import { openRemote } from '../../src/node/backends/remoteBackend';
import { loadModel } from '../../src/node/modelLoader';
import type { RemoteLanguageModel } from '../../src/node/remote/remoteModel';
import { startServe, type RunningServe } from '../../scripts/serveProcess';
import { CORPUS, REPO } from './helpers';
import { ReplayServer } from './remoteReplay';

const CLI = path.join(REPO, 'dist', 'cli.js');
/** The hover's default window (lmPlayground.contextChars). */
const CONTEXT_CHARS = 4000;

describe('the remote hover equals the local hover of the same model (lmp serve, gpt-classics)', function () {
  this.timeout(180_000);
  let serve: RunningServe;
  let local: LanguageModel;
  let remote: RemoteLanguageModel;
  let doc: string;
  before(async () => {
    const valid = fs.readdirSync(path.join(CORPUS, 'valid')).sort()[0];
    doc = fs.readFileSync(path.join(CORPUS, 'valid', valid), 'utf8').slice(0, 9000);
    serve = await startServe(CLI, 'gpt-classics');
    local = await loadModel('gpt-classics');
    remote = await openRemote(`${serve.baseURL}#gpt-classics`);
  });
  after(async () => {
    remote?.dispose();
    local?.dispose?.();
    await serve?.stop();
  });

  it("p, rank, alternatives, word parts and the context claimed agree to 1e-4 at late positions, in and past the first 4,000 characters, also placed among the document's tokens", async () => {
    assert.ok(remote.info.contextLength < 200, `a window of ${remote.info.contextLength} tokens: the text is many windows long`);
    const read = (a: number, b: number) => doc.slice(a, b);
    // Words after the model's first window: the window from the document's start (slid windows), and past it (the W − 1 tokens before).
    const offsets = [1500, 2600, 3900, 5200, 7000, 8800].map((at) => at + doc.slice(at).search(/[A-Za-z]{6,}/) + 2);
    // Far into the document each is also placed among the document's tokens (the local tokenizer's and the server's), as the editor places them.
    const localIndex = new DocumentTokenIndex(tokenizerEncoder(local.tokenizer));
    const serverIndex = new DocumentTokenIndex(serverEncoder(remote));
    let placed = 0;
    for (const [offset, aligned] of offsets.flatMap((o) => [[o, false] as const, [o, true] as const])) {
      const lineStart = doc.lastIndexOf('\n', offset - 1) + 1;
      const lineEnd = doc.indexOf('\n', offset) < 0 ? doc.length : doc.indexOf('\n', offset);
      const line = { text: doc.slice(lineStart, lineEnd), start: lineStart };
      let localWindow = textWindowAt(read, offset, CONTEXT_CHARS, local.tokenizer, lineEnd);
      let serverWindow = textWindowAt(read, offset, CONTEXT_CHARS, remote.tokenizer, lineEnd);
      let localTokens = local.tokenizer.encode(localWindow.text, localWindow.atStart, localWindow.startOffset);
      let localBefore: number | undefined;
      let serverBefore: number | undefined;
      if (aligned && localWindow.startOffset > 0) {
        const start = localWindow.startOffset;
        const serverTokens = await serverEncoder(remote)(serverWindow.text, start);
        const [l, s] = [await localIndex.place(read, start, localTokens), await serverIndex.place(read, start, serverTokens)];
        assert.ok(
          l && s && s.before === l.before && s.skip === l.skip,
          `the window at ${start}: ${JSON.stringify(l)} local, ${JSON.stringify(s)} on the server`,
        );
        // As the editor reads them (tokenHover.ts): the windows from where their tokens are the document's.
        ({ window: localWindow, tokens: localTokens, tokensBefore: localBefore } = placedWindow(localWindow, localTokens, l));
        serverWindow = windowFrom(serverWindow, (s.head[0] ?? serverTokens[s.skip]).start);
        serverBefore = s.before;
        placed++;
      }
      const want = await hoverInWindow(local, localWindow, offset, line, 5, undefined, localBefore, localTokens);
      const got = await serverHoverInWindow(remote, 'gpt-classics', serverWindow, offset, line, {
        topK: 5,
        contextLength: remote.info.contextLength,
        tokensBefore: serverBefore,
      });
      const at = `at ${offset}${aligned ? ', placed' : ''} (${JSON.stringify(doc.slice(offset - 10, offset + 10))})`;
      assert.ok(want && got, `${at}: local ${JSON.stringify(want?.text)}, remote ${JSON.stringify(got?.text)}`);
      assert.strictEqual(got.text, want.text, at);
      assert.deepStrictEqual([got.start, got.length], [want.start, want.length], at);
      assert.ok(Math.abs(got.logProb - want.logProb) < 1e-4, `${at}: log p ${got.logProb} remote, ${want.logProb} local`);
      assert.strictEqual(got.rank, want.rank, at);
      assert.deepStrictEqual(got.context, want.context, at);
      assert.deepStrictEqual(
        got.alternatives.map((a) => a.text),
        want.alternatives.map((a) => a.text),
        at,
      );
      got.alternatives.forEach((a, i) => assert.ok(Math.abs(a.logProb - want.alternatives[i].logProb) < 1e-4, `${at}: alternative ${a.text}`));
      assert.deepStrictEqual(
        got.word?.parts.map((p) => p.text),
        want.word?.parts.map((p) => p.text),
        at,
      );
      got.word?.parts.forEach((p, i) => assert.ok(Math.abs(p.logProb - want.word!.parts[i].logProb) < 1e-4, `${at}: word part ${p.text}`));
    }
    assert.ok(placed >= 3, `${placed} windows placed far into the document`);
  });
});

describe('an n-gram model behind lmp serve: unknown words and the context it reads', function () {
  this.timeout(180_000);
  let serve: RunningServe;
  let local: LanguageModel;
  let remote: RemoteLanguageModel;
  const text = 'Dear Mrs Quaxleworth,\nThe fishermen of Zyntaria stay at home and mend their nets while the storm blows over the harbour.\n';
  before(async () => {
    serve = await startServe(CLI, 'ngram-classics');
    local = await loadModel('ngram-classics');
    remote = await openRemote(`${serve.baseURL}#ngram-classics`);
  });
  after(async () => {
    remote?.dispose();
    local?.dispose?.();
    await serve?.stop();
  });

  it('counts and flags the unknown words as the local model does (lmp serve says which), and the hover claims the n − 1 tokens it reads', async () => {
    const want = await scoreText(local, text);
    const got = await scoreText(remote, text);
    assert.ok(want.summary.oov >= 2, `the text has unknown words: ${want.summary.oov}`);
    assert.strictEqual(got.summary.oov, want.summary.oov);
    assert.ok(!got.summary.oovUnknown);
    assert.deepStrictEqual(
      got.tokens.filter((t) => t.oov).map((t) => t.start),
      want.tokens.filter((t) => t.oov).map((t) => t.start),
    );
    const offset = text.indexOf('Zyntaria') + 2;
    const lineStart = text.lastIndexOf('\n', offset) + 1;
    const lineEnd = text.indexOf('\n', offset);
    const line = { text: text.slice(lineStart, lineEnd), start: lineStart };
    const read = (a: number, b: number) => text.slice(a, b);
    const localHover = await hoverInWindow(local, textWindowAt(read, offset, CONTEXT_CHARS, local.tokenizer, lineEnd), offset, line, 5);
    const remoteHover = await serverHoverAt(remote, 'ngram-classics', read, offset, { ...line, end: lineEnd }, 0, {
      topK: 5,
      contextTokensHint: remote.info.contextLength,
    });
    assert.ok(localHover?.oov && remoteHover?.oov, `flagged as unknown: local ${localHover?.oov}, remote ${remoteHover?.oov}`);
    assert.deepStrictEqual(remoteHover.context, localHover.context);
    assert.ok(Math.abs(remoteHover.logProb - localHover.logProb) < 1e-4);
    // The editor's first path, through the server's tokenizer: an unknown word's id decodes to no
    // text, so its tokens cannot be placed, and the hover is the text path's above.
    const window = textWindowAt(read, offset, CONTEXT_CHARS, remote.tokenizer, lineEnd);
    const exact = await serverHoverInWindow(remote, 'ngram-classics', window, offset, line, { topK: 5, contextLength: remote.info.contextLength });
    assert.strictEqual(exact, undefined);
    // A known word through it: the context read is the n − 1 tokens, as locally.
    const known = text.indexOf('harbour') + 2;
    const knownLocal = await hoverInWindow(local, textWindowAt(read, known, CONTEXT_CHARS, local.tokenizer, lineEnd), known, line, 5);
    const knownRemote = await serverHoverInWindow(remote, 'ngram-classics', textWindowAt(read, known, CONTEXT_CHARS, remote.tokenizer, lineEnd), known, line, {
      topK: 5,
      contextLength: remote.info.contextLength,
    });
    assert.ok(knownLocal && knownRemote && !knownRemote.oov);
    assert.deepStrictEqual(knownRemote.context, knownLocal.context);
    assert.ok(Math.abs(knownRemote.logProb - knownLocal.logProb) < 1e-4, `${knownRemote.logProb} vs ${knownLocal.logProb}`);
  });

  it('a server that does not say which tokens are unknown words: their number is unknown, not 0 (Compare Models, lmp score --json)', async () => {
    const replay = await new ReplayServer('vllm').start();
    const model = await openRemote(`${replay.base}#toy-model`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-oov-'));
    try {
      const { summary } = await scoreText(model, 'The mouse ate the cheese.');
      assert.strictEqual(summary.oovUnknown, true);
      const file = path.join(dir, 't.txt');
      fs.writeFileSync(file, 'The mouse ate the cheese.');
      const r = await runCli(['score', '--model', `${replay.base}#toy-model`, '--json', file]);
      assert.strictEqual(r.code, 0, r.stderr);
      assert.strictEqual(JSON.parse(r.stdout).oov, null);
      const viaServe = await runCli(['score', '--model', `${serve.baseURL}#ngram-classics`, '--json', file]);
      assert.strictEqual(JSON.parse(viaServe.stdout).oov, 0, viaServe.stderr);
    } finally {
      model.dispose();
      await replay.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Runs the built CLI without blocking this process (the servers of the test answer it). */
function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
