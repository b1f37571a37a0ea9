/**
 * End-to-end, in code-server: the playground's results, branch tree and chosen token come back when
 * its tab is closed and opened again and after a window reload, and go into a saved query; a model
 * trained while it is open joins its Model list (the order step's Enter takes the recommended
 * 4-gram); LM: Download Model past its size limit says so in a toast.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Frame } from 'playwright-core';
import { corpusFiles, ONNX_FIXTURES } from '../unit/helpers';
import { startTreeHub, type TreeHub } from '../unit/treeHub';
import { useVsCode } from './session';
import { Playground } from './workbench';

const PROMPT = 'the mouse ate the';

describe('The playground keeps its results; the model list follows new models (code-server)', function () {
  let hub: TreeHub;
  let hubRoot: string;
  const settings: Record<string, unknown> = {};
  before(async () => {
    // A repository whose one graph (3 MiB) is larger than the download limit (1 MiB).
    hubRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-hub-'));
    const big = path.join(hubRoot, 'big');
    fs.mkdirSync(path.join(big, 'onnx'), { recursive: true });
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) fs.copyFileSync(path.join(ONNX_FIXTURES, 'tiny-llama', f), path.join(big, f));
    fs.writeFileSync(path.join(big, 'onnx', 'model.onnx'), Buffer.alloc(3 * 2 ** 20, 7));
    hub = await startTreeHub(hubRoot);
    settings['lmPlayground.hub.baseUrl'] = hub.url;
    settings['lmPlayground.hub.maxDownloadBytes'] = 2 ** 20;
  });
  after(() => {
    hub?.close();
    if (hubRoot) fs.rmSync(hubRoot, { recursive: true, force: true });
  });
  const session = useVsCode(settings);
  let frame: Frame;
  let playground: Playground;
  const fill = (id: string, value: string) => playground.fill(id, value);
  /** What the results show: each completion's text, each branch's head and text, the inside panel's heading and alternatives. */
  const onScreen = async () =>
    frame.evaluate(() => {
      const text = (sel: string) => Array.from(document.querySelectorAll(sel)).map((e) => (e as HTMLElement).innerText.replace(/\u00a0/g, ' '));
      const inside = document.getElementById('inside')!;
      return {
        completions: text('#results .completion .text'),
        meta: text('#results .completion .meta'),
        branches: text('.branches .branch'),
        inside: inside.hidden ? '(hidden)' : text('#inside-heading')[0],
        alternatives: text('#inside .inside-alternatives tr'),
        chosen: text('.tok.chosen-token'),
      };
    });
  const openPlayground = async () => {
    playground = await session.wb.openPlayground();
    frame = playground.frame;
  };
  const closePlayground = async () => {
    await session.wb.page.locator('.tab', { hasText: 'LM Playground' }).locator('.codicon-close').click({ force: true });
    await session.wb.page.locator('.tab', { hasText: 'LM Playground' }).waitFor({ state: 'detached' });
  };
  let earlier: Awaited<ReturnType<typeof onScreen>>;

  // The hub settings are user settings (application scope): the limit set for this session applies.
  it('LM: Download Model past lmPlayground.hub.maxDownloadBytes says so in a toast', async function () {
    const { wb } = session;
    await wb.runCommand('Notifications: Clear All Notifications');
    await wb.runCommand('LM: Download Model');
    await wb.page.locator('.quick-input-widget', { hasText: 'Hugging Face repository id' }).waitFor();
    await wb.page.locator('.quick-input-widget input').fill('test/big');
    await wb.page.keyboard.press('Enter');
    const toast = wb.notification(/larger than the download limit of [\d.]+ MiB \(lmPlayground\.hub\.maxDownloadBytes\)/);
    await toast.waitFor();
    // Still on screen, whole, once the progress notifications of the listing and the download are gone.
    await wb.page.waitForFunction(() => {
      const toasts = Array.from(document.querySelectorAll('.notifications-toasts .notification-toast'));
      const t = toasts.find((e) => /download limit/.test(e.textContent ?? ''));
      const progress = toasts.some((e) => /listing the files|downloading/.test(e.textContent ?? ''));
      return !progress && t && getComputedStyle(t).opacity === '1' && t.getBoundingClientRect().height > 0;
    });
    await wb.screenshot('download-limit-toast');
    await wb.runCommand('Notifications: Clear All Notifications');
  });

  it('a closed playground opens again with its results, its branch and the token the inside panel showed', async function () {
    const { wb } = session;
    await openPlayground();
    await fill('prompt', PROMPT);
    await fill('temperature', '0');
    await fill('maxTokens', '6');
    await fill('topKPerToken', '5');
    await frame.locator('#run').click();
    await frame.locator('#run:not([disabled])').waitFor();
    const completion = frame.locator('#results .completion').first();
    await completion.locator('.tok').nth(1).click();
    await frame.locator('#inside .continue-with').first().click();
    await frame.locator('.branches [data-branch="1"] .branch-head', { hasNotText: 'generating…' }).waitFor();
    // The inside panel on a token of the branch: the one to come back.
    await frame.locator('.branches [data-branch="1"] .tok[data-index="3"]').click();
    await frame.locator('#inside-heading', { hasText: 'token 4 of branch 1' }).waitFor();
    earlier = await onScreen();
    assert.strictEqual(earlier.branches.length, 1, JSON.stringify(earlier));
    await wb.screenshot('session-before-close');

    await closePlayground();
    await openPlayground();
    await frame.locator('#message', { hasText: 'Restored from the last session: 1 result and 1 branch as they were left' }).waitFor();
    await frame.locator('#inside .inside-alternatives').waitFor();
    assert.strictEqual(await frame.locator('#prompt textarea').inputValue(), PROMPT);
    assert.deepStrictEqual(await onScreen(), earlier);
    await wb.screenshot('session-reopened');
  });

  it('and after a window reload; the restored tree still branches', async function () {
    const { wb } = session;
    await wb.reloadWindow();
    playground = new Playground(await wb.webviewFrame('#prompt'));
    frame = playground.frame;
    await frame.locator('#inside .inside-alternatives').waitFor();
    assert.deepStrictEqual(await onScreen(), earlier);
    await wb.screenshot('session-after-reload');
    // A branch of the restored branch, numbered after it.
    await frame.locator('#inside .continue-with').first().click();
    await frame.locator('.branches [data-branch="2"] .branch-head', { hasNotText: 'generating…' }).waitFor();
    assert.match(await frame.locator('.branches [data-branch="2"] .branch-head').innerText(), /^branch 2 \(of branch 1\) · at token 4: /);
  });

  it('Save query… writes the results and branches with the query; opening the file shows them', async function () {
    const { wb } = session;
    const shown = await onScreen();
    await frame.locator('#save').click();
    const input = wb.page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await wb.page.keyboard.press('Enter');
    await wb.notification(/query saved to query\.lmquery\.json, with its 1 result and 2 branches/).waitFor();
    const saved = JSON.parse(fs.readFileSync(path.join(session.workspace, 'query.lmquery.json'), 'utf8'));
    assert.strictEqual(saved.prompt, PROMPT);
    assert.strictEqual(saved.results.cards[0].completions[0].branches.length, 2);
    // A new run replaces the results; the file brings them back.
    await fill('prompt', 'something else');
    await frame.locator('#run').click();
    await frame.locator('#run:not([disabled])').waitFor();
    assert.strictEqual(await frame.locator('.branches .branch').count(), 0);
    await wb.openFile('query.lmquery.json');
    await wb.runCommand('LM: Open Playground');
    await frame.locator('#message', { hasText: 'Opened query.lmquery.json: 1 result and 2 branches as they were left' }).waitFor();
    const opened = await onScreen();
    // The token the panel shows is marked again (a new branch's rows had dropped the mark).
    const heading = (await frame.locator('#inside-heading .mono').innerText()).replace(/␣/g, ' ');
    assert.deepStrictEqual(opened.chosen, [heading]);
    assert.deepStrictEqual({ ...opened, chosen: [] }, { ...shown, chosen: [] });
  });

  it('a model trained while the playground is open joins its Model list (Enter at the order step: the recommended 4-gram); the form and results stay', async function () {
    const { wb } = session;
    const corpus = fs.readFileSync(corpusFiles('train')[0], 'utf8').slice(0, 100_000);
    fs.writeFileSync(path.join(session.workspace, 'corpus.txt'), corpus);
    await fill('prompt', 'a prompt being written');
    const shown = await onScreen();
    const modelValue = () => frame.evaluate(() => (document.getElementById('model') as HTMLElement & { value: string }).value);
    const ranWith = await modelValue();
    await wb.runCommand('LM: Train N-gram Model on Workspace');
    const input = wb.page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill('corpus.txt');
    await wb.page.keyboard.press('Enter');
    await wb.page.locator('.quick-input-widget', { hasText: 'Train N-gram Model on Workspace (2/2)' }).waitFor();
    // The recommended order is the highlighted row: Enter takes it.
    await wb.page.locator('.quick-input-list .monaco-list-row.focused', { hasText: '4-gram' }).waitFor();
    await wb.page.keyboard.press('Enter');
    await wb.notification(/trained workspace-4gram/).waitFor({ timeout: 120_000 });
    await wb.page.locator('.tab', { hasText: 'LM Playground' }).click();
    await frame.locator('#message', { hasText: 'Now in the Model list: workspace-4gram' }).waitFor();
    const options = await frame.locator('#model vscode-option').allInnerTexts();
    assert.ok(
      options.some((o) => o.includes('workspace-4gram')),
      options.join(' | '),
    );
    assert.strictEqual(await frame.locator('#prompt textarea').inputValue(), 'a prompt being written');
    assert.deepStrictEqual(await onScreen(), shown);
    // The trained model is now the editor's; the page's Model stays the one whose results are shown (drive20 M1).
    assert.strictEqual(await modelValue(), ranWith);
    await frame.locator('#message', { hasText: /The editor now uses workspace-4gram; Model stays .*, whose results these are/ }).waitFor();
    await wb.screenshot('session-model-list-refreshed');
    // The new model runs from the list.
    await frame.evaluate(() => {
      const select = document.getElementById('model') as HTMLElement & { value: string };
      const option = Array.from(select.querySelectorAll('vscode-option')).find((o) => o.textContent?.includes('workspace-4gram'))!;
      select.value = option.getAttribute('value')!;
      select.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await fill('prompt', PROMPT);
    await frame.locator('#run').click();
    await frame.locator('#run:not([disabled])').waitFor();
    await frame.locator('#engine-status', { hasText: 'workspace-4gram' }).waitFor();
    await wb.runCommand('Notifications: Clear All Notifications');
  });
});
