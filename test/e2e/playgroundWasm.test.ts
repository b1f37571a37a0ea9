/**
 * End-to-end: the playground in a window without WebGPU runs the neural model on onnxruntime-web's
 * WASM build, whose binary the webview loads from the extension's dist/ort (the Node host's).
 */
import * as assert from 'assert';
import { cli, useVsCode } from './session';
import { logProbBits } from '../../src/playground/completionSummary';

describe('The LM Playground without WebGPU (code-server, no GPU)', function () {
  const session = useVsCode({}, { webgpu: false });

  it("runs gpt-classics in the page's engine worker on WASM, with the CLI's greedy text", async function () {
    const { wb } = session;
    await wb.runCommand('LM: Open Playground');
    const frame = await wb.webviewFrame('#prompt');
    await frame.locator('#engine-status', { hasText: 'no WebGPU here' }).waitFor();
    const fill = async (id: string, value: string) => {
      const inner = frame.locator(`#${id} textarea, #${id} input`).first();
      await inner.fill(value);
      await inner.dispatchEvent('change');
    };
    await fill('prompt', 'It was a fine morning, and');
    await fill('temperature', '0');
    await fill('maxTokens', '12');
    await frame.evaluate(() => {
      const e = document.getElementById('model') as HTMLElement & { value: string };
      e.value = 'gpt-classics';
      e.dispatchEvent(new Event('change', { bubbles: true }));
    });
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
});
