/**
 * End-to-end, in code-server: choosing a precision variant that cannot load (its external data
 * file missing, its graph corrupt) shows an error naming the file, and the model that was active
 * (the same folder in another variant) stays active.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { ONNX_FIXTURES } from '../unit/helpers';
import { useVsCode } from './session';

describe('A bad precision variant keeps the previous model (code-server)', function () {
  const session = useVsCode({ 'editor.hover.delay': 150 });

  it('lmPlayground.dtype set to a variant with a missing data file, then to a corrupt one: each error is shown, int8 stays active', async function () {
    const { wb, workspace, server } = session;
    const folder = path.join(workspace, 'tiny-llama');
    fs.cpSync(path.join(ONNX_FIXTURES, 'tiny-llama'), folder, { recursive: true });
    fs.rmSync(path.join(folder, 'onnx', 'model.onnx_data'));
    fs.writeFileSync(path.join(folder, 'onnx', 'model_q4.onnx'), Buffer.from('not a graph: a download cut short\n'.repeat(50)));
    const settings = path.join(workspace, '.vscode', 'settings.json');
    const use = (dtype: string) => fs.writeFileSync(settings, JSON.stringify({ 'lmPlayground.model': folder, 'lmPlayground.dtype': dtype }));
    const active = wb.page.locator('.statusbar-item', { hasText: /tiny-llama · native int8/ }).first();

    await wb.openFile('mouse.txt');
    use('int8');
    await active.waitFor({ timeout: 120_000 });

    const cases: [string, RegExp][] = [
      [
        'fp32',
        new RegExp(
          `${path.join(folder, 'onnx', 'model.onnx_data').replace(/[.\\/]/g, '\\$&')}: missing: the graph model\\.onnx keeps its weights in this file`,
        ),
      ],
      ['q4', new RegExp(`${path.join(folder, 'onnx', 'model_q4.onnx').replace(/[.\\/]/g, '\\$&')}: onnxruntime cannot load it`)],
    ];
    for (const [dtype, error] of cases) {
      await wb.runCommand('Notifications: Clear All Notifications');
      use(dtype);
      const toast = wb.notification(/could not load the model/);
      await toast.waitFor({ timeout: 120_000 });
      const message = (await toast.innerText()).replace(/\u00a0/g, ' ');
      await wb.screenshot(`bad-variant-${dtype}`);
      assert.match(message, error, `${dtype}: the error names the file: ${message}\n${server.extensionLogs(40)}`);
      assert.match(message, /The previous model \(tiny-llama\) stays active/, message);
      await active.waitFor();
    }
    // The previous model still answers: a hover scores with it.
    await wb.hoverWord('mouse');
    await wb.hover().filter({ hasText: 'tiny-llama' }).waitFor({ timeout: 60_000 });
  });

  it('after a model file that fails to load, Compare Models scores the model that stays active once (drive13 M1)', async function () {
    const { wb, workspace } = session;
    const settings = path.join(workspace, '.vscode', 'settings.json');
    const broken = path.join(workspace, 'broken.arpa');
    fs.writeFileSync(broken, '\\data\\\nngram 1=3\n\n\\1-grams:\n-1.0\tthe\n'); // cut short
    fs.writeFileSync(settings, JSON.stringify({ 'lmPlayground.model': 'ngram-classics' }));
    await wb.page.locator('.statusbar-item', { hasText: 'ngram-classics' }).first().waitFor({ timeout: 120_000 });
    await wb.runCommand('Notifications: Clear All Notifications');
    fs.writeFileSync(settings, JSON.stringify({ 'lmPlayground.model': broken }));
    const toast = wb.notification(/could not load the model/);
    await toast.waitFor({ timeout: 120_000 });
    assert.match(await toast.innerText(), /The previous model \(ngram-classics\) stays active/);
    const { frame } = await wb.compareModels('mouse.txt', ['gpt-classics', 'ngram-classics']);
    const rows = (await frame.locator('#results tbody th').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
    await wb.screenshot('compare-after-failed-load');
    const ngram = frame.locator('#results tbody tr', { hasText: 'ngram-classics' });
    assert.strictEqual(await ngram.count(), 1, `one row of ngram-classics: ${JSON.stringify(rows)}`);
    assert.strictEqual(await ngram.locator('.badge', { hasText: 'active' }).count(), 1, 'marked active');
    assert.ok(!rows.some((r) => r.includes('broken')), `the model that failed is not a row: ${JSON.stringify(rows)}`);
    await wb.runCommand('View: Close All Editors');
  });
});
