import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ORT_TELEMETRY_VARIABLE } from '../../src/node/onnxRuntimeTelemetry';
import { ONNX_FIXTURES } from './helpers';

/**
 * Where onnxruntime-node keeps its telemetry (its device id and the events queued for upload): under
 * $XDG_CACHE_HOME, else ~/.cache. The runtime records nothing when the environment names a CI
 * service (CI, GITHUB_ACTIONS, TF_BUILD, JENKINS_URL, ... : the project's CI sets one, and the
 * control found no store there), so the fresh processes get a user's environment: PATH, and a home
 * and cache in a temporary folder, nothing else.
 */
const telemetryStore = (home: string) => path.join(home, '.cache', 'Microsoft', 'DeveloperTools', '.onnxruntime');

describe('onnxruntime-node telemetry is off (no usage events recorded or queued for Microsoft)', function () {
  this.timeout(120_000);
  const outSrc = path.join(__dirname, '..', '..', 'src', 'node');
  const model = path.join(ONNX_FIXTURES, 'tiny-llama');
  let home: string;
  beforeEach(() => (home = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-ort-home-'))));
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  /** Runs `script` in a fresh Node process whose home is the temporary folder, without the variable; returns what it printed. */
  const inFreshProcess = (script: string): string => {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, XDG_CACHE_HOME: path.join(home, '.cache') };
    const r = spawnSync(process.execPath, ['-e', script], { env, encoding: 'utf8', timeout: 100_000 });
    assert.strictEqual(r.status, 0, `the process failed:\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  /** Every file under the temporary home, so that a store the runtime moved elsewhere in it is still seen. */
  const storeContents = () =>
    fs
      .readdirSync(home, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => path.join(e.parentPath ?? e.path, e.name));

  it('a session made with onnxruntime-node as it comes writes the store (the control: this test can see it)', () => {
    inFreshProcess(`
      const ort = require('onnxruntime-node');
      ort.InferenceSession.create(${JSON.stringify(path.join(model, 'onnx', 'model.onnx'))}).then((s) => s.release());`);
    assert.ok(
      storeContents().length > 0,
      `no telemetry store in ${telemetryStore(home)}: if onnxruntime-node no longer records usage, optOutOfOnnxRuntimeTelemetry and this test can go`,
    );
  });

  it('a model the engine loads on the host thread, then runs, writes none', () => {
    const out = inFreshProcess(`
      const { loadHuggingFaceFolder } = require(${JSON.stringify(path.join(outSrc, 'neuralLoader.js'))});
      loadHuggingFaceFolder(${JSON.stringify(model)}, 't', { device: 'native', threads: 1 })
        .then(async (lm) => { await lm.nextLogProbs([1, 2, 3]); await lm.dispose(); console.log(process.env.${ORT_TELEMETRY_VARIABLE}); });`);
    assert.strictEqual(out.trim(), '1');
    assert.deepStrictEqual(storeContents(), []);
  });

  it('a model the engine loads in its worker thread, then runs, writes none', () => {
    inFreshProcess(`
      const { loadModel } = require(${JSON.stringify(path.join(outSrc, 'modelLoader.js'))});
      loadModel(${JSON.stringify(model)}, undefined, { device: 'native', inWorker: true })
        .then(async (lm) => { await lm.nextLogProbs([1, 2, 3]); await lm.dispose(); });`);
    assert.deepStrictEqual(storeContents(), []);
  });

  it('a value the user set is kept', () => {
    const out = inFreshProcess(`
      process.env.${ORT_TELEMETRY_VARIABLE} = '0';
      require(${JSON.stringify(path.join(outSrc, 'onnxRuntimeTelemetry.js'))}).optOutOfOnnxRuntimeTelemetry();
      console.log(process.env.${ORT_TELEMETRY_VARIABLE});`);
    assert.strictEqual(out.trim(), '0');
  });
});
