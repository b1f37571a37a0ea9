/**
 * The watch on a loaded model's file: a model keeps the numbers of the file it read, so a change
 * on the disk (rewritten in place, replaced by a rename, removed and put back) must be noticed,
 * once, and only after the writing stopped; the GGUF read again then gives the new file's numbers.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { openGguf } from '../../src/node/gguf/ggufFile';
import { ModelFileWatch, modelFileSignature } from '../../src/node/modelFileWatch';
import { modelFilesOf } from '../../src/node/modelLoader';
import { REPO } from './helpers';

const gguf = (name: string) => path.join(REPO, 'test', 'fixtures', 'models', 'gguf', `${name}.gguf`);

describe('watching the active model’s file', function () {
  this.timeout(60000);
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-watch-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reports a file rewritten in place once it stops changing, once, and a file replaced by a rename', () => {
    const file = path.join(dir, 'model.gguf');
    fs.copyFileSync(gguf('tiny-llama-f32'), file);
    let changes = 0;
    const watch = new ModelFileWatch(file, () => changes++);
    watch.poll();
    assert.strictEqual(changes, 0, 'an unchanged file');
    // A copy over it, seen half-written, then whole.
    const other = fs.readFileSync(gguf('tiny-llama-q8_0'));
    fs.writeFileSync(file, other.subarray(0, 1000));
    watch.poll();
    fs.appendFileSync(file, other.subarray(1000));
    watch.poll();
    assert.strictEqual(changes, 0, 'reported while it was being written');
    watch.poll();
    assert.strictEqual(changes, 1, 'not reported once the writing stopped');
    watch.poll();
    assert.strictEqual(changes, 1, 'reported twice');
    // An export that writes a new file and renames it over the old one (a new inode; the same size).
    const next = path.join(dir, 'model.gguf.tmp');
    fs.copyFileSync(gguf('tiny-llama-q8_0'), next);
    fs.renameSync(next, file);
    watch.poll();
    watch.poll();
    assert.strictEqual(changes, 2, 'a replaced file was not reported');
  });

  it('says once that the file is gone (not a change), and reports it when it is back; a change before the watch began counts', () => {
    const file = path.join(dir, 'model.gguf');
    fs.copyFileSync(gguf('tiny-llama-f32'), file);
    let changes = 0;
    let gone = 0;
    const watch = new ModelFileWatch(
      file,
      () => changes++,
      undefined,
      () => gone++,
    );
    fs.rmSync(file);
    watch.poll();
    assert.strictEqual(gone, 0, 'gone at one poll: a rename over it is missing for an instant');
    watch.poll();
    watch.poll();
    assert.strictEqual(changes, 0, 'a removed file was reported as a change');
    assert.strictEqual(gone, 1, 'a removed file was not said to be gone, once');
    fs.copyFileSync(gguf('tiny-llama-f32'), file);
    watch.poll();
    watch.poll();
    assert.strictEqual(changes, 1);
    // The signature taken when the load began: the file changed while the model was read.
    const loaded = modelFileSignature(file);
    fs.copyFileSync(gguf('tiny-qwen2-f32'), file);
    let late = 0;
    const after = new ModelFileWatch(file, () => late++, loaded);
    after.poll();
    after.poll();
    assert.strictEqual(late, 1);
  });

  it('polls on its own, and the GGUF read again from the changed file gives that file’s numbers', async () => {
    const file = path.join(dir, 'model.gguf');
    fs.copyFileSync(gguf('tiny-llama-f32'), file);
    const ids: number[] = JSON.parse(fs.readFileSync(path.join(REPO, 'test', 'fixtures', 'models', 'tiny-llama', 'reference.json'), 'utf8')).input_ids.slice(
      0,
      40,
    );
    const first = await openGguf(file, 'live', { threads: 1 });
    let second;
    try {
      const before = await first.sequenceLogProbs(ids, 1);
      let changed = false;
      const watch = new ModelFileWatch(file, () => (changed = true)).start(20);
      try {
        fs.copyFileSync(gguf('tiny-llama-q8_0'), file);
        const deadline = Date.now() + 10000;
        while (!changed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        assert.ok(changed, `no change reported within 10 s (file ${JSON.stringify(modelFileSignature(file))})`);
      } finally {
        watch.stop();
      }
      // The loaded model keeps the numbers it read; the file read again has the new weights'.
      assert.deepStrictEqual(await first.sequenceLogProbs(ids, 1), before);
      second = await openGguf(file, 'live', { threads: 1 });
      assert.strictEqual(second.info.precision, 'Q8_0');
      const after = await second.sequenceLogProbs(ids, 1);
      assert.notDeepStrictEqual(after, before);
    } finally {
      await first.dispose();
      await second?.dispose();
    }
  });

  it('watches an ONNX folder’s graphs, their data and its JSON, not other files in onnx/ (hostile L5: 5,000 of them cost 18 ms a poll)', () => {
    const folder = path.join(dir, 'onnx-many');
    fs.cpSync(path.join(REPO, 'test', 'fixtures', 'models', 'tiny-llama'), folder, { recursive: true });
    for (let i = 0; i < 50; i++) fs.writeFileSync(path.join(folder, 'onnx', `notes-${i}.txt`), '');
    fs.writeFileSync(path.join(folder, 'onnx', 'model_q8.onnx.data'), '');
    const names = modelFilesOf(folder).map((f) => path.relative(folder, f).split(path.sep).join('/'));
    assert.deepStrictEqual(names, [
      'config.json',
      'generation_config.json',
      'onnx/model.onnx',
      'onnx/model.onnx_data',
      'onnx/model_fp16.onnx',
      'onnx/model_int8.onnx',
      'onnx/model_q4.onnx',
      'onnx/model_q4f16.onnx',
      'onnx/model_q8.onnx.data',
      'reference.json',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
  });

  it('watches a workspace-trained model through its folder’s n-gram file, which training again replaces (not embedded models or servers)', () => {
    const trained = path.join(dir, 'workspace-3gram');
    fs.mkdirSync(trained);
    const model = path.join(trained, 'model.ngram.gz');
    const arpa = (p: number) => `\\data\\\nngram 1=3\n\n\\1-grams:\n-0.5\t<s>\n-0.5\t</s>\n${p}\tword\n\n\\end\\\n`;
    fs.writeFileSync(model, zlib.gzipSync(arpa(-0.3)));
    assert.deepStrictEqual(modelFilesOf(trained), [model], 'the folder is watched through its model file');
    assert.deepStrictEqual(modelFilesOf(model), [model]);
    assert.deepStrictEqual(modelFilesOf('ngram-classics'), [], 'an embedded model does not change');
    assert.deepStrictEqual(modelFilesOf('http://127.0.0.1:9/v1#m'), []);
    // Training again writes a new file and renames it over the old one.
    let changes = 0;
    const watch = new ModelFileWatch(modelFilesOf(trained), () => changes++);
    fs.writeFileSync(`${model}.partial`, zlib.gzipSync(arpa(-0.2)));
    fs.renameSync(`${model}.partial`, model);
    watch.poll();
    watch.poll();
    assert.strictEqual(changes, 1, 'the retrained model is reported once');
  });

  it('watches an ONNX folder through all its graphs, data and JSON files: a re-exported data file or tokenizer is a change', () => {
    const folder = path.join(dir, 'tiny-llama');
    fs.cpSync(path.join(REPO, 'test', 'fixtures', 'models', 'tiny-llama'), folder, { recursive: true });
    const files = modelFilesOf(folder);
    const rel = files.map((f) => path.relative(folder, f).split(path.sep).join('/'));
    for (const name of ['config.json', 'tokenizer.json', 'onnx/model.onnx', 'onnx/model.onnx_data'])
      assert.ok(rel.includes(name), `${name} among the watched files: ${rel.join(', ')}`);
    let changes = 0;
    const watch = new ModelFileWatch(files, () => changes++);
    watch.poll();
    assert.strictEqual(changes, 0, 'an unchanged folder');
    // A new export writes the weights anew (same size, new inode) and nothing else.
    const data = path.join(folder, 'onnx', 'model.onnx_data');
    fs.copyFileSync(data, `${data}.tmp`);
    fs.renameSync(`${data}.tmp`, data);
    watch.poll();
    watch.poll();
    assert.strictEqual(changes, 1, 'the rewritten data file is reported once');
    fs.appendFileSync(path.join(folder, 'tokenizer.json'), ' ');
    watch.poll();
    watch.poll();
    assert.strictEqual(changes, 2, 'an edited tokenizer.json is reported');
  });
});
