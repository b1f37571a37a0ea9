/**
 * End-to-end, in code-server: a large ARPA model (order 5, trained by `lmp train-ngram` from the
 * shared corpus and a copy of it with every word respelled, so about twice its vocabulary) as
 * lmPlayground.model. It loads in the engine's worker thread, not on the extension host's (the
 * extension logs the longest wait of the host's event loop during each load), and the editor's
 * features run on it there: hover, heat-map, Complete Selection, Compare Models.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CORPUS } from '../unit/helpers';
import { cli, useVsCode } from './session';

/**
 * The longest the host's event loop may wait while the model loads. The product's target is 50 ms
 * (measured and printed here), but on a loaded 2-core machine the OS alone holds an idle event loop
 * for 60–165 ms while a worker thread loads (measured in plain Node; 40–104 ms in three runs at a
 * load average of 16): a bound of 50 would fail on scheduling, not on our code. This test printed
 * 24 ms on a quiet machine, 558 and 282 ms at load averages of 17 to 19 (2026-11-30): too unsteady for a
 * tighter bound. This one fails when the load runs on the host's thread (25–77 s for this file) or
 * blocks it for a second.
 */
const MAX_BLOCK_MS = 1000;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-big-ngram-'));
const MODEL = path.join(dir, 'big.arpa');

describe('A large ARPA model in the engine’s worker thread (code-server)', function () {
  before(function () {
    // Two spellings of the corpus: its words, and each word with "~2" after it.
    const train = path.join(CORPUS, 'train');
    const files = fs.readdirSync(train).map((f) => path.join(train, f));
    const respelled = path.join(dir, 'respelled.txt');
    fs.writeFileSync(respelled, files.map((f) => fs.readFileSync(f, 'utf8').replace(/\S+/g, '$&~2')).join('\n'));
    cli('train-ngram', '--order', '5', '--arpa', MODEL, ...files, respelled);
    fs.rmSync(respelled);
    console.log(`      (generated ${(fs.statSync(MODEL).size / 2 ** 20).toFixed(0)} MiB of ARPA)`);
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
    await wb.page.locator('.statusbar-item', { hasText: 'big.arpa' }).first().waitFor({ timeout: 240_000 });

    // The load's line in the extension's log: where it ran and the longest wait of the event loop.
    const loaded = /loaded model big\.arpa \(.*\) from .* in (\d+) ms, in a worker thread; the host's event loop waited at most (\d+) ms meanwhile/;
    // The log file is written a little after the status bar changes: polled until it has the line.
    let match: RegExpMatchArray | null = null;
    for (const deadline = Date.now() + 60_000; !match && Date.now() < deadline;) {
      match = server.extensionLogs(400).match(loaded);
      if (!match) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.ok(match, `the log names the load in a worker thread:\n${server.extensionLogs(100)}`);
    console.log(`      (loaded in ${match[1]} ms; the host's event loop waited at most ${match[2]} ms; target 50 ms)`);

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
    assert.ok(Number(match[2]) <= MAX_BLOCK_MS, `the extension host's event loop waited ${match[2]} ms while the model loaded (at most ${MAX_BLOCK_MS})`);
  });
});
