import * as assert from 'assert';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { CancelledError, LmError } from '../../src/core/errors';
import { downloadModel, listDownloadedModels, validateRepoId } from '../../src/node/hubDownload';
import { loadModel } from '../../src/node/modelLoader';
import { REPO } from './helpers';

const MODEL_DIR = process.env.LMP_TEST_NEURAL_MODEL ?? path.join(REPO, 'models', 'gpt-classics');

/** A hub on 127.0.0.1 serving MODEL_DIR as `/test/tiny-gpt/resolve/main/FILE`, with Range support. */
function startHub(options: { breakFirstGraphAt?: number }) {
  const log: { file: string; range?: string }[] = [];
  let broken = false;
  const server = http.createServer((req, res) => {
    const m = /^\/test\/tiny-gpt\/resolve\/main\/(.+)$/.exec(req.url ?? '');
    const file = m && path.join(MODEL_DIR, decodeURIComponent(m[1]));
    log.push({ file: m?.[1] ?? req.url ?? '', range: req.headers.range });
    if (!file || !file.startsWith(MODEL_DIR) || !fs.existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    const data = fs.readFileSync(file);
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    if (start >= data.length && range) {
      res.writeHead(416).end();
      return;
    }
    res.writeHead(range ? 206 : 200, {
      'content-length': String(data.length - start),
      ...(range ? { 'content-range': `bytes ${start}-${data.length - 1}/${data.length}` } : {}),
    });
    if (options.breakFirstGraphAt && m![1].endsWith('.onnx') && !broken) {
      broken = true;
      // Destroyed once the bytes are handed to the socket, so that the client gets them.
      res.write(data.subarray(start, options.breakFirstGraphAt), () => res.destroy());
      return;
    }
    res.end(data.subarray(start));
  });
  return new Promise<{ url: string; log: typeof log; close: () => void }>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, log, close: () => server.close() })),
  );
}

describe('LM: Download Model (hub downloads)', function () {
  this.timeout(60000);
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-hub-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('downloads config, tokenizer and graph; the result loads and equals the source', async () => {
    const hub = await startHub({});
    try {
      const progress: number[] = [];
      let listedDuringCheck = -1;
      const target = await downloadModel({
        baseUrl: hub.url,
        repo: 'test/tiny-gpt',
        target: path.join(dir, 'm'),
        onProgress: (p) => progress.push(p.received),
        verify: async (d) => {
          listedDuringCheck = listDownloadedModels(dir).length;
          const lm = await loadModel(d);
          assert.strictEqual(lm.info.backend, 'onnx');
          lm.dispose?.();
        },
      });
      for (const f of ['config.json', 'tokenizer.json', 'onnx/model.onnx']) {
        assert.ok(fs.readFileSync(path.join(target, f)).equals(fs.readFileSync(path.join(MODEL_DIR, f))), f);
      }
      assert.ok(progress.length > 0);
      assert.strictEqual(listedDuringCheck, 0, 'not listed before the test load passed');
      assert.deepStrictEqual(listDownloadedModels(dir), [{ repo: 'test/tiny-gpt', dir: target, legacy: false }]);
    } finally {
      hub.close();
    }
  });

  it('resumes an interrupted download with a Range request and verifies the size', async () => {
    const hub = await startHub({ breakFirstGraphAt: 100_000 });
    try {
      const target = path.join(dir, 'm');
      await assert.rejects(
        downloadModel({ baseUrl: hub.url, repo: 'test/tiny-gpt', target }),
        (e: Error) => e instanceof LmError && /broke off|incomplete/.test(e.message),
      );
      assert.ok(fs.existsSync(path.join(target, 'onnx', 'model.onnx.part')));
      assert.ok(!fs.existsSync(path.join(target, 'onnx', 'model.onnx')));
      assert.deepStrictEqual(listDownloadedModels(dir), [], 'an interrupted download is not a model');
      await downloadModel({ baseUrl: hub.url, repo: 'test/tiny-gpt', target });
      const resumed = hub.log.filter((r) => r.file === 'onnx/model.onnx' && r.range);
      assert.strictEqual(resumed.length, 1, 'the second attempt asked for the rest only');
      assert.strictEqual(hub.log.filter((r) => r.file === 'onnx/model.onnx').length, 2, 'and did not start again from byte 0');
      assert.ok(Number(/bytes=(\d+)-/.exec(resumed[0].range!)![1]) > 0);
      assert.ok(fs.readFileSync(path.join(target, 'onnx', 'model.onnx')).equals(fs.readFileSync(path.join(MODEL_DIR, 'onnx', 'model.onnx'))));
    } finally {
      hub.close();
    }
  });

  it('explains a missing repository, a bad id and cancellation', async () => {
    const hub = await startHub({});
    try {
      await assert.rejects(
        downloadModel({ baseUrl: hub.url, repo: 'test/nothing', target: path.join(dir, 'x') }),
        /test\/nothing has no config\.json .*\(404\)/,
      );
      assert.throws(() => validateRepoId('not a repo'), /not a Hugging Face repository id/);
      assert.throws(() => validateRepoId('../../etc'), /not a Hugging Face repository id/);
      const abort = new AbortController();
      await assert.rejects(
        downloadModel({ baseUrl: hub.url, repo: 'test/tiny-gpt', target: path.join(dir, 'c'), signal: abort.signal, onProgress: () => abort.abort() }),
        CancelledError,
      );
    } finally {
      hub.close();
    }
  });
});
