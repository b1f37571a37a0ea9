/**
 * End-to-end, in code-server: a large ARPA model (order 5, over 500 MB, trained by `lmp
 * train-ngram` from the shared corpus and three copies of it with every word respelled, so about
 * four times its vocabulary) as lmPlayground.model. It loads in the engine's worker thread, not on
 * the extension host's (the extension logs the longest wait of the host's event loop during each
 * load), and the editor's features run on it there: hover, heat-map, Complete Selection, Compare
 * Models.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CORPUS } from '../unit/helpers';
import { IdleLoopReference } from './idleLoopReference';
import { cli, useVsCode } from './session';

/**
 * The longest the host's event loop may wait, while the model loads, beyond what an idle event
 * loop in another process waits in the same time window. On a loaded 2-core machine the OS alone
 * holds an idle loop for 60–500 ms while a worker thread loads: a bare bound of 50 ms would fail on
 * scheduling, not on our code; the reference's wait is the machine's share, the rest the host's.
 */
const MAX_BLOCK_BEYOND_IDLE_MS = 50;
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
    // The machine's own stall of an idle loop, watched over the same minutes as the load.
    const reference = new IdleLoopReference();
    let machineWait: number | undefined;
    let match: RegExpMatchArray | null | undefined;
    try {
      fs.writeFileSync(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'lmPlayground.model': MODEL }));
      await wb.page.locator('.statusbar-item', { hasText: 'big.arpa' }).first().waitFor({ timeout: 240_000 });
      match = await loadLine(server);
      // The load's window: its log line's time (written right after it) less its duration.
      if (match) {
        const end = Date.parse(match[1].replace(' ', 'T'));
        machineWait = reference.longestDelay(end - Number(match[2]), end);
      }
    } finally {
      await reference.stop();
    }
    assert.ok(match, `the log names the load in a worker thread:\n${server.extensionLogs(100)}`);
    assert.ok(machineWait !== undefined, `the idle reference loop reported no window during the load (${reference.reported} in all)`);
    const hostWait = Number(match[3]);
    console.log(
      `      (loaded in ${match[2]} ms; the host's event loop waited at most ${hostWait} ms meanwhile, an idle loop in another process ${machineWait} ms: ${(hostWait - machineWait).toFixed(0)} ms beyond it; target 50 ms)`,
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
    assert.ok(
      hostWait - machineWait <= MAX_BLOCK_BEYOND_IDLE_MS,
      `the extension host's event loop waited ${hostWait} ms while the model loaded, ${hostWait - machineWait} ms beyond an idle loop's ${machineWait} ms (at most ${MAX_BLOCK_BEYOND_IDLE_MS})`,
    );
  });
});

/**
 * The load's line in the extension's log (its time, duration and the longest wait of the host's
 * event loop), or null: the log file is written a little after the status bar changes, so it is
 * polled until it has the line.
 */
async function loadLine(server: { extensionLogs(lines: number): string }): Promise<RegExpMatchArray | null> {
  const loaded =
    /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) \[info\] loaded model big\.arpa \(.*\) from .* in (\d+) ms, in a worker thread; the host's event loop waited at most (\d+) ms meanwhile/m;
  for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
    const match = server.extensionLogs(400).match(loaded);
    if (match) return match;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return null;
}
