/**
 * End-to-end: the playground in a window without WebGPU runs the neural model on onnxruntime-web's
 * WASM build, whose binary the webview loads from the extension's dist/ort (the Node host's).
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cli, useVsCode } from './session';
import { REPO_ROOT } from '../../scripts/codeServer';
import { logProbBits } from '../../src/playground/completionSummary';

const TINY_LLAMA = path.join(REPO_ROOT, 'test', 'fixtures', 'models', 'tiny-llama');

/**
 * The tiny Llama's fp32 variant alone, in a folder `name` of a new temporary folder, its data file
 * made sparse to `dataBytes` (the weights are its first bytes: the same model, a larger file).
 */
function tinyLlamaWithData(name: string, dataBytes: number): { dir: string; model: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-sized-'));
  const model = path.join(dir, name);
  fs.mkdirSync(path.join(model, 'onnx'), { recursive: true });
  for (const f of fs.readdirSync(TINY_LLAMA))
    if (f.endsWith('.json') || f === 'tokenizer.model') fs.copyFileSync(path.join(TINY_LLAMA, f), path.join(model, f));
  for (const f of ['model.onnx', 'model.onnx_data']) fs.copyFileSync(path.join(TINY_LLAMA, 'onnx', f), path.join(model, 'onnx', f));
  fs.truncateSync(path.join(model, 'onnx', 'model.onnx_data'), dataBytes);
  return { dir, model };
}

describe('The LM Playground without WebGPU (code-server, no GPU)', function () {
  const session = useVsCode({}, { webgpu: false });

  it("runs gpt-classics in the page's engine worker on WASM, with the CLI's greedy text", async function () {
    const { wb } = session;
    const playground = await wb.openPlayground();
    const { frame } = playground;
    await frame.locator('#engine-status', { hasText: 'no WebGPU here' }).waitFor();
    await playground.fillForm({ prompt: 'It was a fine morning, and', temperature: '0', maxTokens: '12', model: 'gpt-classics' });
    await frame.locator('#run').click();
    await frame.locator('#engine-status', { hasText: /gpt-classics on wasm · \d+ tokens\/s/ }).waitFor({ timeout: 180_000 });
    await frame.locator('#run:not([disabled])').waitFor();
    const expected = JSON.parse(
      cli('generate', '--model', 'gpt-classics', '--prompt', 'It was a fine morning, and', '--temperature', '0', '--max-tokens', '12', '--json'),
    ).completions[0];
    const completion = frame.locator('#results .completion').first();
    assert.strictEqual((await completion.locator('.text').innerText()).replace(/\u00a0/g, ' '), expected.text);
    assert.match(await completion.locator('.meta').innerText(), new RegExp(`log₂ p\\(completion\\) = ${logProbBits(expected.logprob_nats)} `));
    await wb.screenshot('playground-wasm');
  });

  it('lists a model the page cannot run greyed out, says why under the form, and a run of it says so too', async function () {
    const { wb, workspace } = session;
    // Past what a page's WASM memory holds (the editor runs it natively).
    const { dir, model: big } = tinyLlamaWithData('tiny-llama-big', 3300 * 2 ** 20);
    try {
      const playground = await wb.openPlayground();
      const { frame } = playground;
      // The editor's model becomes the big one while the panel is open: the page's list follows.
      fs.writeFileSync(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'lmPlayground.model': big }));
      const note = frame.locator('#models-unavailable', { hasText: 'tiny-llama-big' });
      await note.waitFor({ timeout: 60_000 });
      assert.match(
        await note.innerText(),
        /^Greyed out in the Model list, as they cannot run in this page: tiny-llama-big: .*3\.2\d GiB of graph and weights, more than the 3 GiB WASM can hold: .*lmPlayground\.dtype q4/s,
      );
      const option = frame.locator('#model vscode-option[disabled]', { hasText: 'tiny-llama-big (cannot run in this page)' });
      assert.strictEqual(await option.count(), 1, 'listed greyed out');
      // Still the model to run is one the page can run.
      assert.notStrictEqual(await playground.model(), big);
      await wb.screenshot('playground-model-unavailable');
      // Chosen anyway (the list's value set by a script, as a query's model is): a run loads nothing and says why.
      await playground.chooseModel(big);
      assert.strictEqual(await playground.model(), big);
      await frame.locator('#run').click();
      await frame.locator('#message', { hasText: /tiny-llama-big cannot run in this page: .*WASM can hold/ }).waitFor();
      await frame.locator('#run:not([disabled])').waitFor();
    } finally {
      fs.rmSync(path.join(workspace, '.vscode', 'settings.json'), { force: true });
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runs a model whose data file the page receives in several pieces (each message at most 64 MiB), with the CLI's greedy text", async function () {
    const { wb, workspace } = session;
    // 100 MiB: two pieces for the page.
    const { dir, model } = tinyLlamaWithData('tiny-llama-pieces', 100 * 2 ** 20);
    try {
      fs.writeFileSync(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'lmPlayground.model': model }));
      const playground = await wb.openPlayground();
      const { frame } = playground;
      await frame.locator('#model vscode-option:not([disabled])', { hasText: 'tiny-llama-pieces' }).waitFor({ state: 'attached', timeout: 60_000 });
      const prompt = 'Once upon a time';
      await playground.fillForm({ prompt, temperature: '0', maxTokens: '8', numCompletions: '1', model });
      await frame.locator('#run').click();
      await frame.locator('#engine-status', { hasText: /tiny-llama-pieces on wasm · \d+ tokens\/s/ }).waitFor({ timeout: 180_000 });
      await frame.locator('#run:not([disabled])').waitFor();
      const expected = JSON.parse(
        cli('generate', '--model', TINY_LLAMA, '--dtype', 'fp32', '--device', 'wasm', '--prompt', prompt, '--temperature', '0', '--max-tokens', '8', '--json'),
      ).completions[0];
      const completion = frame.locator('#results .completion').first();
      assert.strictEqual((await completion.locator('.text').innerText()).replace(/\u00a0/g, ' '), expected.text);
      await wb.screenshot('playground-model-in-pieces');
    } finally {
      fs.rmSync(path.join(workspace, '.vscode', 'settings.json'), { force: true });
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the LM Engine panel (lmPlayground.device webgpu) asks for a 100 MiB data file in pieces; Complete Selection writes the CLI's greedy text", async function () {
    const { wb, workspace } = session;
    const { dir, model } = tinyLlamaWithData('tiny-llama-panel', 100 * 2 ** 20);
    try {
      await wb.runCommand('Notifications: Clear All Notifications');
      fs.writeFileSync(
        path.join(workspace, '.vscode', 'settings.json'),
        JSON.stringify({
          'lmPlayground.model': model,
          'lmPlayground.device': 'webgpu',
          'lmPlayground.generation.temperature': 0,
          'lmPlayground.generation.maxTokens': 6,
        }),
      );
      // No adapter in this window: the panel's worker runs it on WASM.
      await wb.notification(/now using tiny-llama-panel on wasm/).waitFor({ timeout: 180_000 });
      const tab = wb.page.locator('.tabs-container .tab', { hasText: 'LM Engine: tiny-llama-panel' }).first();
      await tab.waitFor();
      await wb.openFile('mouse.txt');
      await wb.focusEditor();
      await wb.page.keyboard.press('Control+Home');
      await wb.page.keyboard.press('Shift+End');
      await wb.runCommand('LM: Complete Selection');
      const prompt = 'the mouse ate the';
      const expected = JSON.parse(
        cli('generate', '--model', TINY_LLAMA, '--dtype', 'fp32', '--device', 'wasm', '--prompt', prompt, '--temperature', '0', '--max-tokens', '6', '--json'),
      ).completions[0].text;
      await wb.page.waitForFunction(
        (n) => (document.querySelector('.editor-instance .view-lines') as HTMLElement | null)!.innerText.replace(/\u00a0/g, ' ').trimEnd().length >= n,
        (prompt + expected).trimEnd().length,
        { timeout: 120_000 },
      );
      assert.strictEqual((await wb.editorText()).trimEnd(), (prompt + expected).trimEnd());
      await tab.click();
      const frame = await wb.webviewFrame('#status');
      await frame.locator('#status', { hasText: 'tiny-llama-panel on wasm' }).waitFor();
      await wb.screenshot('engine-panel-model-in-pieces');
    } finally {
      fs.rmSync(path.join(workspace, '.vscode', 'settings.json'), { force: true });
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
