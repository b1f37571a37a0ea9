/**
 * End-to-end, in code-server, with the GGUF fixtures (drive-gguf4): the status bar's bits/char says
 * how far it is from its first piece; while a heat-map scores the same document it does not walk the
 * text too (the two threw the model's cached sequence away in turns) but waits, saying so, and then
 * shows the sum of the heat-map's scores, the CLI's number; after typing at the end of a long
 * document it scores only the typed tokens (drive-gguf5 Medium 4); the playground's Model list offers the
 * GGUF files used before, and its engine line names the model chosen, not the one that ran last.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { CORPUS, REPO } from '../unit/helpers';
import { cli, useVsCode } from './session';

const GGUF = path.join(REPO, 'test', 'fixtures', 'models', 'gguf');
const LLAMA = path.join(GGUF, 'tiny-llama-f32.gguf');
const QWEN = path.join(GGUF, 'tiny-qwen2-f32.gguf');

describe('GGUF: the status bar beside a heat-map, and the playground’s Model list (code-server)', function () {
  // Greedy completions: with a random seed the tiny model ends one at once now and then (one seed in eight
  // gave its end-of-text first after the typed line), and a completion of no token changes nothing to score again.
  const session = useVsCode({ 'lmPlayground.model': QWEN, 'editor.hover.delay': 150, 'lmPlayground.generation.temperature': 0 });
  const statusItem = (text: string | RegExp) => session.wb.page.locator('.statusbar-item', { hasText: text }).first();

  it('shows … bits/char with progress, waits for the heat-map of the same text, then shows the sum of its scores (the CLI’s number)', async function () {
    const { wb, workspace, server } = session;
    // A chapter: long enough that neither is done before the other starts.
    const text = fs.readFileSync(path.join(CORPUS, 'valid', 'poirot_investigates.txt'), 'utf8').slice(0, 45_000);
    const file = path.join(workspace, 'chapter.txt');
    fs.writeFileSync(file, text);
    await wb.openFile('chapter.txt');
    await statusItem('tiny-qwen2-f32 · llama.cpp F32').waitFor({ timeout: 120_000 });
    // From the first piece on, the item says that a number is coming and how far it is.
    await statusItem(/… bits\/char \(\d+%\)/).waitFor({ timeout: 60_000 });
    await wb.screenshot('gguf-status-progress');
    await wb.runCommand('LM: Show Token Probabilities');
    await statusItem(/… bits\/char \(heat-map \d+%\)/).waitFor({ timeout: 60_000 });
    await wb.screenshot('gguf-status-waits-for-heatmap');
    const expected = `${JSON.parse(cli('score', '--model', QWEN, '--json', file)).bits_per_char.toFixed(2)} bits/char`;
    await statusItem(expected).waitFor({ timeout: 300_000 });
    const logs = wholeLogs(server);
    assert.match(logs, /bits\/char of chapter\.txt: (gives way to|waits for) the heat-map scoring it/, logs.slice(-3000));
    assert.match(logs, /bits\/char of chapter\.txt: summed from the heat-map's scores of its \d+ tokens/, logs.slice(-3000));
    await wb.screenshot('gguf-status-from-heatmap');
    await wb.runCommand('LM: Clear Token Probabilities');
    await wb.runCommand('View: Close All Editors');
  });

  it('after typing at the end of a long document scores only the new tokens, and shows the CLI’s number of the saved text', async function () {
    const { wb, workspace, server } = session;
    const text = fs.readFileSync(path.join(CORPUS, 'valid', 'poirot_investigates.txt'), 'utf8').slice(0, 20_000);
    const file = path.join(workspace, 'typed-at-end.txt');
    fs.writeFileSync(file, text);
    const cliNumber = () => `${JSON.parse(cli('score', '--model', QWEN, '--json', file)).bits_per_char.toFixed(2)} bits/char`;
    await wb.openFile('typed-at-end.txt');
    await statusItem(cliNumber()).waitFor({ timeout: 300_000 });
    const typed = '\nPoirot smiled and reached for his hat.';
    // The typed text is reverted whatever happens, so that no later test meets a save dialog.
    try {
      await wb.focusEditor();
      await wb.page.keyboard.press('Control+End');
      await wb.page.keyboard.insertText(typed);
      await wb.page.keyboard.press('Escape');
      await wb.page.keyboard.press('Control+S');
      await wb.page.waitForFunction(() => !document.querySelector('.tab.active.dirty'));
      assert.strictEqual(fs.readFileSync(file, 'utf8'), text + typed, 'the saved text');
      const expected = cliNumber();
      // The final number (its icon no longer the spinner): the old number can read the same beside the spinner.
      const item = session.wb.page
        .locator('.statusbar-item', { hasText: expected })
        .filter({ has: session.wb.page.locator('.codicon-pulse') })
        .first();
      await item.waitFor({ timeout: 120_000 }).catch(async (e: Error) => assert.fail(`${e.message}\nlogs: ${server.extensionLogs().slice(-3000)}`));
      // The log and the tooltip count only the tokens scored again: the typed ones, not the chapter's thousands.
      const logs = wholeLogs(server);
      const m = [...logs.matchAll(/bits\/char of typed-at-end\.txt: scored (\d+) of its (\d+) tokens again/g)].at(-1);
      assert.ok(m, `a re-scoring of the typed tokens only in the log: ${logs.slice(-3000)}`);
      assert.ok(Number(m[1]) <= 40 && Number(m[2]) > 2000, `${m[1]} of ${m[2]} tokens scored again`);
      await wb.page.mouse.move(5, 5);
      await item.hover();
      const tooltip = wb.page.locator('.monaco-hover:not(.hidden)', { hasText: 'again in' }).first();
      await tooltip.waitFor();
      const said = (await tooltip.innerText()).replace(/\u00a0/g, ' ');
      assert.match(said, new RegExp(`Scored ${m[1]} tokens again in \\d+ ms; the others kept the scores they had`), said);
      await wb.screenshot('gguf-status-after-typing-at-end');
      await wb.page.mouse.move(5, 5);

      // A completion inserted at the end (its speed reported to the model's status item): only its
      // tokens are scored again (drive11 H1: each Complete Selection made the status bar drop every
      // kept score, a whole chapter read again).
      const rescored = /bits\/char of typed-at-end\.txt: scored (\d+) of its (\d+) tokens again/g;
      const before = [...wholeLogs(server).matchAll(rescored)].length;
      await wb.focusEditor();
      await wb.page.keyboard.press('Control+End');
      await wb.runCommand('LM: Complete Selection');
      const deadline = Date.now() + 120_000;
      let after = [...wholeLogs(server).matchAll(rescored)];
      while (after.length === before && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        after = [...wholeLogs(server).matchAll(rescored)];
      }
      const last = after.at(-1);
      assert.ok(after.length > before && last, `no re-scoring of the completion's tokens alone in the log: ${server.extensionLogs(80)}`);
      assert.ok(Number(last[1]) <= 60 && Number(last[2]) > 2000, `${last[1]} of ${last[2]} tokens scored again after the completion`);
    } finally {
      await wb.page.keyboard.press('Escape');
      await wb.runCommand('File: Revert File');
      await wb.runCommand('View: Close All Editors');
    }
  });

  it('while a heat-map scores an edited document, shows the heat-map’s progress beside the old number (drive-gguf5 Low 5)', async function () {
    const { wb } = session;
    await wb.openFile('typed-at-end.txt');
    const shown = wb.page
      .locator('.statusbar-item', { hasText: /\d\.\d\d bits\/char/ })
      .filter({ has: wb.page.locator('.codicon-pulse') })
      .first();
    await shown.waitFor({ timeout: 300_000 });
    const number = /(\d+\.\d\d) bits\/char/.exec(await shown.innerText())![1];
    try {
      await wb.runCommand('LM: Show Token Probabilities');
      await wb
        .notification(/token probabilities with/)
        .filter({ hasText: /of [\d,]+ tokens/ })
        .waitFor({ timeout: 60_000 });
      // An edit while it runs: the heat-map goes on, and the status bar waits for it beside the number of the text before the edit.
      await wb.focusEditor();
      await wb.page.keyboard.press('Control+End');
      await wb.page.keyboard.type('x');
      await statusItem(new RegExp(`${number.replace('.', '\\.')} bits/char \\(heat-map \\d+%\\)`)).waitFor({ timeout: 60_000 });
      await wb.screenshot('gguf-status-old-number-beside-heatmap');
    } finally {
      await wb.page.mouse.move(5, 5);
      await wb.runCommand('LM: Clear Token Probabilities');
      await wb.runCommand('File: Revert File');
      await wb.runCommand('View: Close All Editors');
    }
  });

  it('the playground offers the GGUF files used before, and its engine line follows the model chosen', async function () {
    const { wb, workspace } = session;
    // A second GGUF file used: the first stays in Select Model's (and now the playground's) list.
    fs.writeFileSync(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'lmPlayground.model': LLAMA }));
    await wb.reloadWindow();
    await wb.openFile('sentences.txt');
    await statusItem('tiny-llama-f32 · llama.cpp F32').waitFor({ timeout: 120_000 });
    const playground = await wb.openPlayground({ prompt: 'the mouse ate the', temperature: '0', maxTokens: '4' });
    const { frame } = playground;
    const offered = await frame.evaluate(() => Array.from(document.querySelectorAll('#model vscode-option')).map((o) => o.getAttribute('value')));
    assert.ok(offered.includes(LLAMA) && offered.includes(QWEN), `the Model list offers both GGUF files: ${JSON.stringify(offered)}`);
    assert.strictEqual(await playground.model(), LLAMA);
    await frame.locator('#run').click();
    await frame.locator('#run:not([disabled])').waitFor({ timeout: 120_000 });
    const ran = frame.locator('#engine-status', { hasText: /^tiny-llama-f32\.gguf on .* · \d+ tokens\/s/ });
    await ran.waitFor();
    // Another model chosen: the line no longer names the one that ran; back to it, its line again.
    await playground.chooseModel(QWEN);
    await frame.locator('#engine-status', { hasText: /^tiny-qwen2-f32\.gguf runs in .*; it loads on the first run/ }).waitFor();
    await wb.screenshot('gguf-playground-engine-line-follows');
    await playground.chooseModel(LLAMA);
    await ran.waitFor();
    await wb.runCommand('View: Close All Editors');
  });
});

/** Whole logs, not a tail: a line looked for can scroll out of a tail of a few lines as others come (a flaky failure in CI). */
function wholeLogs(server: { extensionLogs(lines: number): string }): string {
  return server.extensionLogs(Number.MAX_SAFE_INTEGER);
}
