/**
 * End-to-end, in code-server: a large ARPA model (order 5, over 500 MB, trained by `lmp
 * train-ngram` from the shared corpus and three copies of it with every word respelled, so about
 * four times its vocabulary) as lmPlayground.model. It loads in the engine's worker thread, not on
 * the extension host's (the extension logs, for each load, the longest wait of the host's event
 * loop and the most its thread ran at a stretch), and the editor's features run on it there:
 * hover, heat-map, Complete Selection, Compare Models.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CORPUS } from '../unit/helpers';
import { cli, useVsCode } from './session';

/**
 * The most the extension host's thread may run between two 10 ms ticks of its event-loop watch
 * while the model loads: how long its own work held the loop (the issue's 50 ms). The loop's
 * longest wait is printed too, but not judged: on a loaded 2-core machine the OS alone holds an
 * idle loop for 60–500 ms, so a bound on the wait would fail on scheduling, not on our code.
 */
const MAX_RUN_MS = 50;
/** Spellings of the corpus in the training text: the original and respelled copies. */
const SPELLINGS = 4;
const MIN_ARPA_BYTES = 500e6;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-big-ngram-'));
const MODEL = path.join(dir, 'big.arpa');

describe('A large ARPA model in the engine’s worker thread (code-server)', function () {
  before(function () {
    // The corpus's words, and copies with each word followed by "~2", "~3", ...
    const train = path.join(CORPUS, 'train');
    const files = fs.readdirSync(train).map((f) => path.join(train, f));
    const text = files.map((f) => fs.readFileSync(f, 'utf8')).join('\n');
    const respelled = Array.from({ length: SPELLINGS - 1 }, (_, i) => {
      const file = path.join(dir, `respelled${i + 2}.txt`);
      fs.writeFileSync(file, text.replace(/\S+/g, `$&~${i + 2}`));
      return file;
    });
    const started = Date.now();
    cli('train-ngram', '--order', '5', '--arpa', MODEL, ...files, ...respelled);
    for (const f of respelled) fs.rmSync(f);
    const bytes = fs.statSync(MODEL).size;
    console.log(`      (generated ${(bytes / 2 ** 20).toFixed(0)} MiB of ARPA in ${((Date.now() - started) / 1000).toFixed(0)} s)`);
    assert.ok(bytes >= MIN_ARPA_BYTES, `the generated ARPA has ${bytes} bytes, fewer than ${MIN_ARPA_BYTES}`);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  // The session starts on the embedded model; the large one is chosen once the window is idle, so
  // that the wait measured is the load's, not other extensions' start-up.
  const session = useVsCode({
    'lmPlayground.generation.temperature': 0,
    'lmPlayground.generation.maxTokens': 6,
    'lmPlayground.generation.stopAtBlankLine': false,
    'editor.hover.delay': 150,
  });

  it('loads without holding the extension host, then hovers, colours, completes and compares with it', async function () {
    const { wb, server, workspace } = session;
    await wb.openFile('sentences.txt');
    await wb.page.locator('.statusbar-item', { hasText: 'ngram-classics' }).first().waitFor();
    fs.writeFileSync(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'lmPlayground.model': MODEL }));
    // While it loads (seconds), the status bar says so beside the model that still answers (drive12).
    await wb.page.locator('.statusbar-item', { hasText: 'ngram-classics · loading another model…' }).first().waitFor({ timeout: 60_000 });
    await wb.screenshot('big-arpa-loading');
    await wb.page.locator('.statusbar-item', { hasText: 'big.arpa' }).first().waitFor({ timeout: 240_000 });
    const match = await loadLine(server);
    assert.ok(match, `the log names the load in a worker thread, with the longest run of the host's thread:\n${server.extensionLogs(100)}`);
    const run = Number(match[3]);
    console.log(
      `      (loaded in ${match[1]} ms; the host's event loop waited at most ${match[2]} ms meanwhile, its thread running at most ${run} ms of it between two ticks; target 50 ms)`,
    );

    // Hover: the model's name and a surprisal for the word under the pointer.
    await wb.hoverWord('cheese');
    const hover = wb.hover().filter({ hasText: 'big.arpa' });
    await hover.waitFor();
    assert.match((await hover.innerText()).replace(/\u00a0/g, ' '), /surprisal −log₂ p = [\d.]+ bits/);
    await wb.page.mouse.move(5, 5);
    await wb.page.keyboard.press('Escape');

    // Heat-map: every line gets its colours.
    await wb.runCommand('LM: Show Token Probabilities');
    await wb.page.waitForFunction(
      () =>
        Array.from(document.querySelectorAll('.editor-instance .view-overlays > div')).filter((line) =>
          line.querySelector('.cdr[class*="TextEditorDecorationType"]'),
        ).length >= 4,
      undefined,
      { timeout: 120_000 },
    );
    await wb.screenshot('big-ngram-heatmap');
    await wb.runCommand('LM: Clear Token Probabilities');

    // Complete Selection: the first line grows by what the model generates.
    await wb.focusEditor();
    await wb.page.keyboard.press('Control+Home');
    await wb.page.keyboard.press('Shift+End');
    const before = await wb.editorText();
    await wb.runCommand('LM: Complete Selection');
    await wb.page.waitForFunction(
      (n) =>
        Array.from(document.querySelectorAll('.editor-instance .view-line'))
          .map((e) => (e as HTMLElement).innerText)
          .join('\n').length > n,
      before.length,
      { timeout: 120_000 },
    );
    await wb.runCommand('File: Revert File');

    // Compare Models: the worker-hosted model has its row, with bits per character.
    await wb.runCommand('LM: Compare Models on Document');
    const frame = await wb.webviewFrame('#results');
    await frame.locator('#results tbody tr', { hasText: 'big.arpa' }).waitFor({ timeout: 120_000 });
    assert.match(await frame.locator('#results tbody tr', { hasText: 'big.arpa' }).innerText(), /\t\d+\.\d{3}\t/);
    await wb.screenshot('big-ngram-compare');

    // Last, so that a failure here still shows whether the features work.
    assert.ok(run <= MAX_RUN_MS, `the extension host's thread ran ${run} ms at a stretch while the model loaded (at most ${MAX_RUN_MS})`);
  });

  it('another model picked while the large one loads is the one used, and the only one announced (drive13 L5)', async function () {
    const { wb, workspace } = session;
    const settings = path.join(workspace, '.vscode', 'settings.json');
    await wb.runCommand('View: Close All Editors');
    await wb.openFile('sentences.txt');
    fs.writeFileSync(settings, JSON.stringify({ 'lmPlayground.model': 'ngram-classics' }));
    await wb.page.locator('.statusbar-item', { hasText: 'ngram-classics' }).first().waitFor({ timeout: 120_000 });
    await wb.runCommand('Notifications: Clear All Notifications');
    fs.writeFileSync(settings, JSON.stringify({ 'lmPlayground.model': MODEL }));
    await wb.page.locator('.statusbar-item', { hasText: 'ngram-classics · loading another model…' }).first().waitFor({ timeout: 60_000 });
    fs.writeFileSync(settings, JSON.stringify({ 'lmPlayground.model': 'gpt-classics' }));
    await wb.notification(/now using gpt-classics/).waitFor({ timeout: 240_000 });
    await wb.page
      .locator('.statusbar-item', { hasText: /gpt-classics · native/ })
      .first()
      .waitFor();
    await wb.screenshot('big-ngram-superseded');
    assert.strictEqual(await wb.notification(/now using big\.arpa/).count(), 0, 'the model picked first is not announced');
  });
});

/**
 * The load's line in the extension's log (its duration, the longest wait of the host's event loop
 * and the longest run of its thread), or null: the log file is written a little after the status
 * bar changes, so it is polled until it has the line.
 */
async function loadLine(server: { extensionLogs(lines: number): string }): Promise<RegExpMatchArray | null> {
  const loaded =
    /loaded model big\.arpa \(.*\) from .* in (\d+) ms, in a worker thread; the host's event loop waited at most (\d+) ms meanwhile, its thread running at most (\d+) ms between two 10 ms ticks/;
  for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
    const match = server.extensionLogs(400).match(loaded);
    if (match) return match;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return null;
}
