/** Workspace training of a file read in chunks counts what training on the whole decoded file counts. */
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeNgramBinary } from '../../src/core/ngram/binaryFormat';
import { DEFAULT_FALLBACK_DISCOUNTS, KneserNeyTrainer } from '../../src/core/ngram/kneserNey';
import { addTextToTrainer } from '../../src/core/ngram/textTraining';
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
