/**
 * The hover of a model on a server gives the numbers of the same model's local hover, on a text
 * longer than the model's window: `lmp serve --model gpt-classics` tokenizes the hover's window,
 * and each position is sent as token ids laid out as the local model reads them.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { textWindowAt } from '../../src/core/contextWindow';
import type { LanguageModel } from '../../src/core/model';
import { hoverInWindow } from '../../src/editor/hoverFacts';
import { serverHoverInWindow } from '../../src/editor/serverScoring';
import { openRemote } from '../../src/node/backends/remoteBackend';
import { loadModel } from '../../src/node/modelLoader';
import type { RemoteLanguageModel } from '../../src/node/remote/remoteModel';
import { startServe, type RunningServe } from '../../scripts/serveProcess';
import { CORPUS, REPO } from './helpers';

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

  it('p, rank, alternatives, word parts and the context claimed agree to 1e-4 at late positions, in and past the first 4,000 characters', async () => {
    assert.ok(remote.info.contextLength < 200, `a window of ${remote.info.contextLength} tokens: the text is many windows long`);
    const read = (a: number, b: number) => doc.slice(a, b);
    // Words after the model's first window: the window from the document's start (slid windows), and past it (the W − 1 tokens before).
    const offsets = [1500, 2600, 3900, 5200, 7000, 8800].map((at) => at + doc.slice(at).search(/[A-Za-z]{6,}/) + 2);
    for (const offset of offsets) {
      const lineStart = doc.lastIndexOf('\n', offset - 1) + 1;
      const lineEnd = doc.indexOf('\n', offset) < 0 ? doc.length : doc.indexOf('\n', offset);
      const line = { text: doc.slice(lineStart, lineEnd), start: lineStart };
      const want = await hoverInWindow(local, textWindowAt(read, offset, CONTEXT_CHARS, local.tokenizer, lineEnd), offset, line, 5);
      const got = await serverHoverInWindow(remote, 'gpt-classics', textWindowAt(read, offset, CONTEXT_CHARS, remote.tokenizer, lineEnd), offset, line, {
        topK: 5,
        contextLength: remote.info.contextLength,
      });
      const at = `at ${offset} (${JSON.stringify(doc.slice(offset - 10, offset + 10))})`;
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
  });
});
