/**
 * End-to-end: a model on a server. `lmp serve --model gpt-classics` runs on loopback; the remote
 * model is added through LM: Select Model → "Add remote model…" (URL, the server's model list, an
 * empty API key), then the hover, Complete Selection and the heat-map run on the server and give
 * what the local gpt-classics gives.
 */
import * as assert from 'assert';
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { generate } from '../../src/core/generation';
import { formatProbability } from '../../src/core/numberFormat';
import { fitCompletion } from '../../src/editor/seam';
import { loadModel } from '../../src/node/modelLoader';
import { SETTING_DEFAULTS } from '../../src/vscode/settingDefaults';
import { REPO_ROOT } from '../../scripts/codeServer';
import { cli, useVsCode } from './session';
import type { Workbench } from './workbench';

const PROMPT = 'It was a dark and stormy night; the rain fell in torrents, and the';

/** Starts `lmp serve` on a loopback port (a free one by default); resolves with its base URL once it says it serves. */
function startServe(model: string, args: string[] = [], port = 0): Promise<{ child: ChildProcess; base: string; log: () => string }> {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'dist', 'cli.js'), 'serve', '--model', model, '--port', String(port), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /serving \S+ at (http:\/\/\S+\/v1)/.exec(out);
      if (m) resolve({ child, base: m[1], log: () => err });
    });
    child.on('exit', (code) => reject(new Error(`lmp serve exited (${code}): ${err}`)));
  });
}

/** Stops a server at once, as a crash would. */
async function killServe(serve: { child: ChildProcess }): Promise<void> {
  if (serve.child.exitCode !== null || serve.child.signalCode !== null) return;
  const exited = new Promise((resolve) => serve.child.once('exit', resolve));
  serve.child.kill('SIGKILL');
  await exited;
}

const DECORATED = '.editor-instance .cdr[class*="TextEditorDecorationType"]';

describe('A remote model: lmp serve in code-server', function () {
  const session = useVsCode({ 'editor.hover.delay': 150, 'lmPlayground.generation.temperature': 0, 'lmPlayground.inline.enabled': false });
  let wb: Workbench;
  let serve: { child: ChildProcess; base: string; log: () => string };
  let file: string;

  before(async function () {
    wb = session.wb;
    serve = await startServe('gpt-classics');
    file = path.join(session.workspace, 'storm.txt');
    fs.writeFileSync(file, `${PROMPT} wind blew.\n`);
  });

  after(async function () {
    if (!serve || serve.child.exitCode !== null || serve.child.signalCode !== null) return;
    const exited = new Promise((resolve) => serve.child.once('exit', resolve));
    serve.child.kill('SIGTERM');
    await exited;
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.log(`=== lmp serve ===\n${serve?.log()}`);
  });

  it('adds the remote model with LM: Select Model → Add remote model… (URL, its model list, no API key)', async function () {
    await wb.addRemoteModel(serve.base, 'gpt-classics');
    await wb.page.locator('.quick-input-widget', { hasText: 'API key' }).waitFor();
    await wb.page.keyboard.press('Enter');
    await wb.notification(/now using gpt-classics on server/).waitFor({ timeout: 120_000 });
    // VS Code writes the user settings file as JSON with comments only when it had some: plain JSON here.
    const settings = JSON.parse(fs.readFileSync(path.join(session.server.userDataDir, 'User', 'settings.json'), 'utf8'));
    assert.strictEqual(settings['lmPlayground.model'], `${serve.base}#gpt-classics`, 'written to the user settings');
    await wb.screenshot('remote-model-added');
  });

  it('the hover shows the log p the local model gives', async function () {
    await wb.openFile('storm.txt');
    await wb.page.locator('.editor-instance .view-lines', { hasText: 'stormy' }).first().waitFor();
    // Within the first 50 characters: Monaco splits longer runs of text into spans of 50.
    await wb.hoverWord('stormy');
    const hover = wb.hover();
    await hover.waitFor({ timeout: 120_000 });
    const text = (await hover.innerText()).replace(/\u00a0/g, ' ');
    await wb.screenshot('remote-hover');
    assert.match(text, /gpt-classics/);
    const scored = JSON.parse(cli('score', '--model', 'gpt-classics', '--json', '--details', file)).token_scores as {
      text: string;
      start: number;
      length: number;
      logprob: number;
      rank: number;
    }[];
    const at = PROMPT.indexOf('stormy');
    const token = scored.find((t) => t.start <= at && at < t.start + t.length)!;
    const shown = /p = (\S+%) given the/.exec(text)?.[1];
    assert.strictEqual(shown, formatProbability(Math.exp(token.logprob)), `the hover (${text}) against the local model's ${token.text} ${token.logprob}`);
    assert.ok(text.includes(`rank ${token.rank.toLocaleString('en-US')}`), `rank ${token.rank}: ${text}`);
    await wb.page.mouse.move(5, 5);
  });

  it("Complete Selection inserts the local model's greedy text", async function () {
    await wb.openFile('storm.txt');
    await wb.focusEditor();
    await wb.page.keyboard.press('Control+Home');
    for (let i = 0; i < PROMPT.length; i++) await wb.page.keyboard.press('Shift+ArrowRight');
    const before = await wb.editorText();
    await wb.runCommand('LM: Complete Selection');
    await wb.page.waitForFunction(
      (n) => ((document.querySelector('.editor-instance .view-lines') as HTMLElement | null)?.innerText.length ?? 0) > n + 2,
      before.length,
    );
    const local = await loadModel('gpt-classics');
    try {
      const [c] = await generate(local, PROMPT, {
        temperature: 0,
        maxTokens: SETTING_DEFAULTS['generation.maxTokens'],
        stopSequences: [],
        numCompletions: 1,
        topK: 0,
        topP: 1,
        stopAtBlankLine: true,
      });
      // As Complete Selection fits it: the character after the prompt is the space before "wind".
      const expected = PROMPT + fitCompletion(PROMPT, c.text, ' ') + ' wind blew.';
      const now = (await wb.editorText()).replace(/\u00a0/g, ' ');
      assert.strictEqual(now.trimEnd(), expected.trimEnd());
    } finally {
      local.dispose?.();
    }
    await wb.screenshot('remote-complete-selection');
    await wb.runCommand('Undo');
  });

  it("the playground samples on the server (the local model's greedy text), refuses T = ∞, and its explorer renormalises the server's top 20", async function () {
    const playground = await wb.openPlayground();
    const { frame } = playground;
    const fill = (id: string, value: string) => playground.fill(id, value);
    assert.strictEqual(await playground.model(), `${serve.base}#gpt-classics`);
    await playground.fillForm({ prompt: PROMPT, temperature: '0', maxTokens: '8' });
    await frame.locator('#run').click();
    await frame.locator('#run:not([disabled])').waitFor({ timeout: 120_000 });
    const local = await loadModel('gpt-classics');
    try {
      const [c] = await generate(local, PROMPT, { temperature: 0, maxTokens: 8 });
      const shown = (await frame.locator('#results .completion .text').first().innerText()).replace(/\u00a0/g, ' ');
      assert.strictEqual(shown, c.text, `message: ${await frame.locator('#message').innerText()}`);
    } finally {
      local.dispose?.();
    }
    assert.match(await frame.locator('#engine-status').innerText(), /gpt-classics on http:\/\/127\.0\.0\.1:\d+\/v1 \(sampling on the server\)/);
    await wb.screenshot('remote-playground-run');
    await fill('temperature', '∞');
    await frame.locator('#run').click();
    await frame.locator('#message', { hasText: /temperature ∞ needs a local model/ }).waitFor({ timeout: 120_000 });
    await frame.locator('vscode-tab-header', { hasText: 'Temperature explorer' }).click();
    await frame.locator('#explore-next').click();
    await frame.locator('#explorer-status', { hasText: "the server's top 20, renormalised over those 20" }).waitFor({ timeout: 120_000 });
    await wb.screenshot('remote-playground-explorer');
    await wb.runCommand('View: Close Editor');
  });

  it('LM: Select Model shows the active model on its server in a row of its own', async function () {
    await wb.runCommand('LM: Select Model');
    const row = wb.page.locator('.quick-input-list .monaco-list-row', { hasText: `active · on ${serve.base}` });
    await row.first().waitFor();
    assert.match(await row.first().innerText(), /gpt-classics/);
    assert.strictEqual(await wb.page.locator('.quick-input-list .monaco-list-row', { hasText: 'active' }).count(), 1, 'one active row');
    assert.match(
      (await wb.page.locator('.quick-input-widget input').getAttribute('placeholder')) ?? '',
      new RegExp(`Active: gpt-classics on ${serve.base.replace(/[.]/g, '\\.')}`),
    );
    await wb.screenshot('remote-select-model-row');
    await wb.page.keyboard.press('Escape');
  });

  it('after a local model, LM: Select Model lists the server’s model as used before, and one pick goes back to it (hostile25 L1)', async function () {
    const pick = async (row: string) => {
      await wb.runCommand('LM: Select Model');
      const item = wb.page.locator('.quick-input-list .monaco-list-row', { hasText: row }).first();
      await item.waitFor();
      await item.click();
    };
    await pick('ngram-classics');
    await wb.page
      .locator('.statusbar-item', { hasText: /ngram-classics/ })
      .first()
      .waitFor({ timeout: 120_000 });
    await wb.runCommand('LM: Select Model');
    const row = wb.page.locator('.quick-input-list .monaco-list-row', { hasText: `used before · on ${serve.base}` });
    await row.first().waitFor();
    assert.match(await row.first().innerText(), /gpt-classics/);
    await wb.screenshot('remote-select-model-used-before');
    await row.first().click();
    await wb.page.locator('.statusbar-item', { hasText: 'gpt-classics · server' }).first().waitFor({ timeout: 120_000 });
  });

  it('the heat-map colours the tokens from the server', async function () {
    await wb.openFile('sentences.txt');
    await wb.runCommand('LM: Show Token Probabilities');
    const decorated = wb.page.locator('.editor-instance .cdr[class*="TextEditorDecorationType"]');
    await decorated.first().waitFor({ timeout: 120_000 });
    await wb.page.waitForFunction(() => document.querySelectorAll('.editor-instance .cdr[class*="TextEditorDecorationType"]').length > 10);
    await wb.page.locator('.statusbar-item', { hasText: 'heat-map: rank' }).first().waitFor();
    await wb.screenshot('remote-heatmap');
    await wb.runCommand('LM: Clear Token Probabilities');
  });

  it("the status bar's number for a selection is of the document's tokens in context, the local model's number", async function () {
    fs.writeFileSync(path.join(session.workspace, 'evening.txt'), 'A short line first.\n\nIt was a fine evening, and the garden was quiet.\n');
    await wb.openFile('evening.txt');
    // From the first letter of "garden" to inside "quiet": the document's " garden" and " quiet" count whole.
    await wb.selectInLine(2, 'It was a fine evening, and the '.length, 'garden was qui'.length);
    const scored = JSON.parse(cli('score', '--model', 'gpt-classics', '--json', '--details', path.join(session.workspace, 'evening.txt'))).token_scores as {
      text: string;
      logprob: number;
    }[];
    const at = scored.findIndex((t) => t.text === ' garden');
    const selected = scored.slice(at, at + 3);
    assert.strictEqual(selected.map((t) => t.text).join(''), ' garden was quiet');
    const bitsPerChar = selected.reduce((sum, t) => sum - t.logprob / Math.LN2, 0) / ' garden was quiet'.length;
    await wb.statusBarShows(`${bitsPerChar.toFixed(2)} bits/char`);
    await wb.screenshot('remote-selection-status-bar');
    // This editor only: an earlier test's completion left another one unsaved.
    await wb.runCommand('View: Close Editor');
  });

  it('a heat-map on the server stops when an edit makes its text binary, and says so, as with a local model', async function () {
    const name = 'binary-later.txt';
    const file = path.join(session.workspace, name);
    const text = fs.readFileSync(path.join(session.workspace, 'sentences.txt'), 'utf8');
    fs.writeFileSync(file, text);
    await wb.openFile(name);
    await wb.runCommand('LM: Show Token Probabilities');
    await wb.page.waitForFunction((sel) => document.querySelectorAll(sel).length > 10, DECORATED, { timeout: 120_000 });
    // NULs arriving as an edit (the file changed on disk): not sent to the server.
    fs.writeFileSync(file, text + '\0'.repeat(64));
    await wb
      .notification(new RegExp(`${name.replace('.', '\\.')} now looks like a binary file \\(it has many NUL characters\\): its heat-map is not scored further`))
      .waitFor({ timeout: 60_000 });
    assert.ok((await wb.page.locator(DECORATED).count()) > 10, 'the colours stay');
    await wb.screenshot('remote-heatmap-binary-by-edit');
    // Text again: scored on the server, and the status bar shows the text's number once that scoring is done.
    fs.writeFileSync(file, text);
    const rescoring = wb.notification(/token probabilities \(after an edit\) with gpt-classics/);
    await rescoring.waitFor({ timeout: 60_000 });
    await rescoring.waitFor({ state: 'detached', timeout: 120_000 });
    await wb.page
      .locator('.statusbar-item', { hasText: /\d\.\d\d bits\/char$/ })
      .first()
      .waitFor({ timeout: 60_000 });
    await wb.screenshot('remote-heatmap-text-again');
    await wb.runCommand('LM: Clear Token Probabilities');
    await wb.runCommand('Notifications: Clear All Notifications');
  });

  it('a server stopped mid heat-map: the colours scored stay, the hover says why it has none, and Continue scores the rest once it is back', async function () {
    const sentences = fs.readFileSync(path.join(session.workspace, 'sentences.txt'), 'utf8');
    fs.writeFileSync(path.join(session.workspace, 'chapter.txt'), sentences.repeat(Math.ceil(30_000 / sentences.length)));
    await wb.openFile('chapter.txt');
    await wb.runCommand('LM: Show Token Probabilities');
    await wb.page.waitForFunction((sel) => document.querySelectorAll(sel).length > 10, DECORATED, { timeout: 120_000 });
    const port = Number(new URL(serve.base).port);
    await killServe(serve);
    const stopped = wb.notification(/token probabilities stopped: .*connection.*keep their colours; Continue scores the rest/);
    await stopped.waitFor({ timeout: 120_000 });
    await wb.screenshot('remote-heatmap-server-stopped');
    assert.ok((await wb.page.locator(DECORATED).count()) > 10, 'the colours scored before the server stopped are kept');
    // The hover of a word not hovered before (a cached hover needs no server): why there are no numbers.
    const word = /\b[a-z]{6,}\b/.exec(sentences)![0];
    await wb.hoverWord(word);
    const why = wb.page.locator('.monaco-hover:not(.hidden)', { hasText: 'no token probabilities' }).first();
    await why.waitFor({ timeout: 120_000 });
    assert.match(await why.innerText(), /connection refused|no server listens|connection dropped/);
    await wb.page.mouse.move(5, 5);
    // The model's status-bar item says the server does not answer (not its last speed), and recovers once it does.
    const unreachable = wb.page.locator('.statusbar-item', { hasText: 'server unreachable' }).first();
    await unreachable.waitFor({ timeout: 60_000 });
    assert.doesNotMatch(await unreachable.innerText(), /tok\/s/);
    await wb.screenshot('remote-server-unreachable');
    serve = await startServe('gpt-classics', [], port);
    await unreachable.waitFor({ state: 'detached', timeout: 60_000 });
    await wb.page.locator('.statusbar-item', { hasText: 'gpt-classics · server' }).first().waitFor({ timeout: 60_000 });
    await stopped.locator('.monaco-button', { hasText: 'Continue' }).click();
    const continued = wb.notification(/token probabilities \(continued\)/);
    await continued.waitFor({ timeout: 120_000 });
    await continued.waitFor({ state: 'detached', timeout: 300_000 });
    assert.strictEqual(await wb.notification(/token probabilities stopped/).count(), 0, 'no new failure');
    await wb.focusEditor();
    await wb.page.keyboard.press('Control+End');
    await wb.page.waitForFunction((sel) => document.querySelectorAll(sel).length > 10, DECORATED, { timeout: 60_000 });
    await wb.screenshot('remote-heatmap-continued');
    await wb.runCommand('LM: Clear Token Probabilities');
  });

  it('a server that wants an API key: the hover says the key was refused; the key given with Add remote model… is used at once', async function () {
    const port = Number(new URL(serve.base).port);
    await killServe(serve);
    serve = await startServe('gpt-classics', ['--api-key', 's3cret'], port);
    await wb.openFile('storm.txt');
    await wb.page.locator('.editor-instance .view-lines', { hasText: 'night' }).first().waitFor();
    await wb.hoverWord('night');
    const why = wb.page.locator('.monaco-hover:not(.hidden)', { hasText: 'no token probabilities' }).first();
    await why.waitFor({ timeout: 120_000 });
    assert.match(await why.innerText(), /refused the API key/);
    await wb.page.mouse.move(5, 5);
    await wb.addRemoteModel(serve.base);
    const input = wb.page.locator('.quick-input-widget input');
    await wb.page.locator('.quick-input-widget', { hasText: 'wants an API key' }).waitFor({ timeout: 120_000 });
    await input.fill('s3cret');
    await wb.page.keyboard.press('Enter');
    await wb.page.locator('.quick-input-list .monaco-list-row', { hasText: 'gpt-classics' }).first().click();
    // The same model, now with its key: opened again at once.
    await wb.notification(/now using gpt-classics on server/).waitFor({ timeout: 120_000 });
    await wb.hoverWord('night');
    await wb.hover().waitFor({ timeout: 120_000 });
    await wb.screenshot('remote-api-key-given');
    await wb.page.mouse.move(5, 5);
  });

  it('Add remote model… in a workspace that names a local model: says that setting wins, and removes it when asked', async function () {
    const settingsFile = path.join(session.workspace, '.vscode', 'settings.json');
    fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
    fs.writeFileSync(settingsFile, JSON.stringify({ 'lmPlayground.model': 'ngram-classics' }));
    try {
      await wb.page.locator('.statusbar-item', { hasText: 'ngram-classics' }).first().waitFor({ timeout: 120_000 });
      await wb.addRemoteModel(serve.base, 'gpt-classics');
      // The key stored by the test before: Enter keeps it.
      await wb.page.locator('.quick-input-widget', { hasText: 'A key is stored for this server' }).waitFor();
      await wb.page.keyboard.press('Enter');
      const warning = wb.notification(/this workspace sets lmPlayground.model to "ngram-classics", which takes precedence/);
      await warning.waitFor({ timeout: 120_000 });
      await wb.screenshot('remote-workspace-setting-wins');
      await warning.locator('.monaco-button', { hasText: 'Remove the workspace setting' }).click();
      await wb.page.locator('.statusbar-item', { hasText: 'gpt-classics · server' }).first().waitFor({ timeout: 120_000 });
      assert.strictEqual(JSON.parse(fs.readFileSync(settingsFile, 'utf8'))['lmPlayground.model'], undefined);
    } finally {
      fs.rmSync(settingsFile, { force: true });
    }
  });

  it("ignores a server named by the workspace's settings, and says so", async function () {
    const settingsFile = path.join(session.workspace, '.vscode', 'settings.json');
    fs.writeFileSync(settingsFile, JSON.stringify({ 'lmPlayground.model': 'http://127.0.0.1:9/v1#elsewhere' }));
    try {
      await wb.notification(/a workspace may not send your text to a server, so it is ignored/).waitFor({ timeout: 120_000 });
      await wb.page.locator('.statusbar-item', { hasText: 'gpt-classics' }).first().waitFor();
      assert.strictEqual(await wb.page.locator('.statusbar-item', { hasText: 'elsewhere' }).count(), 0);
      await wb.screenshot('remote-workspace-refused');
    } finally {
      fs.rmSync(settingsFile);
    }
  });
});
