/**
 * End-to-end: the in-editor features in code-server: ghost text while typing, the token
 * probability heat-map, the status bar's bits per character, Compare Models, and training an
 * n-gram model on the workspace; long commands cancelled leave nothing behind.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { REPO_ROOT } from '../../scripts/codeServer';
import { InlineCompletionEngine } from '../../src/editor/inlineEngine';
import { loadModel } from '../../src/node/modelLoader';
import { formatBits, formatProbability, surprisalBits } from '../../src/core/numberFormat';
import { cli, useVsCode } from './session';
import type { Workbench } from './workbench';

const CORPUS = path.join(REPO_ROOT, '..', 'shared', 'corpus', 'en', 'train');


describe('In-editor features (code-server)', function () {
  const session = useVsCode({ 'editor.hover.delay': 150, 'lmPlayground.inline.debounceMs': 100 });
  let wb: Workbench;
  let workspace: string;

  before(function () {
    ({ wb, workspace } = session);
    fs.writeFileSync(path.join(workspace, 'typing.txt'), '');
    // A long text (public-domain books from the shared corpus) for the commands that take a while.
    fs.mkdirSync(path.join(workspace, 'books'));
    for (const f of fs.readdirSync(CORPUS).filter((f) => f.endsWith('.txt'))) fs.copyFileSync(path.join(CORPUS, f), path.join(workspace, 'books', f));
    fs.writeFileSync(path.join(workspace, 'long.txt'), fs.readFileSync(path.join(CORPUS, 'emma.txt'), 'utf8').slice(0, 400_000));
  });

  const decorated = () => wb.page.locator('.editor-instance .cdr[class*="TextEditorDecorationType"]');
  const statusItem = (text: string | RegExp) => wb.page.locator('.statusbar-item', { hasText: text }).first();

  /** Runs LM: Train N-gram Model on Workspace, answering its glob and order prompts. */
  async function startTraining(glob: string, order: number): Promise<void> {
    await wb.runCommand('LM: Train N-gram Model on Workspace');
    const input = wb.page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill(glob);
    await wb.page.keyboard.press('Enter');
    await wb.page.locator('.quick-input-list .monaco-list-row', { hasText: `${order}-gram` }).first().click();
  }

  it('shows ghost text from the embedded model while typing, and Tab accepts it', async function () {
    await wb.openFile('typing.txt');
    await wb.focusEditor();
    const prompt = 'the mouse ate the';
    // One edit, so that exactly one suggestion is asked for this text.
    await wb.page.keyboard.insertText(prompt);
    const ghostText = async () => (await wb.page.locator('.editor-instance .ghost-text-decoration').allInnerTexts()).join('').replace(/\u00a0/g, ' ');
    await wb.page.locator('.editor-instance .ghost-text-decoration').first().waitFor();
    const shown = await ghostText();
    // The same suggestion the engine gives for this text with the default settings.
    const model = await loadModel('ngram-classics');
    const engine = new InlineCompletionEngine(async () => model, () => ({ debounceMs: 0, maxTokens: 16, temperature: 0, stopAtLineEnd: true, maxWords: 8, stopSequences: [] }));
    const expected = await engine.suggest({ doc: 'x', offset: prompt.length, prompt, textBefore: prompt, after: '', manual: true }, { cancelled: false });
    assert.ok(expected, 'the engine suggests something');
    assert.strictEqual(shown, expected.text);
    await wb.screenshot('ghost-text');
    // Typing the suggestion's own first characters keeps the rest of it on screen.
    await wb.page.keyboard.type(expected.text.slice(0, 2));
    await wb.page.waitForFunction(
      (rest) => Array.from(document.querySelectorAll('.editor-instance .ghost-text-decoration')).map((e) => (e as HTMLElement).innerText).join('').replace(/\u00a0/g, ' ') === rest,
      expected.text.slice(2),
    );
    await wb.page.keyboard.press('Tab');
    await wb.page.waitForFunction((t) => (document.querySelector('.editor-instance .view-lines') as HTMLElement | null)?.innerText.replace(/\u00a0/g, ' ').trimEnd() === t, prompt + expected.text);
    await wb.page.keyboard.press('Control+S');
  });

  it('turns ghost text off and on from the status bar', async function () {
    await statusItem('LM ghost text').click();
    await wb.page.locator('.statusbar-item', { hasText: 'LM ghost text' }).locator('.codicon-circle-slash').first().waitFor();
    await statusItem('LM ghost text').click();
    await wb.page.locator('.statusbar-item', { hasText: 'LM ghost text' }).locator('.codicon-sparkle').first().waitFor();
  });

  it("shows the document's bits per character in the status bar, as the CLI scores it", async function () {
    await wb.openFile('sentences.txt');
    const scored = JSON.parse(cli('score', '--model', 'ngram-classics', '--json', path.join(workspace, 'sentences.txt')));
    await statusItem(`${scored.bits_per_char.toFixed(2)} bits/char`).waitFor();
  });

  it('colours tokens by rank (heat-map); the hover gives the numbers behind the colour; clearing removes it', async function () {
    await wb.openFile('sentences.txt');
    await wb.runCommand('LM: Show Token Probabilities');
    await decorated().first().waitFor();
    assert.ok((await decorated().count()) > 10, 'many tokens are coloured');
    await wb.screenshot('heatmap');
    await wb.hoverWord('cheese');
    const hover = wb.page.locator('.monaco-hover:not(.hidden)').filter({ hasText: 'Heat-map colour' }).first();
    await hover.waitFor();
    const text = (await hover.innerText()).replace(/\u00a0/g, ' ');
    const scored = JSON.parse(cli('score', '--model', 'ngram-classics', '--json', '--details', path.join(workspace, 'sentences.txt'))).token_scores;
    const cheese = scored.find((t: { text: string }) => t.text === ' cheese');
    const bucket = cheese.rank <= 10 ? 'top 10' : cheese.rank <= 100 ? 'top 100' : cheese.rank <= 1000 ? 'top 1000' : 'rank > 1000';
    assert.ok(text.includes(`Heat-map colour: ${bucket}`), text);
    const numbers = `rank ${cheese.rank.toLocaleString('en-US')} · p = ${formatProbability(Math.exp(cheese.logprob))} · ${formatBits(surprisalBits(cheese.logprob))}`;
    assert.ok(text.includes(numbers), `the CLI's ${numbers}: ${text}`);
    await wb.page.mouse.move(5, 5);
    await wb.runCommand('LM: Clear Token Probabilities');
    await decorated().first().waitFor({ state: 'detached' });
  });

  it('recolours after an edit', async function () {
    await wb.openFile('mouse.txt');
    await wb.runCommand('LM: Show Token Probabilities');
    await decorated().first().waitFor();
    const before = await decorated().count();
    await wb.focusEditor();
    await wb.page.keyboard.press('Control+End');
    await wb.page.keyboard.type(' cheese and the bread', { delay: 20 });
    await wb.page.waitForFunction((n) => document.querySelectorAll('.editor-instance .cdr[class*="TextEditorDecorationType"]').length > n, before);
    await wb.runCommand('LM: Clear Token Probabilities');
    await wb.runCommand('File: Revert File');
  });

  it('compares every available model on the document in a table and a plot', async function () {
    await wb.openFile('sentences.txt');
    await wb.runCommand('LM: Compare Models on Document');
    const frame = await wb.webviewFrame('#results');
    const rows = frame.locator('#results tbody tr');
    await rows.nth(1).waitFor();
    const table = (await frame.locator('#results').innerText()).replace(/\u00a0/g, ' ');
    for (const name of ['ngram-classics', 'gpt-classics']) {
      const scored = JSON.parse(cli('score', '--model', name, '--json', path.join(workspace, 'sentences.txt')));
      const bpc = scored.bits_per_char.toFixed(3);
      assert.match(table, new RegExp(`${name}[^\\n]*\\t${bpc}\\t`), `${name} at ${bpc} bits/char in:\n${table}`);
      const oov = scored.oov ? `${scored.oov} \\(${((100 * scored.oov) / scored.tokens).toFixed(1)} %\\)` : '0';
      assert.match(table, new RegExp(`${name}[^\\n]*\\t${scored.tokens}\\t${oov}\\t`), `${name} with ${oov} OOV tokens in:\n${table}`);
    }
    // sentences.txt has a word the n-gram model does not know: the note says what that means.
    assert.match(await frame.locator('.oov-note').innerText(), /ngram-classics[^.]* scored words outside (its|their) vocabular/);
    await frame.locator('canvas#curve').waitFor();
    assert.match(await frame.locator('.theory').innerText(), /H\(p, q\) ≥ H\(p\)/);
    await wb.screenshot('compare-models');
    await wb.runCommand('View: Close All Editors');
  });

  it('trains an n-gram model on workspace files, selects it and uses it', async function () {
    await startTraining('*.txt', 3);
    const toast = wb.notification(/trained workspace-3gram/);
    await toast.waitFor();
    assert.match(await toast.innerText(), /held-out perplexity [\d.]+ per token|no held-out text/);
    await statusItem('workspace-3gram').waitFor();
    await wb.openFile('sentences.txt');
    await wb.hoverWord('cheese');
    await wb.page.locator('.monaco-hover:not(.hidden)').filter({ hasText: 'workspace-3gram' }).first().waitFor();
    await wb.page.mouse.move(5, 5);
    await wb.runCommand('Notifications: Clear All Notifications');
  });

  describe('cancelled long commands leave nothing behind', function () {
    /** Clicks Cancel on the progress notification whose text matches. */
    async function cancelProgress(title: RegExp): Promise<void> {
      const toast = wb.notification(title);
      await toast.waitFor();
      await toast.locator('.monaco-button', { hasText: 'Cancel' }).click();
    }

    it('training', async function () {
      const trained = path.join(session.server.userDataDir, 'User', 'globalStorage', 'lm-playground.lm-playground', 'trained', 'workspace-5gram');
      await startTraining('books/*.txt', 5);
      await cancelProgress(/training workspace-5gram/);
      await wb.notification(/training cancelled/).waitFor();
      assert.ok(!fs.existsSync(trained), 'no model folder was written');
      await statusItem('workspace-3gram').waitFor();
      await wb.runCommand('Notifications: Clear All Notifications');
    });

    it('the heat-map', async function () {
      await wb.openFile('long.txt');
      await wb.runCommand('LM: Show Token Probabilities');
      await cancelProgress(/token probabilities with/);
      await wb.notification(/token probabilities cancelled/).waitFor();
      assert.strictEqual(await decorated().count(), 0, 'no colours are left');
      await wb.runCommand('Notifications: Clear All Notifications');
    });

    it('the comparison', async function () {
      await wb.openFile('long.txt');
      await wb.runCommand('LM: Compare Models on Document');
      await cancelProgress(/comparing models/);
      await wb.notification(/comparison cancelled/).waitFor();
      assert.strictEqual(await wb.page.locator('.tabs-container .tab', { hasText: 'Compare Models' }).count(), 0, 'no panel was opened');
    });
  });
});
