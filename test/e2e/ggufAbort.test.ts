/**
 * End-to-end, in code-server: llama.cpp aborts (a failed GGML_ASSERT) while the editor runs a GGUF
 * model. It runs in the engine's child process, so only that process ends: the extension host
 * lives on (the same process), a notification says llama.cpp's reason, the unsaved text of the
 * document is intact; after the bounded restarts an error names the model and offers Select
 * Model, and after switching to the embedded n-gram model the hover answers again.
 *
 * The file: the tiny Llama fixture with a negative RMS-norm epsilon, which llama.cpp loads and
 * then asserts on at the first evaluation. The extension refuses such values before llama.cpp sees
 * them (refuseWhatLlamaAborts); the test seam LMP_TEST_LET_LLAMA_ABORT, inherited by code-server,
 * its extension host and the engine process, turns that refusal off, standing for an abort not
 * foreseen.
 */
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { REPO } from '../unit/helpers';
import { useVsCode } from './session';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-e2e-abort-'));
const EPS = path.join(dir, 'eps.gguf');
const bytes = fs.readFileSync(path.join(REPO, 'test', 'fixtures', 'models', 'gguf', 'tiny-llama-f32.gguf'));
const key = Buffer.from('llama.attention.layer_norm_rms_epsilon');
bytes.writeFloatLE(-1, bytes.indexOf(key) + key.length + 4);
fs.writeFileSync(EPS, bytes);

/** The engine processes running now (pid and parent pid), found by their entry script under `extensionsDir`. */
function engineProcesses(extensionsDir: string): { pid: number; ppid: number }[] {
  const out = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.includes(extensionsDir) && l.includes('engineProcess.js'))
    .map((l) => l.trim().split(/\s+/).map(Number))
    .map(([pid, ppid]) => ({ pid, ppid }));
}

/** Whether `pid` is (still) a child of `parent`: a process id reused after the engine ended is not. */
function isChildOf(pid: number, parent: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // A zombie (state Z) has ended; only its parent has not collected it yet.
    return fields[0] !== 'Z' && Number(fields[1]) === parent;
  } catch {
    return false;
  }
}

/** Polls `condition` until it holds or `ms` pass. */
async function waitUntil(condition: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('llama.cpp aborting in the editor (code-server)', function () {
  before(() => (process.env.LMP_TEST_LET_LLAMA_ABORT = '1'));
  const session = useVsCode({ 'lmPlayground.model': EPS, 'lmPlayground.hover.warmUp': false, 'editor.hover.delay': 150 });
  after(() => {
    delete process.env.LMP_TEST_LET_LLAMA_ABORT;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('ends only the engine process: a notification says why, the text is intact, the host lives on and hovers again', async function () {
    const { wb, workspace, server } = session;
    const { extensionsDir } = server;
    await wb.openFile('sentences.txt');
    await wb.page.locator('.statusbar-item', { hasText: 'eps · llama.cpp F32' }).first().waitFor({ timeout: 120_000 });
    // Unsaved text: what an extension host's crash would put at risk.
    await wb.focusEditor();
    await wb.page.keyboard.press('Control+End');
    await wb.page.keyboard.type('\nA line not saved yet.');
    // Read once the editor has drawn the last key (CI read it a character short once).
    await wb.page.waitForFunction(() =>
      (document.querySelector('.editor-instance .view-lines') as HTMLElement | null)?.innerText.replace(/\u00a0/g, ' ').includes('A line not saved yet.'),
    );
    const before = await wb.editorText();
    // The status bar's scoring may have aborted it already, and the next request restarts it: wait for one that runs.
    await waitUntil(() => engineProcesses(extensionsDir).length > 0, 60_000);
    const [engine] = engineProcesses(extensionsDir);
    assert.ok(engine, `an engine process runs the model: ${execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })}`);
    const host = engine.ppid;

    await wb.hoverWord('cheese');
    await wb
      .notification(/eps: the GGUF engine process stopped: it aborted \(ops\.cpp:\d+: GGML_ASSERT\(eps >= 0\.0f\) failed\)/)
      .waitFor({ timeout: 120_000 });
    await wb.screenshot('gguf-abort-notification');
    // The notice may be an earlier abort's (the status bar's scoring): this process ends with the next request it gets, the hover's at the latest.
    await waitUntil(() => !isChildOf(engine.pid, host), 30_000);
    assert.ok(!isChildOf(engine.pid, host), 'the engine process ended');
    assert.ok(alive(host), `the extension host (pid ${host}) lives on`);
    assert.strictEqual(await wb.editorText(), before);

    // Each request restarts it and it aborts again: after 3 restarts it is given up, with a message naming the model and offering another.
    const givenUp = wb.notification(
      /eps: the GGUF engine process stopped: it aborted \(.*GGML_ASSERT.*\); it stopped 4 times within 10 minutes, so it is not restarted/,
    );
    const words = ['mouse', 'ate', 'table', 'letter', 'woman'];
    for (let i = 0; !(await givenUp.isVisible()); i++) {
      assert.ok(i < 40, `not given up after ${i} hovers:\n${server.extensionLogs(80)}`);
      await wb.hoverWord(words[i % words.length]);
      await givenUp.waitFor({ timeout: 5_000 }).catch(() => undefined);
    }
    await givenUp.getByRole('button', { name: 'Select Model' }).waitFor();
    await wb.screenshot('gguf-abort-given-up');
    assert.ok(alive(host), `the extension host (pid ${host}) lives on after 4 aborts`);
    assert.strictEqual(await wb.editorText(), before);
    await wb.page.mouse.move(5, 5);
    await wb.page.keyboard.press('Escape');

    // Back to the embedded n-gram model: the same extension host answers the hover.
    fs.writeFileSync(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'lmPlayground.model': 'ngram-classics' }));
    await wb.page.locator('.statusbar-item', { hasText: 'ngram-classics' }).first().waitFor({ timeout: 120_000 });
    await wb.hoverWord('cheese');
    await wb.hover().filter({ hasText: 'ngram-classics' }).waitFor({ timeout: 60_000 });
    await wb.screenshot('gguf-abort-ngram-hover');
    assert.ok(alive(host), `the extension host (pid ${host}) still lives`);
    assert.doesNotMatch(server.extensionLogs(400), /appears to be gone|Extension host terminated unexpectedly/);
    assert.strictEqual(await wb.editorText(), before);
    assert.deepStrictEqual(engineProcesses(extensionsDir), [], 'no engine process is left');
  });
});
