/**
 * End-to-end: a webview page reads nothing of a model's folder by URL. Its resource roots are the
 * extension's dist/webview and dist/ort; model files reach it as bytes posted by the extension.
 */
import * as assert from 'assert';
import { useVsCode } from './session';

describe('Webview resource roots (code-server)', function () {
  const session = useVsCode({});

  it("the playground page cannot fetch a model's files by URL, and still runs the model", async function () {
    const { wb } = session;
    const { frame } = await wb.openPlayground();
    // Resource URLs of the extension's files, made from the worker's URL (same scheme, authority and root).
    const probe = await frame.evaluate(async () => {
      const config = JSON.parse(document.getElementById('playground-config')!.textContent!) as { workerUrl: string };
      const at = config.workerUrl.indexOf('dist/webview/engineWorker.js');
      const url = (rel: string) => config.workerUrl.slice(0, at) + rel;
      const get = async (rel: string) => {
        try {
          const r = await fetch(url(rel));
          return r.ok ? 'ok' : `HTTP ${r.status}`;
        } catch (e) {
          return `refused: ${(e as Error).message}`;
        }
      };
      return {
        at,
        worker: await get('dist/webview/engineWorker.js'),
        ngram: await get('models/ngram-classics/model.ngram'),
        readme: await get('models/ngram-classics/README.md'),
        config: await get('models/gpt-classics/config.json'),
      };
    });
    assert.ok(probe.at > 0, 'the worker URL is in the extension');
    assert.strictEqual(probe.worker, 'ok', 'a file under a resource root is fetched (the probe works)');
    for (const key of ['ngram', 'readme', 'config'] as const) assert.notStrictEqual(probe[key], 'ok', `${key}: a model folder is a resource root`);
    const prompt = frame.locator('#prompt textarea, #prompt input').first();
    await prompt.fill('the mouse ate the');
    await prompt.dispatchEvent('change');
    await frame.locator('#run').click();
    await frame.locator('#results .completion').first().waitFor();
    assert.match(await frame.locator('#engine-status').innerText(), /ngram-classics on /);
  });
});
