import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { LmError, ModelFormatError } from '../../src/core/errors';
import { loadNgramFile } from '../../src/node/backends/ngramBackend';
import { absoluteModelSpec, checkModelSpec, listEmbeddedModels, loadModel, recognizeModel } from '../../src/node/modelLoader';
import { describeFsError, modelFileChunks, openRegularFile } from '../../src/node/modelFileStream';

describe('loading models (bad input gets clear errors)', () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-loader-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: string | Uint8Array) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, content);
    return p;
  };

  it('loads the embedded model by name, with its editor tokenizer', async () => {
    assert.ok(listEmbeddedModels().includes('ngram-classics'));
    const m = await loadModel('ngram-classics');
    assert.strictEqual(m.info.name, 'ngram-classics');
    assert.strictEqual(m.info.contextLength, 3);
    assert.strictEqual(m.tokenizer.sentencePerLine, false);
  });

  it('names a missing model and lists the embedded ones', async () => {
    await assert.rejects(
      loadModel(path.join(dir, 'nope.arpa')),
      (e: Error) => e instanceof LmError && /model not found: .*nope\.arpa.*ngram-classics/.test(e.message),
    );
    await assert.rejects(loadModel('   '), /no model given/);
  });

  it('rejects empty, binary, truncated and corrupt files, naming the file', async () => {
    await assert.rejects(loadNgramFile(file('empty.arpa', '')), /empty\.arpa: file is empty/);
    await assert.rejects(loadNgramFile(file('bin.arpa', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 1, 2]))), /bin\.arpa: not a language model/);
    await assert.rejects(
      loadNgramFile(file('trunc.ngram', 'LMPNGRAM\x01\x00\x00\x00\xff\xff\x00\x00{')),
      (e: Error) => e instanceof ModelFormatError && /trunc\.ngram: file is truncated/.test(e.message),
    );
    await assert.rejects(loadNgramFile(file('bad.ngram.gz', new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3]))), /bad\.ngram\.gz: corrupt gzip data/);
    await assert.rejects(loadNgramFile(file('text.arpa', 'just some words\n')), /text\.arpa:1: not an ARPA file/);
    const gz = zlib.gzipSync(Buffer.from('\\data\\\nngram 1=2\n\n\\1-grams:\n-1\t<s>\n-1\t</s>\n\n\\end\\\n'));
    assert.strictEqual((await loadNgramFile(file('ok.arpa.gz', gz))).vocabSize, 3, 'gzipped ARPA with <unk> added');
  });

  it('accepts a folder holding a model, and refuses one without', async () => {
    const sub = path.join(dir, 'folder');
    fs.mkdirSync(sub);
    await assert.rejects(loadModel(sub), (e: Error) => e instanceof LmError && e.message.startsWith(`${sub} is not a model LM Playground can open; `));
    fs.writeFileSync(path.join(sub, 'x.arpa'), '\\data\\\nngram 1=2\n\n\\1-grams:\n-1\t<s>\n-1\t</s>\n\n\\end\\\n');
    assert.strictEqual((await loadModel(sub)).vocabSize, 3);
  });

  it('resolves a relative model path against the given folder (the workspace), the CLI against the current folder', async () => {
    const arpa = '\\data\\\nngram 1=2\n\n\\1-grams:\n-1\t<s>\n-1\t</s>\n\n\\end\\\n';
    fs.mkdirSync(path.join(dir, 'ws', 'models'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'ws', 'models', 'rel.arpa'), arpa);
    const workspace = path.join(dir, 'ws');
    assert.strictEqual(recognizeModel('models/rel.arpa', undefined, workspace).location, path.join(workspace, 'models', 'rel.arpa'));
    assert.strictEqual((await loadModel('models/rel.arpa', undefined, { baseDir: workspace })).vocabSize, 3);
    await assert.rejects(loadModel('models/rel.arpa', undefined, { baseDir: dir }), /model not found: .*models\/rel\.arpa is neither/);
    const fromCwd = path.relative(process.cwd(), path.join(workspace, 'models', 'rel.arpa'));
    assert.strictEqual(recognizeModel(fromCwd).location, path.join(workspace, 'models', 'rel.arpa'));
    // The extension: the setting made absolute against the first workspace folder; none open is an error that says so.
    assert.strictEqual(absoluteModelSpec('models/rel.arpa', workspace), path.join(workspace, 'models', 'rel.arpa'));
    assert.strictEqual(absoluteModelSpec('ngram-classics', workspace), 'ngram-classics');
    assert.strictEqual(absoluteModelSpec(path.join(dir, 'x.arpa'), workspace), path.join(dir, 'x.arpa'));
    assert.strictEqual(absoluteModelSpec('models/rel.arpa', undefined), 'models/rel.arpa');
    assert.throws(
      () => checkModelSpec('models/rel.arpa'),
      (e: Error) => e instanceof LmError && /models\/rel\.arpa is relative and no workspace folder is open/.test(e.message),
    );
    checkModelSpec('ngram-classics');
    checkModelSpec(path.join(workspace, 'models', 'rel.arpa'));
  });

  it('reports a symbolic link loop and a permission problem as such, not as "not found"', async () => {
    const a = path.join(dir, 'loop-a.arpa');
    const b = path.join(dir, 'loop-b.arpa');
    fs.symlinkSync(b, a);
    fs.symlinkSync(a, b);
    await assert.rejects(loadModel(a), (e: Error) => e instanceof LmError && e.message === `cannot open model ${a}: symbolic link loop`);
    assert.strictEqual(describeFsError(Object.assign(new Error('x'), { code: 'EACCES' })), 'permission denied');
    if (process.getuid?.() !== 0) {
      // (Root reads anything: the case can only be made for a normal user.)
      const locked = file('locked.arpa', 'x');
      fs.chmodSync(locked, 0);
      await assert.rejects(loadNgramFile(locked), /locked\.arpa: permission denied/);
    }
  });

  it('opens a model file without waiting and refuses it on the open handle unless it is a regular file (a path swapped for a FIFO after it was looked at: hostile11 Low 3)', async () => {
    const fifo = path.join(dir, 'swapped.arpa');
    execFileSync('mkfifo', [fifo]);
    // No writer ever comes: an open that waits for one would never return.
    await assert.rejects(openRegularFile(fifo), (e: Error) => e instanceof ModelFormatError && /not a regular file/.test(e.message));
    const chunks = modelFileChunks(fifo, 1 << 20);
    await assert.rejects(chunks.next(), /not a regular file/);
    const plain = file('plain.arpa', 'x');
    await (await openRegularFile(plain)).close();
  });
});
