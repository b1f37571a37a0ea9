import * as assert from 'assert';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { CancelledError, LmError } from '../../src/core/errors';
import { listedVariants, type DtypeSetting } from '../../src/core/neural/onnxVariants';
import { downloadModel, listDownloadedModels, listRepoFolder, repoFolderName, validateRepoId } from '../../src/node/hubDownload';
import { loadModel } from '../../src/node/modelLoader';
import { ONNX_FIXTURES, REPO } from './helpers';
import { startTreeHub } from './treeHub';

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
        // A dropped connection (Node's "aborted" said what it means, with the repository and the folder that keeps the part: hostile15 L6), or an end before the size announced.
        (e: Error) =>
          e instanceof LmError &&
          ((e.message.startsWith('the download of onnx/model.onnx of test/tiny-gpt broke off: the connection to 127.0.0.1:') &&
            e.message.endsWith(`was lost (aborted); what arrived is kept in ${target}: run the command again to resume`)) ||
            /^onnx\/model\.onnx is incomplete: \d+ of \d+ bytes/.test(e.message)),
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

describe('LM: Download Model: precision variants', function () {
  this.timeout(60000);
  let dir: string;
  let hub: Awaited<ReturnType<typeof startTreeHub>>;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-hub-variants-'));
    hub = await startTreeHub(ONNX_FIXTURES);
  });
  after(() => {
    hub.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lists the variants a repository has, with their sizes, external data included', async () => {
    const files = [
      ...((await listRepoFolder({ baseUrl: hub.url, repo: 'test/tiny-llama' }, '')) ?? []),
      ...((await listRepoFolder({ baseUrl: hub.url, repo: 'test/tiny-llama' }, 'onnx')) ?? []),
    ];
    assert.ok(files.some((f) => f.path === 'config.json'));
    const variants = listedVariants(files);
    const onDisk = (...rel: string[]) => rel.reduce((sum, r) => sum + fs.statSync(path.join(ONNX_FIXTURES, 'tiny-llama', r)).size, 0);
    assert.deepStrictEqual(
      variants.map((v) => v.dtype),
      ['fp32', 'fp16', 'q4', 'q4f16', 'int8'],
    );
    const fp32 = variants.find((v) => v.dtype === 'fp32')!;
    assert.deepStrictEqual(fp32.dataFiles, ['onnx/model.onnx_data']);
    assert.strictEqual(fp32.bytes, onDisk('onnx/model.onnx', 'onnx/model.onnx_data'));
    assert.strictEqual(variants.find((v) => v.dtype === 'q4')!.bytes, onDisk('onnx/model_q4.onnx'));
    // A server without the listing (a plain mirror of resolve/ URLs): no list, the download takes the first graph it finds.
    assert.strictEqual(await listRepoFolder({ baseUrl: hub.url, repo: 'test/no-such-model' }, 'onnx'), undefined);
  });

  it('fetches the variant picked, the data files its graph names and the JSON files, nothing else; it loads and scores as the source', async () => {
    const target = path.join(dir, 'llama');
    hub.log.length = 0;
    await downloadModel({ baseUrl: hub.url, repo: 'test/tiny-llama', target, graph: 'onnx/model.onnx' });
    const fetched = hub.log.map((u) => u.replace('/test/tiny-llama/resolve/main/', '')).sort();
    assert.deepStrictEqual(fetched, [
      'config.json',
      'generation_config.json',
      'onnx/model.onnx',
      'onnx/model.onnx_data',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    const source = await loadModel(path.join(ONNX_FIXTURES, 'tiny-llama'), undefined, { dtype: { setting: 'fp32' } });
    const copy = await loadModel(target, undefined, { dtype: { setting: 'auto' } });
    try {
      assert.strictEqual(copy.info.precision, 'fp32');
      // Named by the repository's id, as Select Model lists it, not by its folder (drive14).
      assert.strictEqual(copy.info.name, 'test/tiny-llama');
      const ids = source.tokenizer.encode('The little café on the corner changed hands again.', true).map((t) => t.id);
      assert.deepStrictEqual(await copy.sequenceLogProbs(ids, 1), await source.sequenceLogProbs(ids, 1));
    } finally {
      source.dispose?.();
      copy.dispose?.();
    }
    assert.deepStrictEqual(listDownloadedModels(dir), [{ repo: 'test/tiny-llama', dir: target, legacy: false }]);

    hub.log.length = 0;
    await downloadModel({ baseUrl: hub.url, repo: 'test/tiny-qwen2', target: path.join(dir, 'qwen'), graph: 'onnx/model_q4.onnx' });
    assert.deepStrictEqual(
      hub.log.filter((u) => u.includes('/onnx/')),
      ['/test/tiny-qwen2/resolve/main/onnx/model_q4.onnx'],
    );
    await assert.rejects(
      downloadModel({ baseUrl: hub.url, repo: 'test/tiny-qwen2', target: path.join(dir, 'x'), graph: 'onnx/../../secret.onnx' }),
      /is not a graph file/,
    );
  });

  it('a download that fails into the folder of a complete model leaves that model whole and listed; one that adds a variant keeps the others', async () => {
    const target = path.join(dir, 'kept');
    await downloadModel({ baseUrl: hub.url, repo: 'test/tiny-llama', target, graph: 'onnx/model_int8.onnx' });
    const files = ['config.json', 'tokenizer.json', 'onnx/model_int8.onnx'];
    const before = new Map(files.map((f) => [f, fs.readFileSync(path.join(target, f))]));
    const state = fs.readFileSync(path.join(target, '.lmp-download.json'), 'utf8');
    // drive14 H1: the hub's address from another setting, which cannot be reached.
    const dead = http.createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const deadUrl = `http://127.0.0.1:${(dead.address() as { port: number }).port}`;
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    await assert.rejects(downloadModel({ baseUrl: deadUrl, repo: 'test/tiny-llama', target }), /cannot reach/);
    for (const [f, bytes] of before) assert.ok(fs.readFileSync(path.join(target, f)).equals(bytes), `${f} unchanged`);
    assert.ok(!fs.existsSync(path.join(target, 'config.json.part')), 'nothing moved aside');
    assert.strictEqual(fs.readFileSync(path.join(target, '.lmp-download.json'), 'utf8'), state);
    assert.ok(
      listDownloadedModels(dir).some((m) => m.dir === target),
      'still listed',
    );
    // Cancelled while adding another variant: the model that was there still loads.
    const abort = new AbortController();
    await assert.rejects(
      downloadModel({
        baseUrl: hub.url,
        repo: 'test/tiny-llama',
        target,
        graph: 'onnx/model_q4.onnx',
        signal: abort.signal,
        onProgress: (p) => p.file.endsWith('.onnx') && abort.abort(),
      }),
      CancelledError,
    );
    assert.ok(
      listDownloadedModels(dir).some((m) => m.dir === target),
      'still listed after the cancel',
    );
    const lm = await loadModel(target, undefined, { dtype: { setting: 'int8' } });
    lm.dispose?.();
    // Done: both variants are on record.
    await downloadModel({ baseUrl: hub.url, repo: 'test/tiny-llama', target, graph: 'onnx/model_q4.onnx' });
    const recorded = Object.keys(JSON.parse(fs.readFileSync(path.join(target, '.lmp-download.json'), 'utf8')).files);
    assert.ok(recorded.includes('onnx/model_int8.onnx') && recorded.includes('onnx/model_q4.onnx'), recorded.join(', '));
    fs.rmSync(target, { recursive: true }); // the next test counts the models in this folder
  });

  it('a repository whose name has dots (Qwen2.5-0.5B) is listed, fetched, loads and is listed by its id', async () => {
    const root = path.join(dir, 'dotted-hub');
    fs.mkdirSync(root, { recursive: true });
    fs.cpSync(path.join(ONNX_FIXTURES, 'tiny-qwen3'), path.join(root, 'Qwen2.5-tiny.v1'), { recursive: true });
    const dotted = await startTreeHub(root);
    const downloads = path.join(dir, 'dotted');
    try {
      const listed = (await listRepoFolder({ baseUrl: dotted.url, repo: 'test/Qwen2.5-tiny.v1' }, 'onnx')) ?? [];
      assert.ok(
        listed.some((f) => f.path === 'onnx/model_q4.onnx'),
        JSON.stringify(listed),
      );
      const target = path.join(downloads, repoFolderName('test/Qwen2.5-tiny.v1'));
      await downloadModel({
        baseUrl: dotted.url,
        repo: 'test/Qwen2.5-tiny.v1',
        target,
        graph: 'onnx/model_q4.onnx',
        verify: async (d) => (await loadModel(d, undefined, { dtype: { setting: 'q4' } })).dispose?.(),
      });
      assert.deepStrictEqual(listDownloadedModels(downloads), [{ repo: 'test/Qwen2.5-tiny.v1', dir: target, legacy: false }]);
    } finally {
      dotted.close();
    }
  });

  it('whole files that do not load are removed, so that a retry fetches them again; beside a model only the files added go (hostile13 L4)', async () => {
    const root = path.join(dir, 'hub');
    const repo = path.join(root, 'short');
    fs.cpSync(path.join(ONNX_FIXTURES, 'tiny-llama'), repo, { recursive: true });
    // The hub lists and serves the short file as it is: every byte it announces arrives.
    fs.truncateSync(path.join(repo, 'onnx', 'model.onnx_data'), 200_000);
    const short = await startTreeHub(root);
    const verify = (dtype: DtypeSetting) => async (d: string) => (await loadModel(d, undefined, { dtype: { setting: dtype } })).dispose?.();
    try {
      const target = path.join(dir, 'short');
      for (let attempt = 0; attempt < 2; attempt++) {
        short.log.length = 0;
        await assert.rejects(
          downloadModel({ baseUrl: short.url, repo: 'test/short', target, graph: 'onnx/model.onnx', verify: verify('fp32') }),
          (e: Error) => {
            assert.ok(e instanceof LmError, String(e));
            assert.match(e.message, /^test\/short does not load as a model: .*model\.onnx_data/);
            assert.doesNotMatch(e.message, /download it again/, 'no advice the message itself contradicts');
            assert.match(e.message, /the hub's copy itself is at fault: .*choose another precision or repository\. The downloaded files were removed/);
            return true;
          },
        );
        assert.ok(!fs.existsSync(target), `attempt ${attempt}: nothing left in the downloads' folder`);
        assert.ok(
          short.log.some((u) => u.endsWith('/onnx/model.onnx_data')),
          `attempt ${attempt}: the data file was requested (no dead end): ${short.log.join(', ')}`,
        );
      }
      // Beside a complete model (int8), the broken variant's files go and the model stays.
      const kept = path.join(dir, 'kept-short');
      await downloadModel({ baseUrl: short.url, repo: 'test/short', target: kept, graph: 'onnx/model_int8.onnx', verify: verify('int8') });
      await assert.rejects(
        downloadModel({ baseUrl: short.url, repo: 'test/short', target: kept, graph: 'onnx/model.onnx', verify: verify('fp32') }),
        /the model that was in the folder is as it was/,
      );
      assert.ok(!fs.existsSync(path.join(kept, 'onnx', 'model.onnx')) && !fs.existsSync(path.join(kept, 'onnx', 'model.onnx_data')));
      assert.ok(listDownloadedModels(dir).some((m) => m.dir === kept));
      (await loadModel(kept, undefined, { dtype: { setting: 'auto' } })).dispose?.();
      fs.rmSync(kept, { recursive: true }); // the next test counts the models in this folder
    } finally {
      short.close();
    }
  });

  it('a data file the graph names but the hub lacks stops the download, naming it', async () => {
    const root = path.join(dir, 'hub');
    fs.cpSync(path.join(ONNX_FIXTURES, 'tiny-llama'), path.join(root, 'broken'), { recursive: true });
    fs.rmSync(path.join(root, 'broken', 'onnx', 'model.onnx_data'));
    const broken = await startTreeHub(root);
    try {
      await assert.rejects(
        downloadModel({ baseUrl: broken.url, repo: 'test/broken', target: path.join(dir, 'broken'), graph: 'onnx/model.onnx' }),
        /test\/broken has no onnx\/model\.onnx_data .*\(404\)/,
      );
      assert.deepStrictEqual(
        listDownloadedModels(dir).map((m) => m.repo),
        ['test/tiny-llama', 'test/tiny-qwen2'],
      );
    } finally {
      broken.close();
    }
  });
});
