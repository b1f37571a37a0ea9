/**
 * Trust: what a workspace and a webview page may make the extension do.
 *
 * Workspace trust: a cloned repository's `.vscode/settings.json` must not point the extension at
 * files or hosts. Every setting whose name, format or description says it is a path, a URL, a host
 * or a download limit is restricted in untrusted workspaces and scoped so that a workspace cannot
 * set it (or, for the listed exceptions, only a trusted one can).
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { LmError } from '../../../src/core/errors';
import { MAX_MODEL_BYTES, MAX_ONNX_GRAPH_BYTES } from '../../../src/core/modelLimits';
import { MAX_CONFIG_JSON_BYTES, MAX_TOKENIZER_JSON_BYTES } from '../../../src/node/neuralLoader';
import { openOptions, recognizeModel } from '../../../src/node/modelLoader';
import {
  answerFileRead,
  fileNamesForPage,
  modelFilesForPage,
  PAGE_FILE_PIECE_BYTES,
  pageResourceRoots,
  readModelFileForPage,
  type PageModelFiles,
} from '../../../src/vscode/pageModelFiles';
import { PieceRequests, receiveModelFiles } from '../../../src/webview/filePieces';
import { WebviewHosts } from '../../../src/vscode/webviewHosts';
import type { DtypeRequest } from '../../../src/core/neural/onnxVariants';
import { ONNX_FIXTURES, REPO } from '../helpers';

interface SettingSchema {
  scope?: string;
  format?: string;
  description?: string;
  markdownDescription?: string;
}

const manifest = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, SettingSchema> } };
  capabilities?: { untrustedWorkspaces?: { supported: boolean | 'limited'; restrictedConfigurations?: string[] } };
};
const settings = manifest.contributes.configuration.properties;

/** The files a page may read of the model `spec`, as the playground offers them. */
function pageFiles(spec: string, embeddedDir: string, dtype: DtypeRequest): PageModelFiles {
  const model = recognizeModel(spec, embeddedDir);
  return modelFilesForPage(model, openOptions(model, { dtype }));
}

/** Settings that point the product at files, hosts or the disk it may fill. */
function pointsOutside(name: string, s: SettingSchema): boolean {
  const text = `${s.description ?? ''} ${s.markdownDescription ?? ''}`;
  return (
    s.format === 'uri' ||
    /(url|uri|host|endpoint|server|proxy|path|dir|folder|file|model|download\w*)$/i.test(name) ||
    /\b(path|URL|URI|host(name)?|endpoint|server|mirror|proxy)s?\b/i.test(text)
  );
}

/**
 * A trusted workspace may pin the model it is about (an embedded name or a model in the
 * repository); an untrusted one cannot, being restricted. Window-scoped (the default), not
 * `machine-overridable`: in a remote window such as code-server's, VS Code ignores a
 * machine-overridable setting in the User settings ("cannot be applied in this window") and routes
 * Select Model's writes to the remote settings, so the user could not choose the model where they
 * edit settings.
 */
const WORKSPACE_MAY_CHOOSE = new Set(['lmPlayground.model']);

describe('workspace trust: settings that point at files or hosts', () => {
  const flagged = Object.entries(settings).filter(([name, s]) => pointsOutside(name, s));

  it('recognises the known ones (the check is not vacuous)', () => {
    const names = flagged.map(([n]) => n);
    for (const known of ['lmPlayground.model', 'lmPlayground.hub.baseUrl', 'lmPlayground.hub.maxDownloadBytes']) assert.ok(names.includes(known), known);
  });

  it('restricts every one of them in untrusted workspaces', () => {
    const trust = manifest.capabilities?.untrustedWorkspaces;
    assert.strictEqual(trust?.supported, 'limited');
    const restricted = new Set(trust?.restrictedConfigurations ?? []);
    const missing = flagged.map(([n]) => n).filter((n) => !restricted.has(n));
    assert.deepStrictEqual(missing, [], 'add these to capabilities.untrustedWorkspaces.restrictedConfigurations');
    for (const n of restricted) assert.ok(settings[n], `restricted setting ${n} is not declared`);
  });

  it('scopes every one of them to the user or the machine', () => {
    const wrong = flagged
      .filter(([name, s]) => !(s.scope === 'machine' || s.scope === 'application' || (s.scope === undefined && WORKSPACE_MAY_CHOOSE.has(name))))
      .map(([name, s]) => `${name}: ${s.scope ?? 'window (default)'}`);
    assert.deepStrictEqual(wrong, [], 'give these "scope": "machine" or "application"');
  });
});

describe('webview pages: resource roots and model files', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-pages-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("the resource roots are the extension's dist/webview and dist/ort, never a model's folder", () => {
    const ext = path.join(dir, 'extension');
    assert.deepStrictEqual(pageResourceRoots(ext), [path.join(ext, 'dist', 'webview'), path.join(ext, 'dist', 'ort')]);
  });

  it('an n-gram file in a folder of other files: the page may read that file and nothing beside it', async () => {
    const downloads = path.join(dir, 'Downloads');
    fs.mkdirSync(downloads);
    const model = path.join(downloads, 'my.arpa');
    fs.writeFileSync(model, '\\data\\\nngram 1=1\n\n\\1-grams:\n-1.0\t<unk>\n\n\\end\\\n');
    fs.writeFileSync(path.join(downloads, 'secret.txt'), 'do not read');
    const files = pageFiles(model, path.join(dir, 'no-embedded'), { setting: 'fp32' });
    assert.deepStrictEqual(files, { backend: 'ngram', files: { file: { path: model, name: 'my.arpa', maxBytes: MAX_MODEL_BYTES } } });
    assert.ok(Buffer.from((await readModelFileForPage(files, 'file')).bytes).equals(fs.readFileSync(model)));
    for (const name of ['secret.txt', '../secret.txt', path.join(downloads, 'secret.txt'), 'onnx', '__proto__', 'constructor', 'toString']) {
      await assert.rejects(readModelFileForPage(files, name), (e: Error) => e instanceof LmError && /not a file of this model/.test(e.message), name);
    }
  });

  it('a neural model folder: exactly its JSON files and graph', async () => {
    const embedded = path.join(REPO, 'models');
    const m = pageFiles('gpt-classics', embedded, { setting: 'fp32' });
    const folder = path.join(embedded, 'gpt-classics');
    const file = (name: string, maxBytes: number) => ({ path: path.join(folder, name), name, maxBytes });
    const expected: PageModelFiles['files'] = {
      config: file('config.json', MAX_CONFIG_JSON_BYTES),
      tokenizer: file('tokenizer.json', MAX_TOKENIZER_JSON_BYTES),
      tokenizerConfig: file('tokenizer_config.json', MAX_CONFIG_JSON_BYTES),
      generationConfig: file('generation_config.json', MAX_CONFIG_JSON_BYTES),
      onnx: file('onnx/model_quantized.onnx', MAX_ONNX_GRAPH_BYTES),
    };
    assert.deepStrictEqual(m, { backend: 'onnx', files: expected, runtime: 'onnxruntime-web' });
    // The package ships only the embedded model's int8 graph; by name it runs int8 in a checkout too, by path the dtype setting holds.
    assert.strictEqual(pageFiles(folder, embedded, { setting: 'fp32' }).files.onnx.path, path.join(folder, 'onnx', 'model.onnx'));
    // A graph with external data: each data file is a file the page may read, by the location the graph names.
    const llama = pageFiles(path.join(ONNX_FIXTURES, 'tiny-llama'), embedded, { setting: 'fp32' });
    assert.deepStrictEqual(llama.files['data:model.onnx_data'], {
      path: path.join(ONNX_FIXTURES, 'tiny-llama', 'onnx', 'model.onnx_data'),
      name: 'onnx/model.onnx_data',
      maxBytes: MAX_ONNX_GRAPH_BYTES,
    });
    const config = JSON.parse(Buffer.from((await readModelFileForPage(m, 'config')).bytes).toString('utf8'));
    assert.strictEqual(typeof config, 'object');
  });

  it('a file above its limit is refused before it is read', async () => {
    const big = path.join(dir, 'config.json');
    fs.writeFileSync(big, '');
    fs.truncateSync(big, MAX_CONFIG_JSON_BYTES + 1); // sparse: nothing is written
    const model = { backend: 'onnx', files: { config: { path: big, name: 'config.json', maxBytes: MAX_CONFIG_JSON_BYTES } } };
    await assert.rejects(readModelFileForPage(model, 'config'), /above the 1 MiB limit/);
  });

  it('a file read in pieces (as the playground asks, one piece per message) is the file, and each piece says its size', async () => {
    const data = path.join(ONNX_FIXTURES, 'tiny-llama', 'onnx', 'model.onnx_data');
    const whole = fs.readFileSync(data);
    const model = { backend: 'onnx', files: { data: { path: data, name: 'onnx/model.onnx_data', maxBytes: MAX_ONNX_GRAPH_BYTES } } };
    const piece = 100_003; // not a divisor of the size: the last piece is short
    const parts: Buffer[] = [];
    for (let at = 0; at < whole.length;) {
      const p = await readModelFileForPage(model, 'data', at, piece);
      assert.strictEqual(p.size, whole.length);
      assert.ok(p.bytes.byteLength <= piece && p.bytes.byteLength > 0);
      parts.push(Buffer.from(p.bytes));
      at += p.bytes.byteLength;
    }
    assert.ok(parts.length > 1, `${parts.length} pieces`);
    assert.ok(Buffer.concat(parts).equals(whole));
    // At the end: nothing more, still the size; past it (the file shrank since the last piece), or not a whole number: refused.
    assert.deepStrictEqual(await readModelFileForPage(model, 'data', whole.length, piece), { bytes: new ArrayBuffer(0), size: whole.length });
    await assert.rejects(
      readModelFileForPage(model, 'data', whole.length + 1, piece),
      (e: Error) =>
        e instanceof LmError && e.message === `${data} changed while it was read (${whole.length} bytes now, ${whole.length + 1} read before): run again`,
    );
    for (const bad of [-1, 1.5, Number.NaN])
      await assert.rejects(readModelFileForPage(model, 'data', bad, piece), (e: Error) => e instanceof LmError && /outside its/.test(e.message), String(bad));
  });
  it("a relay page's load: the page asks for each file piece by piece, at most 64 MiB a message, and puts them together; nothing else is read", async () => {
    // 100 MiB and some: two full pieces' worth and a short one; marks at the ends and at a piece's edge.
    const data = path.join(dir, 'model.onnx_data');
    const size = 100 * 2 ** 20 + 5;
    fs.writeFileSync(data, '');
    fs.truncateSync(data, size);
    const fd = fs.openSync(data, 'r+');
    for (const [at, byte] of [
      [0, 1],
      [PAGE_FILE_PIECE_BYTES - 1, 2],
      [PAGE_FILE_PIECE_BYTES, 3],
      [size - 1, 4],
    ])
      fs.writeSync(fd, Buffer.from([byte]), 0, 1, at);
    fs.closeSync(fd);
    const graph = path.join(ONNX_FIXTURES, 'tiny-llama', 'onnx', 'model.onnx');
    const model: PageModelFiles = {
      backend: 'onnx',
      files: {
        onnx: { path: graph, name: 'onnx/model.onnx', maxBytes: MAX_ONNX_GRAPH_BYTES },
        data: { path: data, name: 'onnx/model.onnx_data', maxBytes: MAX_ONNX_GRAPH_BYTES },
      },
    };
    assert.deepStrictEqual(fileNamesForPage(model), { onnx: 'onnx/model.onnx', data: 'onnx/model.onnx_data' });
    // The page's side (engineRelay.ts) against the extension's (webviewEngineHost.ts), messages passed by hand.
    const pieces = new PieceRequests();
    const sizes: number[] = [];
    const readPiece = (role: string, offset: number) =>
      pieces.ask(
        (read) =>
          void answerFileRead(model, { read, role, offset }).then((answer) => {
            assert.strictEqual(answer.type, 'filePiece');
            if (answer.type === 'filePiece') {
              sizes.push(answer.bytes?.byteLength ?? -1);
              pieces.answer(answer.read, answer);
            }
          }),
      );
    let received = 0;
    const files = await receiveModelFiles(fileNamesForPage(model), readPiece, (p) => (received = p.total));
    assert.ok(Buffer.from(files.onnx.bytes).equals(fs.readFileSync(graph)));
    assert.strictEqual(files.data.name, 'onnx/model.onnx_data');
    assert.ok(Buffer.from(files.data.bytes).equals(fs.readFileSync(data)));
    assert.strictEqual(received, size + fs.statSync(graph).size);
    assert.deepStrictEqual(sizes.slice(1), [PAGE_FILE_PIECE_BYTES, size - PAGE_FILE_PIECE_BYTES]);
    // A role the model does not have, or a request without its fields, is answered with why, and the page's load fails with it.
    await assert.rejects(receiveModelFiles({ secret: '../../secret.txt' }, readPiece), /not a file of this model/);
    const odd = await answerFileRead(model, { read: 7, role: 'data', offset: '0' });
    assert.deepStrictEqual(odd, { type: 'filePiece', read: 7, error: 'the page asked for a piece of a file without its role or offset' });
    const past = await answerFileRead(model, { read: 8, role: 'data', offset: size + 1 });
    assert.ok(past.type === 'filePiece' && /changed while it was read/.test(past.error ?? ''), JSON.stringify(past));
  });
});

describe('webview pages: which page hosts the engine', () => {
  interface FakeHost {
    webview: object;
  }
  const page = (): FakeHost => ({ webview: {} });

  it('a page the extension did not register cannot claim, whatever it says', () => {
    const hosts = new WebviewHosts<FakeHost>();
    let changes = 0;
    hosts.onDidChange(() => changes++);
    assert.strictEqual(hosts.claim(page(), true), false);
    assert.strictEqual(hosts.gpuHost, undefined);
    assert.strictEqual(changes, 0);
  });

  it('a registered page is the host after its first claim of exactly true, and only then', () => {
    const hosts = new WebviewHosts<FakeHost>();
    let changes = 0;
    hosts.onDidChange(() => changes++);
    const a = page();
    hosts.register(a.webview);
    assert.strictEqual(hosts.claim(a, 'true'), false, 'not a boolean true');
    assert.strictEqual(hosts.claim(a, true), false, 'one claim per page');
    const b = page();
    hosts.register(b.webview);
    assert.strictEqual(hosts.claim(b, true), true);
    assert.strictEqual(hosts.gpuHost, b);
    assert.strictEqual(changes, 1);
    // Another object with the same webview identity but not a new registration: still one claim.
    assert.strictEqual(hosts.claim({ webview: b.webview }, true), false);
  });

  it('a claim the load disproves withdraws the page for good; a closed page stops being the host', () => {
    const hosts = new WebviewHosts<FakeHost>();
    let changes = 0;
    hosts.onDidChange(() => changes++);
    const a = page();
    hosts.register(a.webview);
    hosts.claim(a, true);
    hosts.refute(a.webview);
    assert.strictEqual(hosts.gpuHost, undefined);
    assert.strictEqual(hosts.claim(a, true), false);
    assert.strictEqual(changes, 2);
    const b = page();
    hosts.register(b.webview);
    hosts.claim(b, true);
    hosts.unregister(b.webview);
    assert.strictEqual(hosts.gpuHost, undefined);
    assert.strictEqual(hosts.claim(b, true), false, 'a closed page cannot claim');
    assert.strictEqual(changes, 4);
  });
});
