/**
 * End-to-end, in code-server (a remote window): Select Model writes the settings the user sees,
 * device auto keeps the editor's model off a software WebGPU adapter while the playground is open,
 * Compare Models reuses one full-width panel, and a bad model setting after a window reload falls
 * back to the model used last with a way out.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { cli, useVsCode } from './session';

describe('Model settings and devices in code-server', function () {
  const session = useVsCode({ 'editor.hover.delay': 150 });

  /** Opens the Settings editor on lmPlayground.model (User tab) and returns the setting's row. */
  const settingsRow = async () => {
    const { wb } = session;
    await wb.runCommand('Preferences: Open Settings (UI)');
    await wb.page.locator('.settings-editor').waitFor();
    await wb.page.keyboard.type('lmPlayground.model');
    const row = wb.page.locator('.settings-editor .setting-item-contents', { hasText: 'Model' }).first();
    await row.waitFor();
    return row;
  };

  it('LM: Select Model changes the status bar and the hover, and writes the User settings, which the Settings UI shows with no "cannot be applied"', async function () {
    const { wb, server } = session;
    const hoverModel = async (name: string) => {
      await wb.page.mouse.move(5, 5);
      await wb.hoverWord('cheese');
      await wb.hover().filter({ hasText: name }).waitFor();
      await wb.page.mouse.move(5, 5);
    };
    // A heat-map on a document then out of sight (another in the same group).
    await wb.openFile('mouse.txt');
    await wb.runCommand('LM: Show Token Probabilities');
    const decorated = wb.page.locator('.editor-instance .cdr[class*="TextEditorDecorationType"]');
    await decorated.first().waitFor();
    await wb.openFile('sentences.txt');
    await hoverModel('ngram-classics');
    await wb.page.locator('.statusbar-item', { hasText: 'ngram-classics' }).first().waitFor();
    await wb.runCommand('LM: Select Model');
    await wb.page.locator('.quick-input-list .monaco-list-row', { hasText: 'gpt-classics' }).first().click();
    await wb.page.locator('.statusbar-item', { hasText: 'gpt-classics · native' }).first().waitFor({ timeout: 120_000 });
    await hoverModel('gpt-classics');
    // Out of sight, its heat-map waits for the new model until shown (a slow model would hold the engine for minutes).
    const rescored = /heat-map of mouse\.txt: scored again with gpt-classics/;
    assert.doesNotMatch(server.extensionLogs(400), rescored, 'a heat-map out of sight was scored again with the new model');
    await wb.openFile('mouse.txt');
    const deadline = Date.now() + 120_000;
    while (!rescored.test(server.extensionLogs(400))) {
      assert.ok(Date.now() < deadline, `the shown heat-map was not scored again with the new model:\n${server.extensionLogs(60)}`);
      await wb.page.waitForTimeout(250);
    }
    await decorated.first().waitFor();
    await wb.runCommand('LM: Clear Token Probabilities');
    await wb.openFile('sentences.txt');
    const row = await settingsRow();
    await row.locator('input').first().waitFor();
    assert.strictEqual(await row.locator('input').first().inputValue(), 'gpt-classics');
    const text = await wb.page.locator('.settings-editor').innerText();
    assert.doesNotMatch(text, /cannot be applied/);
    await wb.screenshot('select-model-settings-ui');
    const user = JSON.parse(fs.readFileSync(path.join(server.userDataDir, 'User', 'settings.json'), 'utf8'));
    assert.strictEqual(user['lmPlayground.model'], 'gpt-classics', 'written to the User settings the user edits');
    await wb.runCommand('View: Close All Editors');
  });

  it('device auto: with the playground open on a software adapter (SwiftShader) the model stays native and hovers answer at once', async function () {
    const { wb, server } = session;
    const { frame } = await wb.openPlayground();
    await frame.locator('#engine-status', { hasText: /software WebGPU adapter \(.*swiftshader.*\): WebAssembly/i }).waitFor();
    // The page's report reached the extension: it logged why the model stays where it is.
    const deadline = Date.now() + 60_000;
    while (!/is a software renderer/.test(server.extensionLogs(200))) {
      assert.ok(Date.now() < deadline, 'the extension logs that the software adapter was not used');
      await wb.page.waitForTimeout(250);
    }
    await wb.openFile('sentences.txt');
    const started = Date.now();
    await wb.hoverWord('cheese');
    await wb.hover().filter({ hasText: 'gpt-classics' }).waitFor();
    const hoverMs = Date.now() - started;
    await wb.page.locator('.statusbar-item', { hasText: 'gpt-classics · native' }).first().waitFor();
    await wb.screenshot('auto-device-software-adapter');
    assert.ok(hoverMs < 10_000, `the hover took ${hoverMs} ms`);
    assert.doesNotMatch(server.extensionLogs(200), /loaded model gpt-classics .*on webgpu/);
  });

  it('Compare Models opens in the active editor group, and a rerun reuses its panel', async function () {
    const { wb } = session;
    await wb.runCommand('View: Close All Editors');
    await wb.openFile('sentences.txt');
    await wb.runCommand('LM: Compare Models on Document');
    await wb.page.locator('.tabs-container .tab.active', { hasText: 'Compare Models: sentences.txt' }).first().waitFor({ timeout: 120_000 });
    assert.strictEqual(await wb.page.locator('.editor-group-container').count(), 1, 'no split: the panel is a tab of the active group');
    // Back to the text (its tab, beside the panel's in the same group) to run it again.
    await wb.page.locator('.tabs-container .tab[aria-label^="sentences.txt"]').first().click();
    await wb.editor().waitFor();
    await wb.runCommand('LM: Compare Models on Document');
    await wb.page.locator('.tabs-container .tab.active', { hasText: 'Compare Models: sentences.txt' }).first().waitFor({ timeout: 120_000 });
    const frame = await wb.webviewFrame('#results');
    await frame.locator('#results tbody tr').first().waitFor();
    assert.strictEqual(await wb.page.locator('.tabs-container .tab', { hasText: 'Compare Models' }).count(), 1, 'one Compare Models tab');
    await wb.screenshot('compare-models-full-width');
  });

  it('after a window reload with a bad model setting, runs the model used last (not the embedded default) and offers Select Model / Open Settings', async function () {
    const { wb, workspace } = session;
    fs.writeFileSync(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'lmPlayground.model': path.join(workspace, 'missing.arpa') }));
    await wb.page.reload();
    await wb.page.locator('.monaco-workbench').waitFor();
    await wb.openFile('sentences.txt');
    await wb.hoverWord('cheese');
    const toast = wb.notification(/could not load the model/);
    await toast.waitFor({ timeout: 120_000 });
    // gpt-classics, picked by the first test, is the model this workspace used last (drive13 L1).
    assert.match(await toast.innerText(), /missing\.arpa[\s\S]*Using gpt-classics, the model used last, instead/);
    await toast.locator('.monaco-button', { hasText: 'Select Model' }).waitFor();
    // Hover again: the first hover asked while the model was loading.
    await wb.page.mouse.move(5, 5);
    await wb.hoverWord('cheese');
    await wb.hover().filter({ hasText: 'gpt-classics' }).waitFor();
    await wb.page.locator('.statusbar-item', { hasText: 'gpt-classics' }).first().waitFor();
    await wb.screenshot('bad-model-fallback');
    await toast.hover();
    await toast.locator('.monaco-button', { hasText: 'Open Settings' }).click();
    await wb.page.locator('.settings-editor .setting-item-contents', { hasText: 'Model' }).first().waitFor();
  });

  it('LM: Select Model on a model whose load failed, once its file is mended, loads it (the setting already named it: hostile16 M1)', async function () {
    const { wb, workspace } = session;
    const settings = path.join(workspace, '.vscode', 'settings.json');
    const good = path.join(workspace, 'mended.arpa');
    const train = path.join(workspace, 'mended-train.txt');
    fs.writeFileSync(train, 'the cat sat on the mat\nthe dog sat on the log\n'.repeat(20));
    cli('train-ngram', '--order', '2', '--arpa', good, '--discount-fallback', train);
    const arpa = fs.readFileSync(good);
    try {
      // No webview left by the test before, which can take the focus (and close a quick pick) as it settles.
      await wb.runCommand('View: Close All Editors');
      await wb.page.locator('.webview.ready').waitFor({ state: 'detached' });
      await wb.openFile('sentences.txt');
      await wb.runCommand('Notifications: Clear All Notifications');
      // Used once (so Select Model lists it), then another model.
      fs.writeFileSync(settings, JSON.stringify({ 'lmPlayground.model': good }));
      await wb.notification(/now using mended/).waitFor({ timeout: 120_000 });
      fs.writeFileSync(settings, JSON.stringify({ 'lmPlayground.model': 'gpt-classics' }));
      await wb.notification(/now using gpt-classics/).waitFor({ timeout: 120_000 });
      await wb.runCommand('Notifications: Clear All Notifications');
      // Broken, then named by the setting: its load fails and gpt-classics stays.
      fs.writeFileSync(good, '\\data\\\nngram 1=3\n\n\\1-grams:\n-1.0\t<s>\n-oops\tthe\n');
      fs.writeFileSync(settings, JSON.stringify({ 'lmPlayground.model': good }));
      await wb.notification(/could not load the model[\s\S]*previous model \(gpt-classics\) stays active/).waitFor({ timeout: 120_000 });
      await wb.runCommand('Notifications: Clear All Notifications');
      // Mended, and picked again in Select Model: the setting does not change, the model loads.
      fs.writeFileSync(good, arpa);
      await wb.focusEditor();
      await wb.runCommand('LM: Select Model');
      await wb.page.locator('.quick-input-list .monaco-list-row', { hasText: 'mended.arpa' }).first().click();
      await wb.notification(/now using mended/).waitFor({ timeout: 120_000 });
      await wb.page.locator('.statusbar-item', { hasText: 'mended' }).first().waitFor();
      await wb.screenshot('select-model-retry-after-failure');
    } finally {
      fs.writeFileSync(settings, '{}');
      fs.rmSync(train, { force: true });
    }
  });
});
