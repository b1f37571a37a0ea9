/**
 * Fault injection: a hub on 127.0.0.1 that lies (sizes, ranges, 416, endless bodies, silence,
 * redirects). Each case ends in a clear error or a correct file, within bounded time and bytes:
 * the caps and timeouts are set low here, and the servers count what they send.
 */
import * as assert from 'assert';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { CancelledError, LmError } from '../../../src/core/errors';
import {
  DEFAULT_MAX_DOWNLOAD_BYTES,
  DOWNLOAD_STATE_FILE,
  MAX_CONFIG_FILE_BYTES,
  MAX_REDIRECTS,
  MAX_TOKENIZER_FILE_BYTES,
  MIN_MAX_DOWNLOAD_BYTES,
  clampMaxDownloadBytes,
  downloadModel,
  listDownloadedModels,
  repoFolderName,
  validateRepoId,
  type DownloadOptions,
} from '../../../src/node/hubDownload';
import { MAX_CONFIG_JSON_BYTES, MAX_TOKENIZER_JSON_BYTES } from '../../../src/node/neuralLoader';

const REPO_ID = 'test/lying';
const GRAPH = 'onnx/model.onnx';

/** A small repository made at run time: two JSON files and a random "graph". */
function repoFiles(): Record<string, Buffer> {
  return { 'config.json': Buffer.from('{"model_type":"gpt2"}'), 'tokenizer.json': Buffer.from('{"model":{}}'), [GRAPH]: crypto.randomBytes(200_000) };
}

/** Returns true when it answered the request (or keeps it waiting); false lets the hub answer honestly. */
type Handler = (req: http.IncomingMessage, res: http.ServerResponse, file: string, data: Buffer | undefined) => boolean;

interface Hub {
  url: string;
  /** Requests as `FILE RANGE`. */
  log: string[];
  /** Body bytes the server wrote. */
  sent: () => number;
  /** Resolves at the next request for `file`. */
  requested: (file: string) => Promise<void>;
  /** Connections still open. */
  open: () => number;
  close: () => Promise<void>;
}

/** Serves `files` correctly (200, or 206 with Content-Range), except where `lie` handles a request. */
async function startHub(files: Record<string, Buffer>, lie?: Handler): Promise<Hub> {
  const log: string[] = [];
  let sent = 0;
  const waiters: { file: string; resolve: () => void }[] = [];
  const server = http.createServer((req, res) => {
    const write = res.write.bind(res);
    res.write = ((chunk: Buffer, ...rest: never[]) => {
      sent += chunk.length;
      return write(chunk, ...rest);
    }) as typeof res.write;
    const m = /^\/test\/lying\/resolve\/main\/(.+)$/.exec(req.url ?? '');
    const file = m ? decodeURIComponent(m[1]) : (req.url ?? '');
    log.push(`${file} ${req.headers.range ?? ''}`.trim());
    for (const w of waiters.filter((x) => x.file === file)) w.resolve();
    const data = files[file];
    if (lie?.(req, res, file, data)) return;
    if (!data) return void res.writeHead(404).end('not found');
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    if (range && start >= data.length) return void res.writeHead(416, { 'content-range': `bytes */${data.length}` }).end();
    res.writeHead(range ? 206 : 200, {
      'content-length': String(data.length - start),
      ...(range ? { 'content-range': `bytes ${start}-${data.length - 1}/${data.length}` } : {}),
    });
    res.write(data.subarray(start));
    res.end();
  });
  const sockets = new Set<import('net').Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    log,
    sent: () => sent,
    requested: (file) => new Promise((resolve) => waiters.push({ file, resolve })),
    open: () => sockets.size,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

async function waitFor(condition: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('faults: a hub that lies', function () {
  this.timeout(20000);
  let dir: string;
  let hub: Hub | undefined;
  let files: Record<string, Buffer>;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-hub-faults-'));
    files = repoFiles();
  });
  afterEach(async () => {
    await hub?.close();
    hub = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const target = () => path.join(dir, repoFolderName(REPO_ID));
  const options = (extra: Partial<DownloadOptions> = {}): DownloadOptions => ({ baseUrl: hub!.url, repo: REPO_ID, target: target(), ...extra });
  const graphOnDisk = () => fs.readFileSync(path.join(target(), GRAPH));
  const writePart = (bytes: Buffer) => {
    fs.mkdirSync(path.join(target(), 'onnx'), { recursive: true });
    fs.writeFileSync(path.join(target(), `${GRAPH}.part`), bytes);
  };

  it('416 on resume: the partial file is discarded and the file fetched again from byte 0', async () => {
    hub = await startHub(files);
    // A partial file longer than the hub's file (e.g. the file changed): the resume gets 416.
    writePart(Buffer.concat([files[GRAPH].subarray(0, 150_000), crypto.randomBytes(100_000)]));
    await downloadModel(options());
    assert.ok(graphOnDisk().equals(files[GRAPH]), 'the file is the hub file, not the stale partial one');
    assert.deepStrictEqual(
      hub.log.filter((l) => l.startsWith(GRAPH)),
      [`${GRAPH} bytes=250000-`, GRAPH],
    );
  });

  it('206 that does not start where the partial file ends: fetched again from byte 0, never spliced', async () => {
    let lied = false;
    hub = await startHub(files, (req, res, file, data) => {
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      if (file !== GRAPH || !range || !data || lied) return false;
      lied = true;
      // "Partial content" from byte 0, sized as the rest the client asked for: right size, wrong bytes.
      const n = data.length - Number(range[1]);
      res.writeHead(206, { 'content-length': String(n), 'content-range': `bytes 0-${n - 1}/${data.length}` });
      res.end(data.subarray(0, n));
      return true;
    });
    writePart(files[GRAPH].subarray(0, 50_000));
    await downloadModel(options());
    assert.ok(graphOnDisk().equals(files[GRAPH]));
    assert.deepStrictEqual(
      hub.log.filter((l) => l.startsWith(GRAPH)),
      [`${GRAPH} bytes=50000-`, GRAPH],
    );
  });

  it('206 without Content-Range: fetched again from byte 0', async () => {
    let lied = false;
    hub = await startHub(files, (req, res, file, data) => {
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      if (file !== GRAPH || !range || !data || lied) return false;
      lied = true;
      const n = data.length - Number(range[1]);
      res.writeHead(206, { 'content-length': String(n) });
      res.end(data.subarray(0, n));
      return true;
    });
    writePart(files[GRAPH].subarray(0, 50_000));
    await downloadModel(options());
    assert.ok(graphOnDisk().equals(files[GRAPH]));
    assert.deepStrictEqual(
      hub.log.filter((l) => l.startsWith(GRAPH)),
      [`${GRAPH} bytes=50000-`, GRAPH],
    );
  });

  it('a file that changed on the hub between two attempts (another total): fetched again from byte 0, never spliced', async () => {
    const before = files[GRAPH];
    let breakOff = true;
    hub = await startHub(files, (req, res, file, data) => {
      if (file !== GRAPH || !data || !breakOff) return false;
      breakOff = false;
      res.writeHead(200, { 'content-length': String(data.length) });
      // Destroyed once the bytes are handed to the socket, so that the client gets them.
      res.write(data.subarray(0, 50_000), () => res.destroy());
      return true;
    });
    await assert.rejects(downloadModel(options()), /broke off/);
    assert.strictEqual(fs.statSync(path.join(target(), `${GRAPH}.part`)).size, 50_000);
    files[GRAPH] = crypto.randomBytes(210_000); // the server answers the resume honestly, for the new file
    await downloadModel(options());
    assert.ok(graphOnDisk().equals(files[GRAPH]), 'the new file, whole');
    assert.ok(!graphOnDisk().subarray(0, 50_000).equals(before.subarray(0, 50_000)));
    assert.deepStrictEqual(
      hub.log.filter((l) => l.startsWith(GRAPH)),
      [GRAPH, `${GRAPH} bytes=50000-`, GRAPH],
    );
  });

  it('a body shorter than its Content-Length: a clear error, the partial file kept for a resume, nothing listed', async () => {
    let lied = false;
    hub = await startHub(files, (_req, res, file, data) => {
      if (file !== GRAPH || !data || lied) return false;
      lied = true;
      res.writeHead(200, { 'content-length': String(data.length) });
      // Destroyed once the bytes are handed to the socket, so that the client gets them.
      res.write(data.subarray(0, 1000), () => res.destroy());
      return true;
    });
    await assert.rejects(
      downloadModel(options()),
      (e: Error) =>
        e instanceof LmError &&
        /model\.onnx of test\/lying broke off: the connection to .* was lost .*; what arrived is kept in .*: run the command again to resume/.test(e.message),
    );
    assert.deepStrictEqual(listDownloadedModels(dir), []);
    await downloadModel(options()); // the honest answer to the resume completes it
    assert.ok(graphOnDisk().equals(files[GRAPH]));
    assert.deepStrictEqual(
      listDownloadedModels(dir).map((m) => m.repo),
      [REPO_ID],
    );
  });

  it('a body without Content-Length cut off mid-way is not taken for a whole file', async () => {
    let lied = false;
    hub = await startHub(files, (_req, res, file, data) => {
      if (file !== GRAPH || !data || lied) return false;
      lied = true;
      res.writeHead(200); // chunked, no size
      // Destroyed once the bytes are handed to the socket, so that the client gets them.
      res.write(data.subarray(0, 30_000), () => res.destroy());
      return true;
    });
    await assert.rejects(downloadModel(options()), (e: Error) => e instanceof LmError && /model\.onnx of test\/lying broke off/.test(e.message));
    assert.ok(!fs.existsSync(path.join(target(), GRAPH)));
    assert.deepStrictEqual(listDownloadedModels(dir), []);
  });

  it('an endless body without Content-Length stops at the per-file cap; the partial file is deleted', async () => {
    hub = await startHub(files, (_req, res, file) => {
      if (file !== GRAPH) return false;
      res.writeHead(200); // chunked, no size
      const chunk = Buffer.alloc(64 * 1024, 7);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      res.on('close', () => res.removeAllListeners('drain'));
      pump();
      return true;
    });
    const cap = 1024 * 1024;
    await assert.rejects(
      downloadModel(options({ maxFileBytes: cap })),
      (e: Error) => e instanceof LmError && /onnx\/model\.onnx of test\/lying is larger than the 1\.0 MiB limit/.test(e.message),
    );
    assert.ok(hub.sent() < cap + 8 * 1024 * 1024, `the server got to send ${hub.sent()} bytes`);
    assert.ok(!fs.existsSync(path.join(target(), `${GRAPH}.part`)));
    assert.deepStrictEqual(listDownloadedModels(dir), []);
  });

  it('the total cap counts every file of the model; an announced size above it is refused before any byte', async () => {
    hub = await startHub(files);
    const jsonBytes = files['config.json'].length + files['tokenizer.json'].length;
    const progress: string[] = [];
    await assert.rejects(
      downloadModel(options({ maxTotalBytes: jsonBytes + 100_000, onProgress: (p) => progress.push(p.file) })),
      /test\/lying is larger than the download limit of 0\.1 MiB \(lmPlayground\.hub\.maxDownloadBytes\)/,
    );
    assert.ok(!progress.includes(GRAPH), 'no byte of the graph was taken');
    assert.ok(!fs.existsSync(path.join(target(), `${GRAPH}.part`)));
  });

  it('a silent server: no headers, or headers and then no bytes, time out with a clear error', async () => {
    hub = await startHub(files, (_req, _res, file) => file === 'config.json');
    const started = Date.now();
    await assert.rejects(
      downloadModel(options({ connectTimeoutMs: 300 })),
      (e: Error) => e instanceof LmError && /no answer from 127\.0\.0\.1:\d+ within 0\.3 s/.test(e.message),
    );
    assert.ok(Date.now() - started < 10_000);
    await hub.close();
    hub = await startHub(files, (_req, res, file) => {
      if (file !== GRAPH) return false;
      res.writeHead(200, { 'content-length': '200000' });
      res.write(Buffer.alloc(10));
      return true;
    });
    await assert.rejects(
      downloadModel(options({ idleTimeoutMs: 300 })),
      (e: Error) => e instanceof LmError && /sent no data for 0\.3 s while downloading onnx\/model\.onnx/.test(e.message),
    );
  });

  it('cancel aborts at once, also while the server says nothing; a second download into the same folder is refused meanwhile', async () => {
    hub = await startHub(files, (_req, _res, file) => file === GRAPH);
    const abort = new AbortController();
    const silent = hub.requested(GRAPH);
    const download = downloadModel(options({ signal: abort.signal, connectTimeoutMs: 60_000, idleTimeoutMs: 60_000 }));
    await silent;
    await assert.rejects(downloadModel(options()), /test\/lying is already being downloaded into/);
    const cancelledAt = Date.now();
    abort.abort();
    await assert.rejects(download, CancelledError);
    assert.ok(Date.now() - cancelledAt < 5_000, 'the cancel did not wait for the server');
    assert.deepStrictEqual(listDownloadedModels(dir), []);
  });

  it('redirects: a bounded number, http and https only', async () => {
    hub = await startHub(files, (req, res, file) => file === 'config.json' && !!res.writeHead(302, { location: req.url }).end());
    await assert.rejects(downloadModel(options()), new RegExp(`redirected more than ${MAX_REDIRECTS} times`));
    assert.strictEqual(hub.log.filter((l) => l === 'config.json').length, MAX_REDIRECTS + 1);
    await hub.close();
    hub = await startHub(files, (_req, res, file) => file === 'tokenizer.json' && !!res.writeHead(302, { location: 'file:///etc/passwd' }).end());
    await assert.rejects(downloadModel(options()), /redirected to a file: address; only http and https are followed/);
    await assert.rejects(downloadModel(options({ baseUrl: 'file:///etc' })), /must be http or https/);
  });

  it('a redirect whose body never ends is closed at once: no bytes received after it, no connection left open', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'r');
    // The lie serves config.json at its query-string address too.
    hub = await startHub({ ...files, 'config.json?moved': files['config.json'] }, (_req, res, file) => {
      if (file !== 'config.json') return false;
      res.writeHead(302, { location: `${res.req.url}?moved` });
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
      return true;
    });
    await downloadModel(options());
    const sentAtEnd = hub.sent();
    // Once the download is over, the server sees every connection closed (no keep-alive reuse of a redirect's body).
    await waitFor(() => hub!.open() === 0, 5_000);
    assert.ok(hub.sent() - sentAtEnd < 4 * 2 ** 20, `${hub.sent() - sentAtEnd} bytes sent after the download ended`);
    assert.ok(hub.sent() < 32 * 2 ** 20, `${hub.sent()} bytes sent in all`);
  });

  it('a body that trickles (never idle long enough to time out) is given up on below the minimum rate', async () => {
    let timer: NodeJS.Timeout | undefined;
    hub = await startHub(files, (_req, res, file) => {
      if (file !== GRAPH) return false;
      res.writeHead(200, { 'content-length': '200000' });
      timer = setInterval(() => res.write(Buffer.alloc(1)), 50);
      res.on('close', () => clearInterval(timer));
      return true;
    });
    const started = Date.now();
    await assert.rejects(
      downloadModel(options({ idleTimeoutMs: 1_000, rateWindowMs: 400, minBytesPerSecond: 100 })),
      (e: Error) => e instanceof LmError && /sent only \d+ bytes of onnx\/model\.onnx in 0\.4 s, less than 100 bytes per second/.test(e.message),
    );
    clearInterval(timer);
    assert.ok(Date.now() - started < 5_000);
    assert.ok(fs.existsSync(path.join(target(), `${GRAPH}.part`)), 'kept for a resume');
  });

  it("JSON files have the loader's limits: tokenizer.json above it is refused by the hub before any byte", async () => {
    assert.strictEqual(MAX_TOKENIZER_FILE_BYTES, MAX_TOKENIZER_JSON_BYTES);
    assert.strictEqual(MAX_CONFIG_FILE_BYTES, MAX_CONFIG_JSON_BYTES);
    for (const [file, limit] of [
      ['tokenizer.json', MAX_TOKENIZER_JSON_BYTES],
      ['config.json', MAX_CONFIG_JSON_BYTES],
    ] as const) {
      hub = await startHub(files, (_req, res, f) => f === file && !!res.writeHead(200, { 'content-length': String(limit + 1) }).end());
      await assert.rejects(
        downloadModel(options()),
        (e: Error) => e instanceof LmError && e.message.startsWith(`${file} of test/lying is larger than the ${(limit / 2 ** 20).toFixed(1)} MiB limit`),
      );
      assert.ok(hub.sent() < 1000);
      await hub.close();
    }
    hub = undefined;
  });

  it('the maxDownloadBytes setting is taken as at least 1 MiB, and the default when it is not a positive integer', () => {
    assert.strictEqual(clampMaxDownloadBytes(1), MIN_MAX_DOWNLOAD_BYTES);
    assert.strictEqual(clampMaxDownloadBytes(MIN_MAX_DOWNLOAD_BYTES + 1), MIN_MAX_DOWNLOAD_BYTES + 1);
    for (const bad of [undefined, 0, -5, 1.5, NaN, Infinity]) assert.strictEqual(clampMaxDownloadBytes(bad), DEFAULT_MAX_DOWNLOAD_BYTES);
  });

  it('a download whose test load fails is not listed; a verified one is', async () => {
    hub = await startHub(files);
    await assert.rejects(
      downloadModel(
        options({
          verify: async () => {
            throw new LmError('does not load');
          },
        }),
      ),
      /does not load/,
    );
    assert.deepStrictEqual(listDownloadedModels(dir), []);
    await downloadModel(options({ verify: async () => undefined }));
    assert.deepStrictEqual(listDownloadedModels(dir), [{ repo: REPO_ID, dir: target(), legacy: false }]);
    // A verified file that changes afterwards takes the folder out of the list.
    fs.appendFileSync(path.join(target(), GRAPH), 'x');
    assert.deepStrictEqual(listDownloadedModels(dir), []);
  });

  it('folders of earlier versions stay listed when whole, and a new download of the id verifies them', async () => {
    const legacy = path.join(dir, 'test__lying');
    for (const [f, data] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(legacy, f)), { recursive: true });
      // The earlier version could leave a truncated graph in place (416 on resume).
      fs.writeFileSync(path.join(legacy, f), f === GRAPH ? data.subarray(0, 120_000) : data);
    }
    fs.mkdirSync(path.join(dir, 'other__partial', 'onnx'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'other__partial', 'config.json'), '{}');
    fs.writeFileSync(path.join(dir, 'other__partial', 'tokenizer.json'), '{}');
    fs.writeFileSync(path.join(dir, 'other__partial', 'onnx', 'model_quantized.onnx'), 'x');
    fs.writeFileSync(path.join(dir, 'other__partial', `${GRAPH}.part`), 'x');
    assert.deepStrictEqual(listDownloadedModels(dir), [{ repo: REPO_ID, dir: legacy, legacy: true }]);
    assert.strictEqual(target(), legacy, 'ids without runs of underscores keep their folder');
    hub = await startHub(files);
    await downloadModel(options());
    assert.ok(graphOnDisk().equals(files[GRAPH]), 'the truncated graph was completed, not trusted');
    assert.deepStrictEqual(listDownloadedModels(dir), [{ repo: REPO_ID, dir: legacy, legacy: false }]);
    assert.ok(fs.existsSync(path.join(legacy, DOWNLOAD_STATE_FILE)));
  });
});

describe('faults: one folder per repository id', () => {
  /** The inverse of repoFolderName: where it gives every id back, no two ids can share a folder. */
  const repoIdFromFolderName = (folder: string) => {
    const sep = folder.indexOf('__');
    const decode = (p: string) => p.replace(/%([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
    return `${decode(folder.slice(0, sep))}/${decode(folder.slice(sep + 2))}`;
  };

  it('a/b__c and a__b/c get different folders, and each folder name gives its id back', () => {
    const ids = ['a/b__c', 'a__b/c', 'a_/_b', 'a/__b', 'a__/b', 'a/b_', 'a_/b', 'x/y.', 'nul.x/y', 'Xenova/distilgpt2', 'a_b/c_d'];
    const folders = ids.map(repoFolderName);
    assert.strictEqual(new Set(folders).size, ids.length, folders.join(' '));
    for (const [i, id] of ids.entries()) assert.strictEqual(repoIdFromFolderName(folders[i]), id);
    assert.strictEqual(repoFolderName('Xenova/distilgpt2'), 'Xenova__distilgpt2', 'unchanged for ordinary ids (earlier downloads stay where they are)');
    for (const f of folders) {
      assert.match(f, /^[A-Za-z0-9._%-]+$/, f);
      assert.ok(!f.endsWith('.'), f);
      assert.ok(!/^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/i.test(f), f);
    }
  });

  it('refuses "." and ".." as names and ids longer than the hub allows, with an LmError (no ENAMETOOLONG)', () => {
    for (const id of ['a/.', 'a/..', 'a/../b', './a'])
      assert.throws(
        () => repoFolderName(id),
        (e: unknown) => e instanceof LmError && /is not a Hugging Face repository id/.test(e.message),
        id,
      );
    assert.throws(
      () => validateRepoId(`a/${'b'.repeat(300)}`),
      (e: unknown) => e instanceof LmError && /its name has 300 characters, more than 96/.test(e.message),
    );
    assert.throws(
      () => validateRepoId(`${'o'.repeat(97)}/b`),
      (e: unknown) => e instanceof LmError && /its owner has 97 characters, more than 96/.test(e.message),
    );
    assert.strictEqual(validateRepoId(`${'o'.repeat(96)}/${'b'.repeat(96)}`), `${'o'.repeat(96)}/${'b'.repeat(96)}`);
    // The longest ids fit a folder name, unless escaping makes them too long: then a clear error too.
    assert.ok(repoFolderName(`${'o'.repeat(96)}/${'b'.repeat(96)}`).length <= 255);
    assert.throws(
      () => repoFolderName(`${'o'.repeat(96)}/${'_'.repeat(96)}`),
      (e: unknown) => e instanceof LmError && /more than the 255 a file system takes/.test(e.message),
    );
  });

  it('a 300-character id reaches downloadModel as an LmError before any folder is made', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-hub-id-'));
    try {
      await assert.rejects(downloadModel({ baseUrl: 'http://127.0.0.1:9', repo: `a/${'b'.repeat(300)}`, target: path.join(dir, 'x') }), LmError);
      assert.deepStrictEqual(fs.readdirSync(dir), []);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('random ids over a small alphabet never share a folder', () => {
    const alphabet = ['a', '_', '.', '-'];
    const pick = (n: number, first: string[]) =>
      first[Math.floor(Math.random() * first.length)] + Array.from({ length: n }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join('');
    const seen = new Map<string, string>();
    for (let i = 0; i < 5000; i++) {
      const id = `${pick(Math.floor(Math.random() * 4), ['a'])}/${pick(Math.floor(Math.random() * 4), alphabet)}`;
      if (id.includes('..') || id.endsWith('/.')) continue;
      const f = repoFolderName(id);
      const other = seen.get(f);
      assert.ok(other === undefined || other === id, `${id} and ${other} share ${f}`);
      seen.set(f, id);
      assert.strictEqual(repoIdFromFolderName(f), id);
    }
  });
});
