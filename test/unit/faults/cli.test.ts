/** Fault injection for the CLI: hostile text files, bad paths, interrupted and concurrent writes. */
import * as assert from 'assert';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { LmError } from '../../../src/core/errors';
import { KneserNeyTrainer, DEFAULT_FALLBACK_DISCOUNTS } from '../../../src/core/ngram/kneserNey';
import { NgramLanguageModel } from '../../../src/core/ngram/ngramLanguageModel';
import { addTextToTrainer } from '../../../src/core/ngram/textTraining';
import { MAX_UNCUT_CHARS, TokenStream } from '../../../src/core/tokenStream';
import { modelBeingWritten, writeFileAtomic } from '../../../src/node/atomicWrite';
import { fileError } from '../../../src/node/fileErrors';
import { decodeUtf8, firstInvalidUtf8 } from '../../../src/node/textFile';
import { REPO, xorshift32 } from '../helpers';

const CLI = path.join(REPO, 'dist', 'cli.js');

function lmp(args: string[], cwd?: string) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd, maxBuffer: 1 << 28 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function lmpAsync(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stderr }));
  });
}

/** Uniform numbers in [0, 1) from xorshift32, for random bytes and chunkings. */
function rng(seed: number) {
  const next = xorshift32(seed);
  return () => next() / 2 ** 32;
}

async function* chunked(bytes: Uint8Array, sizes: () => number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length;) {
    const n = Math.max(1, sizes());
    yield bytes.subarray(i, i + n);
    i += n;
  }
}

async function decodeAll(bytes: Uint8Array, sizes: () => number): Promise<string> {
  let s = '';
  for await (const t of decodeUtf8(chunked(bytes, sizes), 'f.txt')) s += t;
  return s;
}

describe('faults: lmp reads only UTF-8 text', function () {
  this.timeout(60000);
  let dir: string;
  let arpa: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-faults-text-'));
    const train = path.join(dir, 'train.txt');
    fs.writeFileSync(train, 'the cat sat on the mat\nthe dog sat on the log\n'.repeat(3));
    arpa = path.join(dir, 'm.arpa');
    assert.strictEqual(lmp(['train-ngram', '--order', '3', '--arpa', arpa, '--discount-fallback', train]).code, 0);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses a binary file: train-ngram at its first NUL byte, score and generate when NULs are many, as the editor judges a document (hostile14 M2)', () => {
    const text = Buffer.from('the cat sat on the mat\n'.repeat(4000)); // 92,000 bytes: the NULs are in the second chunk
    const bin = Buffer.concat([text, Buffer.from([0, 1, 2, 0xff, 0])]);
    const file = path.join(dir, 'image.bin');
    fs.writeFileSync(file, bin);
    const train = lmp(['train-ngram', '--order', '2', '--arpa', path.join(dir, 'x.arpa'), file]);
    assert.strictEqual(train.code, 1);
    assert.strictEqual(train.stderr, `lmp: ${file} looks binary (NUL byte at offset ${text.length})\n`);
    assert.ok(!fs.existsSync(path.join(dir, 'x.arpa')));
    // Many NULs after the text, as in an image: refused where they are read.
    const image = path.join(dir, 'image2.bin');
    fs.writeFileSync(image, Buffer.concat([text, Buffer.alloc(50_000), text]));
    const scored = lmp(['score', '--model', arpa, image]);
    assert.strictEqual(scored.code, 1);
    assert.match(
      scored.stderr,
      new RegExp(
        `^lmp: ${image.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} looks binary \\(\\d+ NUL bytes in its first \\d+ bytes, the first at offset ${text.length}\\)\n$`,
      ),
    );
    // A few in a text are scored, and read in a prompt, as the editor's commands take them.
    const few = path.join(dir, 'few-nuls.txt');
    fs.writeFileSync(few, Buffer.concat([text, Buffer.from('the cat\0 sat\0 on the mat\0\n')]));
    const fewScored = lmp(['score', '--model', arpa, '--json', few]);
    assert.strictEqual(fewScored.code, 0, fewScored.stderr);
    assert.strictEqual(JSON.parse(fewScored.stdout).tokens, 4000 * 7 + 7);
    const prompt = path.join(dir, 'few-nuls-prompt.txt');
    fs.writeFileSync(prompt, 'the cat\0 sat on the');
    const generated = lmp(['generate', '--model', arpa, '--prompt-file', prompt, '--max-tokens', '2', '--temperature', '0']);
    assert.strictEqual(generated.code, 0, generated.stderr);
  });

  it('scores random bytes without NUL as an error at the first invalid byte, quickly and without a stack overflow', () => {
    const next = rng(7);
    const bytes = Buffer.from(Array.from({ length: 300000 }, () => 1 + Math.floor(next() * 255)));
    const file = path.join(dir, 'random.bin');
    fs.writeFileSync(file, bytes);
    const r = lmp(['score', '--model', 'ngram-classics', file]);
    assert.strictEqual(r.code, 1);
    assert.strictEqual(
      r.stderr,
      `lmp: ${file} is not UTF-8 text: invalid byte 0x${bytes[firstInvalidUtf8(bytes)].toString(16).padStart(2, '0')} at offset ${firstInvalidUtf8(bytes)} (convert it first, e.g. iconv -f latin1 -t utf-8)\n`,
    );
  });

  it('names the file and byte offset of invalid UTF-8 instead of turning it into U+FFFD', () => {
    const cases: [number[], number, string][] = [
      [[0x61, 0xff, 0x62], 1, 'invalid byte 0xff at offset 1'],
      [[0x61, 0x62, 0xc0, 0x80], 2, 'invalid byte 0xc0 at offset 2'], // overlong NUL
      [[0x61, 0xed, 0xa0, 0x80], 1, 'invalid byte 0xed at offset 1'], // a surrogate
      [[0x61, 0xe2, 0x82, 0x41], 1, 'invalid byte 0xe2 at offset 1'], // cut short by an ASCII byte
      [[0xf4, 0x90, 0x80, 0x80], 0, 'invalid byte 0xf4 at offset 0'], // above U+10FFFF
      [[0x61, 0x62, 0xe2, 0x82], 2, 'it ends inside a character (offset 2)'],
    ];
    for (const [bytes, at, message] of cases) {
      const file = path.join(dir, 'bad.txt');
      fs.writeFileSync(file, Buffer.concat([Buffer.from('é'.repeat(40000)), Buffer.from(bytes)])); // past the first chunk
      for (const args of [
        ['score', '--model', arpa, file],
        ['train-ngram', '--order', '2', '--arpa', path.join(dir, 'x.arpa'), file],
      ]) {
        const r = lmp(args);
        assert.strictEqual(r.code, 1);
        assert.ok(r.stderr.startsWith(`lmp: ${file} is not UTF-8 text: `), r.stderr);
        assert.ok(r.stderr.includes(message.replace(/offset (\d+)/, (_, n) => `offset ${80000 + Number(n)}`)), `${r.stderr} (want ${message})`);
      }
      assert.strictEqual(firstInvalidUtf8(Uint8Array.from(bytes)), at === 2 && message.startsWith('it ends') ? -1 : at);
    }
  });

  it('with --json, a file that is not UTF-8 leaves one valid JSON document or nothing on stdout, the error on stderr and exit code 1', () => {
    const early = path.join(dir, 'early.txt');
    fs.writeFileSync(early, Buffer.from([0x61, 0x20, 0xff, 0x62]));
    // Past the first chunk: scores were written before the bad byte was read.
    const late = path.join(dir, 'late.txt');
    fs.writeFileSync(late, Buffer.concat([Buffer.from('the cat sat on the mat\n'.repeat(4000)), Buffer.from([0xff])]));
    for (const details of [[], ['--details']]) {
      for (const file of [early, late]) {
        const r = lmp(['score', '--model', arpa, '--json', ...details, file]);
        const what = `${details.join(' ')} ${path.basename(file)}: ${r.stdout.slice(0, 200)} … ${r.stdout.slice(-200)}`;
        assert.strictEqual(r.code, 1, what);
        assert.match(r.stderr, new RegExp(`^lmp: ${file.replace(/[.\\/]/g, '\\$&')} is not UTF-8 text: invalid byte 0xff at offset`), what);
        if (r.stdout === '') {
          assert.ok(file === early || details.length === 0, `${what}: nothing of the scored part`);
          continue;
        }
        const doc = JSON.parse(r.stdout);
        assert.ok(file === late && details.length > 0, what);
        // The first chunk's tokens (64 KiB of 23-byte lines of 7 tokens), scored before the second chunk was read.
        assert.ok(doc.token_scores.length > 2800 * 7 && doc.token_scores.length < 4000 * 7, `${doc.token_scores.length} tokens`);
        assert.strictEqual(doc.error, r.stderr.slice('lmp: '.length, -1));
      }
    }
  });

  it('decodes chunks split anywhere, a character across chunks included, as the whole; errors at the same offset', async () => {
    const next = rng(11);
    const text = 'plain, é, €, 𝄞 and 😀 text — ' + 'ünïcödé '.repeat(5);
    const bytes = Buffer.from(text);
    for (const size of [1, 2, 3, 5]) assert.strictEqual(await decodeAll(bytes, () => size), text);
    for (let trial = 0; trial < 200; trial++) {
      const random = Uint8Array.from({ length: 64 }, () => (next() < 0.7 ? 0x20 + Math.floor(next() * 0x5f) : 0x80 + Math.floor(next() * 0x80)));
      const at = firstInvalidUtf8(random);
      const sizes = () => 1 + Math.floor(next() * 6);
      let got: string | LmError;
      try {
        got = await decodeAll(random, sizes);
      } catch (e) {
        got = e as LmError;
      }
      if (typeof got === 'string') assert.strictEqual(got, new TextDecoder('utf-8', { fatal: true }).decode(random));
      else if (at >= 0) assert.ok(got.message.includes(`at offset ${at} `), `${got.message}, expected offset ${at}`);
      else assert.match(got.message, /ends inside a character/);
    }
  });

  it("leaves out a byte-order mark at the start, as the editor does, so that scores of the file are the editor's (hostile16 H1)", async () => {
    const text = 'The cat sat on the mat.\n';
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
    // Split anywhere, the mark across chunks too; one later in the text is text and stays.
    for (const size of [1, 2, 3, 5, 64]) assert.strictEqual(await decodeAll(bom, () => size), text, `chunks of ${size}`);
    assert.strictEqual(await decodeAll(Buffer.from(`a\ufeffb`), () => 64), 'a\ufeffb');
    const withMark = path.join(dir, 'bom.txt');
    const without = path.join(dir, 'nobom.txt');
    fs.writeFileSync(withMark, bom);
    fs.writeFileSync(without, text);
    for (const model of ['gpt-classics', arpa]) {
      const [a, b] = [withMark, without].map((f) => {
        const r = lmp(['score', '--model', model, '--json', '--details', f]);
        assert.strictEqual(r.code, 0, r.stderr);
        return JSON.parse(r.stdout);
      });
      assert.deepStrictEqual(a, b, model);
    }
  });

  it('refuses a run of text with no place to cut into tokens beyond the limit, naming the file', () => {
    const file = path.join(dir, 'unbroken.txt');
    fs.writeFileSync(file, 'a few words first ' + 'x'.repeat(MAX_UNCUT_CHARS + 1));
    const r = lmp(['score', '--model', arpa, file]);
    assert.strictEqual(r.code, 1);
    assert.strictEqual(
      r.stderr,
      `lmp: ${file}: cannot tokenize the text in pieces: 4,194,306 characters from character 17 on have no place to cut (it is a single word of letters and digits); at most 4,194,304 are held\n`,
    );
  });

  it('cuts minified text at punctuation for the editor tokenizer, and searches each character about once', () => {
    const trainer = new KneserNeyTrainer({ order: 2, discountFallback: DEFAULT_FALLBACK_DISCOUNTS });
    addTextToTrainer(trainer, 'the cat sat. {"on":[the,mat]}\n', 'editor');
    const model = new NgramLanguageModel(trainer.build().model, 'editor', 'editor');
    let searched = 0;
    const tokenizer = Object.create(model.tokenizer) as typeof model.tokenizer;
    tokenizer.cutPoint = (text: string) => {
      searched += text.length;
      return model.tokenizer.cutPoint!(text);
    };
    const stream = (text: string) => {
      const s = new TokenStream(tokenizer);
      let n = 0;
      for (let i = 0; i < text.length; i += 65536) n += s.push(text.slice(i, i + 65536)).length;
      return n + s.end().length;
    };
    const unit = '{"key":[1,2,3],"v":"x"},';
    const minified = unit.repeat(Math.ceil((MAX_UNCUT_CHARS + 1000) / unit.length));
    assert.strictEqual(stream(minified), model.tokenizer.encode(minified, true).length);
    assert.ok(searched < 2 * minified.length, `searched ${searched} characters of ${minified.length}`);
    const dots = '.'.repeat(MAX_UNCUT_CHARS + 1000);
    assert.strictEqual(stream(dots), dots.length + 1);
    searched = 0;
    const spaces = 'a' + ' '.repeat(MAX_UNCUT_CHARS + 1000);
    assert.throws(
      () => stream(spaces),
      (e: unknown) =>
        e instanceof LmError && /have no place to cut \(it is a single run of spaces and tabs, which the tokenizer takes as one token\)/.test(e.message),
    );
    assert.ok(searched < 2 * spaces.length, `searched ${searched} characters of ${spaces.length}`);
  });

  it('names the path of an input that is a folder, missing, a symlink loop or under a file', () => {
    const loop = path.join(dir, 'loop');
    fs.symlinkSync(loop, loop);
    const cases: [string, string][] = [
      [dir, 'it is a folder, not a file (EISDIR)'],
      [path.join(dir, 'missing.txt'), 'no such file (ENOENT)'],
      [loop, 'a loop of symbolic links, or too many of them (ELOOP)'],
      [path.join(arpa, 'x.txt'), 'a part of the path is not a folder (ENOTDIR)'],
    ];
    for (const [file, reason] of cases) {
      for (const args of [
        ['score', '--model', arpa, file],
        ['train-ngram', '--order', '2', '--arpa', path.join(dir, 'y.arpa'), file],
      ]) {
        const r = lmp(args);
        assert.strictEqual(r.code, 1);
        assert.strictEqual(r.stderr, `lmp: cannot read ${file}: ${reason}\n`);
      }
    }
    assert.strictEqual(
      fileError('write', '/x/m.arpa', Object.assign(new Error('EACCES: permission denied, open'), { code: 'EACCES' })).message,
      'cannot write /x/m.arpa: permission denied (EACCES)',
    );
  });
});

describe('faults: lmp train-ngram writes whole files, never over its inputs', function () {
  this.timeout(60000);
  let dir: string;
  let corpus: string;
  const CORPUS = 'the cat sat on the mat\nthe dog sat on the log\nthe cat ate the fish\n';
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-faults-write-'));
    corpus = path.join(dir, 'corpus.txt');
    fs.writeFileSync(corpus, CORPUS);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const leftovers = (d: string) => fs.readdirSync(d).filter((f) => f.endsWith('.tmp'));

  it('refuses to write over a training file, however it is named, and two outputs to one file', () => {
    fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
    const link = path.join(dir, 'link.txt');
    fs.symlinkSync(corpus, link);
    const hard = path.join(dir, 'hard.txt');
    fs.linkSync(corpus, hard);
    const base = ['train-ngram', '--order', '2', '--discount-fallback'];
    const cases: [string[], RegExp, string?][] = [
      [[...base, '--arpa', corpus, corpus], /^lmp: output .*corpus\.txt is the training file .*corpus\.txt: it would be overwritten/],
      [[...base, '--binary', link, corpus], /^lmp: output .*link\.txt is the training file .*corpus\.txt/],
      [[...base, '--arpa', hard, corpus], /^lmp: output .*hard\.txt is the training file/],
      [[...base, '--arpa', 'sub/../corpus.txt', 'corpus.txt'], /^lmp: output sub\/\.\.\/corpus\.txt is the training file corpus\.txt/, dir],
      [[...base, '--arpa', '../corpus.txt', path.join(dir, 'corpus.txt')], /is the training file/],
      [[...base, '--arpa', path.join(dir, 'm.model'), '--binary', path.join(dir, 'sub', '..', 'm.model'), corpus], /^lmp: --arpa and --binary both write/],
    ];
    for (const [args, message, cwd] of cases) {
      const r = lmp(args, cwd ?? path.join(dir, 'sub'));
      assert.strictEqual(r.code, 1, args.join(' '));
      assert.match(r.stderr, message);
    }
    assert.strictEqual(fs.readFileSync(corpus, 'utf8'), CORPUS);
    assert.ok(fs.lstatSync(link).isSymbolicLink());
    assert.ok(!fs.existsSync(path.join(dir, 'm.model')));
  });

  it('says which path is a folder or has no folder to go into', () => {
    const folder = path.join(dir, 'out-folder');
    fs.mkdirSync(folder);
    const r1 = lmp(['train-ngram', '--order', '2', '--discount-fallback', '--arpa', folder, corpus]);
    assert.strictEqual(r1.stderr, `lmp: cannot write ${folder}: it is a folder, not a file (EISDIR)\n`);
    const missing = path.join(dir, 'no', 'such', 'm.ngram');
    const r2 = lmp(['train-ngram', '--order', '2', '--discount-fallback', '--binary', missing, corpus]);
    assert.strictEqual(r2.stderr, `lmp: cannot write ${missing}: the folder ${path.dirname(missing)} does not exist (ENOENT)\n`);
    assert.deepStrictEqual(leftovers(dir), []);
  });

  it('says it is the temporary file that cannot be made when the target exists (hostile L3: /proc/version)', function () {
    if (!fs.existsSync('/proc/version')) this.skip();
    const r = lmp(['train-ngram', '--order', '2', '--discount-fallback', '--arpa', '/proc/version', corpus]);
    assert.strictEqual(r.stderr, 'lmp: cannot write /proc/version: a temporary file cannot be made beside it, in /proc: no such file (ENOENT)\n');
  });

  it('refuses to replace a FIFO (or a link to one) or a socket, with a clear message', async () => {
    const fifo = path.join(dir, 'out.fifo');
    assert.strictEqual(spawnSync('mkfifo', [fifo]).status, 0);
    const fifoLink = path.join(dir, 'fifo-link.arpa');
    fs.symlinkSync(fifo, fifoLink);
    const sock = path.join(dir, 'out.sock');
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    try {
      for (const [flag, target] of [
        ['--arpa', fifo],
        ['--binary', fifoLink],
        ['--arpa', sock],
      ]) {
        const r = lmp(['train-ngram', '--order', '2', '--discount-fallback', flag, target, corpus]);
        assert.strictEqual(r.code, 1, target);
        assert.strictEqual(r.stderr, `lmp: cannot write ${target}: it exists and is not a regular file (a device, FIFO or socket); choose another path\n`);
      }
      assert.ok(fs.statSync(fifo).isFIFO());
      assert.ok(fs.lstatSync(sock).isSocket());
      await assert.rejects(writeFileAtomic(fifo, ['x']), LmError);
      assert.ok(fs.statSync(fifo).isFIFO());
      assert.deepStrictEqual(leftovers(dir), []);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('writes through a symlink to the file it points to', () => {
    const real = path.join(dir, 'real.arpa');
    fs.writeFileSync(real, 'old');
    const link = path.join(dir, 'model-link.arpa');
    fs.symlinkSync(real, link);
    assert.strictEqual(lmp(['train-ngram', '--order', '2', '--discount-fallback', '--arpa', link, corpus]).code, 0);
    assert.ok(fs.lstatSync(link).isSymbolicLink());
    assert.match(fs.readFileSync(real, 'utf8'), /^\\data\\/);
  });

  it('gives two runs to one path each a whole file: the result is one of them, byte for byte', async () => {
    const other = path.join(dir, 'other.txt');
    fs.writeFileSync(other, 'a b c d e f g\n'.repeat(2000) + 'h i j k\n'.repeat(3000));
    const alone = [path.join(dir, 'alone-1.arpa'), path.join(dir, 'alone-2.arpa')];
    assert.strictEqual(lmp(['train-ngram', '--order', '3', '--discount-fallback', '--arpa', alone[0], corpus]).code, 0);
    assert.strictEqual(lmp(['train-ngram', '--order', '3', '--discount-fallback', '--arpa', alone[1], other]).code, 0);
    const expected = alone.map((f) => fs.readFileSync(f, 'utf8'));
    const target = path.join(dir, 'shared.arpa');
    for (let round = 0; round < 3; round++) {
      const runs = await Promise.all([corpus, other].map((input) => lmpAsync(['train-ngram', '--order', '3', '--discount-fallback', '--arpa', target, input])));
      for (const r of runs) assert.strictEqual(r.code, 0, r.stderr);
      assert.ok(expected.includes(fs.readFileSync(target, 'utf8')), `round ${round}: a mixture of the two models`);
    }
    assert.deepStrictEqual(leftovers(dir), []);
  });

  it('writeFileAtomic: interleaved writers to one path leave one whole content; a failing content leaves the old file', async () => {
    const target = path.join(dir, 'atomic.txt');
    fs.writeFileSync(target, 'previous');
    async function* slow(letter: string) {
      for (let i = 0; i < 50; i++) {
        yield letter.repeat(1000);
        await new Promise((r) => setImmediate(r));
      }
    }
    await Promise.all([writeFileAtomic(target, slow('a')), writeFileAtomic(target, slow('b'))]);
    const got = fs.readFileSync(target, 'utf8');
    assert.ok(got === 'a'.repeat(50000) || got === 'b'.repeat(50000), "one writer's content, whole");
    async function* failing() {
      yield 'half of a new model';
      throw new LmError('the content failed midway');
    }
    await assert.rejects(writeFileAtomic(target, failing()), /the content failed midway/);
    assert.strictEqual(fs.readFileSync(target, 'utf8'), got);
    assert.deepStrictEqual(leftovers(dir), []);
  });

  it('writeFileAtomic: its temporary file is known for what it is, and names the file it becomes (drive12 M1: picked in Select Model while training wrote it)', async () => {
    const target = path.join(dir, 'model5.arpa');
    let seen: string[] = [];
    async function* content() {
      yield 'the first part\n';
      seen = fs.readdirSync(dir).filter((f) => f.startsWith('.model5.arpa.'));
      yield 'the rest\n';
    }
    await writeFileAtomic(target, content());
    assert.strictEqual(seen.length, 1, `one temporary file while writing: ${seen.join(', ')}`);
    assert.strictEqual(modelBeingWritten(path.join(dir, seen[0])), 'model5.arpa');
    for (const other of [target, path.join(dir, '.model5.arpa'), path.join(dir, 'model5.arpa.tmp'), path.join(dir, '.x.12.abc.tmp')])
      assert.strictEqual(modelBeingWritten(other), undefined, other);
  });

  it('writeFileAtomic: a content of 40 MiB, flushed to the disk while it is written, is whole; one failing after the flushes leaves the old file', async () => {
    const target = path.join(dir, 'large.arpa');
    fs.writeFileSync(target, 'previous');
    const chunk = (i: number) => new Uint8Array(1 << 20).fill(0x61 + (i % 26));
    async function* large(fail: boolean) {
      for (let i = 0; i < 40; i++) {
        if (fail && i === 35) throw new LmError('the content failed after its flushes');
        yield chunk(i);
      }
    }
    await writeFileAtomic(target, large(false));
    const got = fs.readFileSync(target);
    assert.strictEqual(got.length, 40 << 20);
    for (let i = 0; i < 40; i++) assert.ok(got.subarray(i << 20, (i + 1) << 20).equals(chunk(i)), `MiB ${i}`);
    await assert.rejects(writeFileAtomic(target, large(true)), /failed after its flushes/);
    assert.ok(fs.readFileSync(target).equals(got), 'the whole file of before');
    assert.deepStrictEqual(leftovers(dir), []);
  });

  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    it(`writeFileAtomic: a process stopped by ${signal} midway leaves the previous file intact${signal === 'SIGTERM' ? ' and no temporary file' : ', and a temporary file that the next write removes'}`, async () => {
      const target = path.join(dir, 'killed.arpa');
      fs.writeFileSync(target, 'the previous model\n');
      const script = path.join(dir, 'writer.js');
      fs.writeFileSync(
        script,
        `const { exitOnTerminationSignals, writeFileAtomic } = require(${JSON.stringify(path.join(REPO, 'out', 'src', 'node', 'atomicWrite.js'))});
        exitOnTerminationSignals(); // as lmp does
        async function* content() {
          yield 'x'.repeat(100000);
          process.stdout.write('written\\n');
          await new Promise(() => setInterval(() => {}, 1000));
        }
        writeFileAtomic(${JSON.stringify(target)}, content());`,
      );
      const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise((r) => child.on('exit', r));
      try {
        await new Promise<void>((resolve, reject) => {
          child.stdout.on('data', (d) => String(d).includes('written') && resolve());
          child.on('exit', (code) => reject(new Error(`the writer exited (${code}) before writing`)));
        });
        const tmp = leftovers(dir);
        assert.strictEqual(tmp.length, 1, 'the content goes to a temporary file beside the target');
        assert.strictEqual(fs.statSync(path.join(dir, tmp[0])).size, 100000);
      } finally {
        child.kill(signal);
        await exited;
      }
      assert.strictEqual(fs.readFileSync(target, 'utf8'), 'the previous model\n');
      assert.strictEqual(leftovers(dir).length, signal === 'SIGKILL' ? 1 : 0);
      if (signal === 'SIGKILL') {
        // The next write of that path removes what the killed run left (drive12 Low: a model's size
        // each), but not the temporary file of a run still going (this process's id stands for it).
        const running = path.join(dir, `.killed.arpa.${process.pid}.0123456789ab.tmp`);
        fs.writeFileSync(running, 'another run, still writing');
        await writeFileAtomic(target, ['the next model\n']);
        assert.strictEqual(fs.readFileSync(target, 'utf8'), 'the next model\n');
        assert.deepStrictEqual(leftovers(dir), [path.basename(running)]);
        fs.rmSync(running);
      }
    });
  }
});

describe('faults: lmp generate option values', function () {
  this.timeout(60000);
  let dir: string;
  let arpa: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-faults-opts-'));
    const train = path.join(dir, 'train.txt');
    fs.writeFileSync(train, 'the cat sat on the mat\n'.repeat(3));
    arpa = path.join(dir, 'm.arpa');
    assert.strictEqual(lmp(['train-ngram', '--order', '2', '--arpa', arpa, '--discount-fallback', train]).code, 0);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('takes integers in decimal digits only, says so for negative ones, and refuses --max-tokens 0 without --echo', () => {
    const gen = (...extra: string[]) => lmp(['generate', '--model', arpa, '--prompt', 'the', ...extra]);
    for (const v of ['1e3', '0x10', '0b1', ' 7', '7.0', '-5']) {
      const r = gen('--max-tokens', v);
      assert.strictEqual(r.code, 1, v);
      assert.strictEqual(r.stderr, `lmp: --max-tokens must be an integer from 0 to 100000 in decimal digits, got ${JSON.stringify(v)}\n`);
    }
    const zero = gen('--max-tokens', '0');
    assert.strictEqual(zero.code, 1);
    assert.strictEqual(zero.stderr, 'lmp: --max-tokens 0 needs --echo (it generates nothing and only scores the prompt)\n');
    assert.strictEqual(gen('--max-tokens', '0', '--echo').code, 0);
    // A negative value where one is allowed is taken as the value, not as an option.
    const seeded = gen('--max-tokens', '3', '--seed', '-3', '--json');
    assert.strictEqual(seeded.code, 0, seeded.stderr);
    assert.strictEqual(JSON.parse(seeded.stdout).seed, -3);
  });
});

describe('faults: lmp train-ngram on text it cannot model', function () {
  this.timeout(60000);
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-faults-train-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('says an output it cannot write before training, not after (hostile12 L2: minutes of training, then the error)', () => {
    // An empty corpus fails the training at once: the output's error coming first shows it was checked first.
    const empty = path.join(dir, 'empty-first.txt');
    fs.writeFileSync(empty, '');
    const folder = path.join(dir, 'a-folder');
    fs.mkdirSync(folder, { recursive: true });
    const readOnly = path.join(dir, 'read-only');
    fs.mkdirSync(readOnly, { recursive: true });
    fs.chmodSync(readOnly, 0o555);
    const cases: [string[], RegExp][] = [
      [['--arpa', folder], /it is a folder/],
      [['--arpa', path.join(dir, 'missing', 'm.arpa')], /does not exist/],
      [['--arpa', path.join(dir, 'ok.arpa'), '--binary', '/dev/null'], /not a regular file/],
    ];
    // As root a read-only folder is writable all the same: checked only where it is not.
    if (process.getuid?.() !== 0) cases.push([['--binary', path.join(readOnly, 'm.ngram')], /cannot be made beside it/]);
    for (const [outputs, message] of cases) {
      const r = lmp(['train-ngram', '--order', '3', ...outputs, empty]);
      assert.strictEqual(r.code, 1, r.stderr);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /no words/);
    }
    assert.deepStrictEqual(fs.readdirSync(folder), []);
    const converted = lmp(['convert', empty, folder]);
    assert.strictEqual(converted.code, 1);
    assert.match(converted.stderr, /it is a folder/);
    fs.chmodSync(readOnly, 0o755);
  });

  it('refuses an empty corpus (with or without fallback discounts) instead of writing NaN probabilities', () => {
    const empty = path.join(dir, 'empty.txt');
    fs.writeFileSync(empty, '');
    const blank = path.join(dir, 'blank.txt');
    fs.writeFileSync(blank, '\n  \n\t\n');
    for (const extra of [['--discount-fallback'], []]) {
      for (const [files, kind] of [
        [[empty], 'whitespace'],
        [[empty, blank], 'whitespace'],
        [[empty], 'editor'],
      ] as const) {
        const out = path.join(dir, 'm.ngram');
        const r = lmp(['train-ngram', '--order', '3', ...extra, '--tokens', kind, '--binary', out, ...files]);
        assert.strictEqual(r.code, 1, r.stderr);
        assert.strictEqual(r.stderr, `lmp: no words in the training files (${files.join(', ')}): nothing to train on\n`);
        assert.ok(!fs.existsSync(out));
      }
    }
    // The trainer itself: no sentence at all is an error, not a model of 0/0.
    const t = new KneserNeyTrainer({ order: 2, discountFallback: DEFAULT_FALLBACK_DISCOUNTS });
    assert.throws(
      () => t.build(),
      (e: Error) => e instanceof LmError && /no training text/.test(e.message),
    );
  });

  it('refuses an editor-token model as ARPA (its words cannot hold spaces) and points to --binary', () => {
    const corpus = path.join(dir, 'c.txt');
    fs.writeFileSync(corpus, 'the cat sat on the mat.\nthe dog sat.\n');
    const out = path.join(dir, 'e.arpa');
    const r = lmp(['train-ngram', '--order', '2', '--discount-fallback', '--tokens', 'editor', '--arpa', out, corpus]);
    assert.strictEqual(r.code, 1);
    assert.match(r.stderr, /^lmp: --tokens editor models cannot be written as ARPA .*: use --binary OUT\.ngram\n$/);
    assert.ok(!fs.existsSync(out));
    const bin = path.join(dir, 'e.ngram');
    assert.strictEqual(lmp(['train-ngram', '--order', '2', '--discount-fallback', '--tokens', 'editor', '--binary', bin, corpus]).code, 0);
    const s = lmp(['score', '--model', bin, '--json', corpus]);
    assert.strictEqual(s.code, 0, s.stderr);
    assert.ok(Number.isFinite(JSON.parse(s.stdout).logprob_nats));
  });
});
