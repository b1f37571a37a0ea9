/**
 * End-to-end, in code-server, with the GGUF fixtures (drive-gguf4): the status bar's bits/char says
 * how far it is from its first piece; while a heat-map scores the same document it does not walk the
 * text too (the two threw the model's cached sequence away in turns) but waits, saying so, and then
 * shows the sum of the heat-map's scores, the CLI's number; the playground's Model list offers the
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
  const session = useVsCode({ 'lmPlayground.model': QWEN, 'editor.hover.delay': 150 });
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
    const logs = server.extensionLogs();
    assert.match(logs, /bits\/char of chapter\.txt: (gives way to|waits for) the heat-map scoring it/, logs.slice(-3000));
    assert.match(logs, /bits\/char of chapter\.txt: summed from the heat-map's scores of its \d+ tokens/, logs.slice(-3000));
    await wb.screenshot('gguf-status-from-heatmap');
    await wb.runCommand('LM: Clear Token Probabilities');
    await wb.runCommand('View: Close All Editors');
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
