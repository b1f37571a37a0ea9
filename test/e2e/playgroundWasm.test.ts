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
});
