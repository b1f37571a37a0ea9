/** Workspace training of a file read in chunks counts what training on the whole decoded file counts. */
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeNgramBinary } from '../../src/core/ngram/binaryFormat';
import { DEFAULT_FALLBACK_DISCOUNTS, KneserNeyTrainer } from '../../src/core/ngram/kneserNey';
import { EditorTextFeed, addTextToTrainer } from '../../src/core/ngram/textTraining';
import { editorPieces } from '../../src/core/tokenizers/pretokenizers';
import { splitHeldOut } from '../../src/editor/heldOut';
import { NgramTrainingJob } from '../../src/node/trainingHost';
import { trainOnFile } from '../../src/node/trainingFile';

const trainer = () => new KneserNeyTrainer({ order: 3, discountFallback: DEFAULT_FALLBACK_DISCOUNTS, keepCounts: true });
const modelBytes = (t: KneserNeyTrainer) => writeNgramBinary(t.build().model, { name: 'm', tokenizer: 'editor' });

/** Accents, an emoji, CRLF and CR line breaks, tabs, runs of spaces, an invalid byte: what chunk edges can split. */
function awkwardBytes(): Uint8Array {
  const lines: string[] = [];
  for (let i = 0; i < 60; i++) {
    lines.push(`Línea ${i}: café   naïve 🙂 “quoted” — end.\r\n`, `\tword's ${i}   \n`, i % 7 === 0 ? 'old mac\r' : '', i % 5 === 0 ? '\n' : '');
  }
  const text = new TextEncoder().encode('\uFEFF' + lines.join(''));
  const out = new Uint8Array(text.length + 1);
  out.set(text.subarray(0, 300));
  out[300] = 0xff; // not UTF-8: U+FFFD in both readings
  out.set(text.subarray(300), 301);
  return out;
}

describe('workspace training reads a file in chunks (trainingFile)', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-trainfile-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, bytes: Uint8Array) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, bytes);
    return file;
  };

  for (const chunkBytes of [1, 5, 64, 1000, 1 << 20]) {
    it(`gives the counts and held-out text of the whole file, chunks of ${chunkBytes} bytes`, async () => {
      const bytes = awkwardBytes();
      const file = write(`awkward-${chunkBytes}.txt`, bytes);
      const whole = trainer();
      const split = splitHeldOut(bytes);
      addTextToTrainer(whole, split.train, 'editor');
      const chunked = trainer();
      const seen: number[] = [];
      const result = await trainOnFile(chunked, file, (b) => seen.push(b), chunkBytes);
      assert.strictEqual(result.skipped, false);
      assert.strictEqual(result.heldOut, split.heldOut);
      assert.ok(split.heldOut.length > 0 && split.train.includes('\uFFFD'));
      assert.strictEqual(chunked.tokenCount, whole.tokenCount);
      assert.deepStrictEqual(modelBytes(chunked), modelBytes(whole));
      assert.strictEqual(seen[seen.length - 1], bytes.length);
      assert.ok(seen.every((b, i) => i === 0 || b > seen[i - 1]));
    });
  }

  it('skips a file with a NUL byte without counting any of it, even when the NUL comes late', async () => {
    const bytes = new TextEncoder().encode('the cat sat on the mat\n'.repeat(200) + 'x\0y\n');
    const t = trainer();
    const result = await trainOnFile(t, write('late-nul.txt', bytes), undefined, 64);
    assert.deepStrictEqual(result, { skipped: 'binary', heldOut: '' });
    assert.strictEqual(t.tokenCount, 0);
  });

  it('skips a FIFO and a device without blocking, and reads a growing file up to its size when reached', async () => {
    const fifo = path.join(dir, 'pipe.txt');
    execFileSync('mkfifo', [fifo]);
    const t = trainer();
    assert.deepStrictEqual(await trainOnFile(t, fifo), { skipped: 'not a regular file', heldOut: '' });
    const device = path.join(dir, 'zero.txt');
    fs.symlinkSync('/dev/zero', device);
    assert.deepStrictEqual(await trainOnFile(t, device), { skipped: 'not a regular file', heldOut: '' });
    assert.strictEqual(t.tokenCount, 0);
    // A file appended to while it is read: the bytes written after training reached it are not read.
    const growing = write('growing.txt', new TextEncoder().encode('the cat sat on the mat\n'.repeat(100)));
    const size = fs.statSync(growing).size;
    const whole = trainer();
    addTextToTrainer(whole, splitHeldOut(fs.readFileSync(growing)).train, 'editor');
    const appended = trainer();
    const result = await trainOnFile(appended, growing, () => fs.appendFileSync(growing, 'more words here\n'.repeat(50)), 64);
    assert.ok(fs.statSync(growing).size > size);
    assert.strictEqual(appended.tokenCount, whole.tokenCount);
    assert.ok(!result.heldOut.includes('more words'));
  });

  it('reads a file without line feeds, an empty file and a one-line file as the whole text', async () => {
    for (const text of ['', 'one line without a break', 'a\rb\rc\r'.repeat(50)]) {
      const bytes = new TextEncoder().encode(text);
      const whole = trainer();
      addTextToTrainer(whole, splitHeldOut(bytes).train, 'editor');
      const chunked = trainer();
      const result = await trainOnFile(chunked, write('nolf.txt', bytes), undefined, 7);
      assert.strictEqual(result.heldOut, '');
      assert.strictEqual(chunked.tokenCount, whole.tokenCount);
    }
  });

  it('cuts a line with no line feed before its last piece: the same model, counted as it arrives, not decoded whole at the end', () => {
    // Runs of spaces before words, tabs, lone CRs, apostrophes, punctuation runs, an emoji, NUL, a long word: where pieces meet.
    const unit = "It's   a  test,\tof—pieces…  “quoted”\r 🙂x\0y   ,,,  don’t  supercalifragilisticexpialidocious   \t ";
    const text = unit.repeat(400);
    const whole = trainer();
    addTextToTrainer(whole, text, 'editor');
    const wholeTokens = whole.tokenCount;
    const wholeBytes = modelBytes(whole);
    for (const part of [1, 3, 17, 500, 4096]) {
      const t = trainer();
      const feed = new EditorTextFeed(t, 64);
      t.startSentence();
      let countedEarly = false;
      for (let i = 0; i < text.length; i += part) {
        feed.push(text.slice(i, i + part));
        if (i > text.length / 2) countedEarly ||= t.tokenCount > 0;
      }
      assert.ok(countedEarly, `parts of ${part}: tokens counted before the text ended`);
      feed.end();
      t.endSentence();
      assert.strictEqual(t.tokenCount, wholeTokens, `parts of ${part}`);
      assert.deepStrictEqual(modelBytes(t), wholeBytes, `parts of ${part}`);
    }
    // One giant word: nothing to cut at; it is fed whole at the end, with the same counts.
    const giant = 'x'.repeat(10_000);
    const g = trainer();
    const feed = new EditorTextFeed(g, 64);
    g.startSentence();
    for (let i = 0; i < giant.length; i += 100) feed.push(giant.slice(i, i + 100));
    feed.end();
    g.endSentence();
    const gw = trainer();
    addTextToTrainer(gw, giant, 'editor');
    assert.deepStrictEqual(modelBytes(g), modelBytes(gw));
  });

  it('a long line cut anywhere gives the pieces of the whole line: random texts of the characters where pieces meet', () => {
    const alphabet = ['a', 'Z', "'", '’', ' ', ' ', '\t', '\r', ',', '…', '🙂', '𝒜', 'e\u0301', '\0', '9', '\u00a0', '\u2028'];
    let seed = 7;
    const random = (n: number) => Math.floor((seed = (seed * 1103515245 + 12345) % 2147483648) / (2147483648 / n));
    for (let trial = 0; trial < 500; trial++) {
      let text = '';
      for (let i = 50 + random(300); i > 0; i--) text += alphabet[random(alphabet.length)];
      const fed: string[] = [];
      const feed = new EditorTextFeed({ continueWords: (words: readonly string[]) => fed.push(...words) } as unknown as KneserNeyTrainer, 1 + random(20));
      const part = 1 + random(9);
      for (let i = 0; i < text.length; i += part) feed.push(text.slice(i, i + part));
      feed.end();
      assert.deepStrictEqual(
        fed,
        editorPieces(text.replace(/\0/g, ' ')).map((p) => p.text),
        JSON.stringify(text),
      );
    }
  });

  it('through the worker: a file added by path gives the model and held-out score of its text sent whole', async () => {
    const bytes = awkwardBytes();
    const file = write('worker.txt', bytes);
    const byPath = new NgramTrainingJob(3);
    const progress: number[] = [];
    const added = await byPath.addFile(file, (b) => progress.push(b));
    assert.strictEqual(added.skipped, false);
    const asText = new NgramTrainingJob(3);
    const split = splitHeldOut(bytes);
    assert.strictEqual(await asText.add(split.train, split.heldOut), added.tokens);
    const metadata = { name: 'w', tokenizer: 'editor' as const, order: 3 };
    const [a, b] = [await byPath.finish(metadata), await asText.finish(metadata)];
    assert.deepStrictEqual(a.bytes, b.bytes);
    assert.deepStrictEqual(a.heldOut, b.heldOut);
    assert.ok(a.heldOut.tokens > 0);
    assert.strictEqual(progress[progress.length - 1], bytes.length);
    const binary = new NgramTrainingJob(3);
    assert.deepStrictEqual(await binary.addFile(write('bin.txt', new Uint8Array([65, 0, 66]))), { tokens: 0, skipped: 'binary' });
    binary.cancel();
  });
});
