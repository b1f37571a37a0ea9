/**
 * End-to-end: inside the model, in code-server. In the playground, choosing a token opens the
 * inside panel (the n-gram view for ngram-classics), and its alternatives branch the generation
 * into a tree; in the editor, the hover's "continue with …" links put an alternative in place of
 * the token and complete from it. Numbers are checked against the CLI of the same build.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { Frame } from 'playwright-core';
import { formatProbability } from '../../src/core/numberFormat';
import { logProbBits } from '../../src/playground/completionSummary';
import { REPO_ROOT } from '../../scripts/codeServer';
import { startServe, type RunningServe } from '../../scripts/serveProcess';
import { corpusFiles } from '../unit/helpers';
import { cli, useVsCode } from './session';
import type { Playground } from './workbench';

const PROMPT = 'the mouse ate the';
const MAX_TOKENS = 6;

describe('Inside the model: branches, the n-gram view, continue with (code-server)', function () {
  const session = useVsCode({
    'lmPlayground.generation.temperature': 0,
    'lmPlayground.generation.maxTokens': MAX_TOKENS,
    'editor.hover.delay': 150,
    'files.readonlyInclude': { '**/readonly.txt': true },
  });
  let frame: Frame;
  let playground: Playground;
  const fill = (id: string, value: string) => playground.fill(id, value);
  /** ln p of `text` after the prompt, as the CLI scores prompt + text minus the prompt alone. */
  const continuationLogProb = (text: string) => {
    const score = (name: string, t: string) => {
      const file = path.join(session.workspace, name);
      fs.writeFileSync(file, t);
      return JSON.parse(cli('score', '--model', 'ngram-classics', '--json', file)).logprob_nats as number;
    };
    return score('with-branch.txt', PROMPT + text) - score('prompt-only.txt', PROMPT);
  };
  const shown = (s: string) => s.replace(/\u00a0/g, ' ');

  it('choosing a token shows the n-gram view: the order used, the backoffs paid, and the factors multiply to its p', async function () {
    const { wb } = session;
    playground = await wb.openPlayground({ prompt: PROMPT, temperature: '0', maxTokens: String(MAX_TOKENS), topKPerToken: '5' });
    frame = playground.frame;
    await frame.locator('#run').click();
    await frame.locator('#run:not([disabled])').waitFor();
    const completion = frame.locator('#results .completion').first();
    await completion.locator('.tok').first().waitFor();
    // The second generated token: click it.
    const token = completion.locator('.tok').nth(1);
    await token.click();
    const inside = frame.locator('#inside');
    await inside.waitFor({ state: 'visible' });
    const table = inside.locator('#ngram-trace-table');
    await table.waitFor();
    const expected = JSON.parse(
      cli('generate', '--model', 'ngram-classics', '--prompt', PROMPT, '--temperature', '0', '--max-tokens', String(MAX_TOKENS), '--json'),
    ).completions[0];
    const second = expected.tokens[1] as { text: string; logprob: number };
    const text = await inside.innerText();
    assert.match(text, /Order used: \d-gram of a 4-gram model/);
    assert.match(text, /Counts: this model does not keep them/);
    // The product row and the token's p, as every p on screen is formatted.
    const product = await table.locator('tfoot .product').innerText();
    assert.strictEqual(product, formatProbability(Math.exp(second.logprob)), `the CLI's p of ${JSON.stringify(second.text)}: ${text}`);
    await table.scrollIntoViewIfNeeded();
    assert.match(text, new RegExp(`the token's p as generated: ${product.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    await wb.screenshot('inside-ngram-view');
  });

  it('“continue with” an alternative grows a branch from that token: its path, path probability and divergence', async function () {
    const { wb } = session;
    const completion = frame.locator('#results .completion').first();
    const prefix = shown(await completion.locator('.tok').nth(0).innerText());
    const button = frame.locator('#inside .continue-with').first();
    const label = (await button.getAttribute('aria-label'))!.replace(/^Continue with /, '');
    await button.click();
    const branch = frame.locator('.branches [data-branch="1"]');
    await branch.locator('.branch-head', { hasNotText: 'generating…' }).waitFor();
    const head = await branch.locator('.branch-head').innerText();
    assert.match(head, new RegExp(`^branch 1 · at token 2: ${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} instead of `));
    const pathText = shown(await branch.locator('.branch-text').innerText());
    assert.ok(
      pathText.startsWith(prefix + label.replace(/␣/g, ' ')),
      `the branch's path starts with the shared token and the alternative: ${JSON.stringify(pathText)}`,
    );
    // Greedy from there, as the CLI continues the same text; p(path) as the CLI scores it.
    const cont = JSON.parse(
      cli(
        'generate',
        '--model',
        'ngram-classics',
        '--prompt',
        PROMPT + prefix + label.replace(/␣/g, ' '),
        '--temperature',
        '0',
        '--max-tokens',
        String(MAX_TOKENS),
        '--json',
      ),
    ).completions[0].text;
    assert.strictEqual(pathText, prefix + label.replace(/␣/g, ' ') + cont);
    assert.ok(
      head.includes(`log₂ p(path) = ${logProbBits(continuationLogProb(pathText))}`),
      `${head} vs the CLI's ${logProbBits(continuationLogProb(pathText))}`,
    );
    // The completion itself is still there, whole.
    assert.strictEqual(await completion.locator('.tok').count(), MAX_TOKENS);
    await wb.screenshot('inside-branch');
  });

  it('keyboard: Enter on a token of the branch, Tab to an alternative, Enter: a branch of the branch', async function () {
    const { wb } = session;
    const branch = frame.locator('.branches [data-branch="1"]');
    // The branch's own third token (path index 3): focus it and press Enter.
    await branch.locator('.tok[data-index="3"]').focus();
    await wb.page.keyboard.press('Enter');
    const heading = frame.locator('#inside-heading');
    await heading.filter({ hasText: 'token 4 of branch 1' }).waitFor();
    assert.ok(await heading.evaluate((h) => h === document.activeElement), 'the inside panel takes the focus');
    // Tab reaches the first "continue with" button; Enter branches.
    const first = frame.locator('#inside .continue-with').first();
    for (let i = 0; i < 10 && !(await first.evaluate((b) => b === document.activeElement || b.matches(':focus-within'))); i++)
      await wb.page.keyboard.press('Tab');
    await wb.page.keyboard.press('Enter');
    const nested = frame.locator('.branches [data-branch="2"]');
    await nested.locator('.branch-head', { hasNotText: 'generating…' }).waitFor();
    assert.strictEqual(await nested.getAttribute('data-depth'), '2', 'a branch of branch 1, one level down');
    // Indented on screen one step further than its parent (the page's CSP refuses a style attribute).
    const indent = (row: typeof nested) => row.evaluate((r) => r.getBoundingClientRect().left);
    assert.ok((await indent(nested)) > (await indent(branch)), 'the nested branch is indented under its parent');
    assert.match(await nested.locator('.branch-head').innerText(), /^branch 2 \(of branch 1\) · at token 4: /);
    // Every branch is kept: the completion, branch 1, branch 2; the new branch's row has the focus.
    assert.strictEqual(await frame.locator('.branches .branch').count(), 2);
    const focused = await nested.evaluate((row) =>
      row === document.activeElement ? 'the row' : (document.activeElement?.outerHTML.slice(0, 200) ?? 'nothing'),
    );
    assert.strictEqual(focused, 'the row', 'the new branch takes the focus');
    await wb.screenshot('inside-branch-tree');
  });

  it('branches with the embedded neural model too (gpt-classics in the page’s worker), as the CLI continues the same text', async function () {
    const { wb } = session;
    await wb.page.locator('.tab', { hasText: 'LM Playground' }).click();
    await playground.chooseModel('gpt-classics');
    await frame.locator('#run').click();
    await frame.locator('#run:not([disabled])').waitFor();
    const completion = frame.locator('#results .completion').first();
    await completion.locator('.tok').first().waitFor({ state: 'attached' });
    assert.match(await frame.locator('#engine-status').innerText(), /gpt-classics/);
    // The first token with a letter (a line break's span has no box to click), and the text before it.
    const texts = (await completion.locator('.tok').allTextContents()).map(shown);
    const index = texts.findIndex((t) => /\p{L}/u.test(t));
    assert.ok(index >= 0, `a word among ${JSON.stringify(texts)}`);
    const prefix = texts.slice(0, index).join('');
    const span = completion.locator('.tok').nth(index);
    const tokenIndex = Number(await span.getAttribute('data-index'));
    await span.click();
    // A transformer declares no n-gram view: the panel has the token and its alternatives only.
    await frame.locator('#inside-heading', { hasText: `token ${tokenIndex + 1} of the completion` }).waitFor();
    assert.strictEqual(await frame.locator('#inside [data-view="ngram-backoff"]').count(), 0);
    const button = frame.locator('#inside .continue-with').first();
    const label = (await button.getAttribute('aria-label'))!.replace(/^Continue with /, '');
    await button.click();
    const branch = frame.locator('.branches [data-branch="1"]');
    await branch.locator('.branch-head', { hasNotText: 'generating…' }).waitFor();
    const chosen = label.replace(/␣/g, ' ').replace(/⏎/g, '\n');
    const pathText = shown(await branch.locator('.branch-text').innerText());
    const cont = JSON.parse(
      cli('generate', '--model', 'gpt-classics', '--prompt', PROMPT + prefix + chosen, '--temperature', '0', '--max-tokens', String(MAX_TOKENS), '--json'),
    ).completions[0].text;
    assert.strictEqual(pathText, prefix + chosen + cont);
    await wb.screenshot('inside-branch-gpt-classics');
  });

  it('the hover offers “continue with” each alternative: the token is replaced and completed, in one undo step', async function () {
    const { wb } = session;
    await wb.openFile('mouse.txt');
    await wb.hoverWord('the', 1);
    const hover = wb.hover();
    await hover.waitFor({ state: 'visible' });
    const text = shown(await hover.innerText());
    assert.match(text, /n-gram: \d-gram of a 4-gram model/, `the hover's n-gram line: ${text}`);
    const link = hover.locator('a', { hasText: /^␣/ }).first();
    await link.waitFor();
    const alternative = shown(await link.innerText()).replace(/␣/g, ' ');
    await wb.screenshot('hover-continue-with');
    await link.click();
    const prompt = 'the mouse ate' + alternative;
    await wb.page.waitForFunction(
      (p) =>
        (document.querySelector('.editor-instance .view-line') as HTMLElement | null)?.innerText.replace(/\u00a0/g, ' ').startsWith(p) &&
        document.querySelector('.editor-instance .view-line')!.textContent!.length > p.length,
      prompt,
    );
    const completion = JSON.parse(
      cli('generate', '--model', 'ngram-classics', '--prompt', prompt, '--temperature', '0', '--max-tokens', String(MAX_TOKENS), '--json'),
    ).completions[0].text as string;
    const flat = (s: string) => s.replace(/\s+/g, ' ').trim();
    assert.strictEqual(flat(await wb.editorText()), flat(prompt + completion), 'the alternative, then the CLI’s greedy completion from it');
    // The hover of the replaced token, with its numbers and links, is gone.
    await wb.page.locator('.monaco-hover:not(.hidden)', { hasText: 'Continue with' }).waitFor({ state: 'hidden' });
    await wb.screenshot('hover-continued');
    await wb.page.keyboard.press('Control+Z');
    await wb.page.waitForFunction(
      () => (document.querySelector('.editor-instance .view-line') as HTMLElement | null)?.innerText.replace(/\u00a0/g, ' ').trimEnd() === 'the mouse ate the',
    );
  });

  it('a read-only editor (files.readonlyInclude): the hover says so and offers no “continue with”', async function () {
    const { wb } = session;
    fs.writeFileSync(path.join(session.workspace, 'readonly.txt'), PROMPT);
    await wb.openFile('readonly.txt');
    await wb.hoverWord('the', 1);
    const hover = wb.hover();
    await hover.filter({ hasText: 'No “continue with” here: the document is read-only (files.readonlyInclude: **/readonly.txt)' }).waitFor();
    assert.strictEqual(await hover.locator('a', { hasText: /^␣/ }).count(), 0, 'no links');
    assert.strictEqual((await wb.editorText()).trimEnd(), PROMPT);
    await wb.screenshot('hover-continue-with-read-only');
  });

  it('a model trained on the workspace keeps its counts: the n-gram view shows Kneser-Ney’s formula for the token', async function () {
    const { wb } = session;
    const corpus = fs.readFileSync(corpusFiles('train')[0], 'utf8').slice(0, 200_000);
    fs.writeFileSync(path.join(session.workspace, 'corpus.txt'), corpus);
    await wb.runCommand('LM: Train N-gram Model on Workspace');
    const input = wb.page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill('corpus.txt');
    await wb.page.keyboard.press('Enter');
    await wb.page.locator('.quick-input-list .monaco-list-row', { hasText: '3-gram' }).first().click();
    await wb.notification(/trained workspace-3gram/).waitFor();
    await wb.runCommand('Notifications: Clear All Notifications');
    // A new playground lists the new model.
    await wb.page.locator('.tab', { hasText: 'LM Playground' }).locator('.codicon-close').click({ force: true });
    playground = await wb.openPlayground();
    frame = playground.frame;
    await frame.evaluate(() => {
      const select = document.getElementById('model') as HTMLElement & { value: string };
      const option = Array.from(select.querySelectorAll('vscode-option')).find((o) => o.textContent?.includes('workspace-3gram'));
      if (!option) throw new Error(`no workspace-3gram among ${select.textContent}`);
      select.value = option.getAttribute('value')!;
      select.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await fill('prompt', PROMPT);
    await fill('temperature', '0');
    await fill('maxTokens', String(MAX_TOKENS));
    await frame.locator('#run').click();
    await frame.locator('#run:not([disabled])').waitFor();
    const completion = frame.locator('#results .completion').first();
    assert.match(await frame.locator('#engine-status').innerText(), /workspace-3gram/);
    const texts = (await completion.locator('.tok').allTextContents()).map(shown);
    await completion
      .locator('.tok')
      .nth(texts.findIndex((t) => /\p{L}/u.test(t)))
      .click();
    const inside = frame.locator('#inside');
    await inside.locator('.estimate').first().waitFor();
    const text = await inside.innerText();
    assert.match(text, /Order used: \d-gram of a 3-gram model/);
    assert.match(text, /Counts behind the \d-gram’s p \(interpolated Kneser-Ney\)/);
    // p from the counts, next to the stored p: the same to the 4 digits shown.
    const formula = /p = \(.* = ([\d.e+-]+) \(stored: ([\d.e+-]+)\)/.exec(text);
    assert.ok(formula, `the formula line in:\n${text}`);
    assert.strictEqual(formula[1], formula[2]);
    assert.doesNotMatch(text, /does not keep them/);
    await inside.locator('.estimate').last().scrollIntoViewIfNeeded();
    await wb.screenshot('inside-ngram-counts');
  });

  it('“continue with ⏎” on the first token of a file: the line break goes in and the model completes after it', async function () {
    const { wb } = session;
    // gpt-classics: its alternatives at a text's start include ⏎.
    fs.writeFileSync(path.join(session.workspace, '.vscode', 'settings.json'), JSON.stringify({ 'lmPlayground.model': 'gpt-classics' }));
    await wb.page
      .locator('.statusbar-item', { hasText: /gpt-classics/ })
      .first()
      .waitFor({ timeout: 120_000 });
    const first = 'Hello world, this is a test';
    fs.writeFileSync(path.join(session.workspace, 'first.txt'), first);
    await wb.openFile('first.txt');
    // Its first token, "H" (gpt-classics spells Hello H + ell + o).
    await wb.hoverWord('H');
    await wb
      .hover()
      .filter({ hasText: /token\s+H\s*p\s*=/ })
      .waitFor();
    const link = wb.hover().locator('a', { hasText: /^⏎$/ }).first();
    await link.waitFor();
    await link.click();
    // "H" became a line break and a completion follows it; the rest of the line stays after it.
    await wb.page.waitForFunction((rest) => {
      const lines = Array.from(document.querySelectorAll('.editor-instance .view-lines .view-line')) as HTMLElement[];
      const text = lines
        .sort((a, b) => parseFloat(a.style.top || '0') - parseFloat(b.style.top || '0'))
        .map((l) => l.innerText.replace(/\u00a0/g, ' '))
        .join('\n');
      return text.startsWith('\n') && text.trimEnd().endsWith(rest) && text.trim().length > rest.length;
    }, first.slice('Hello'.length));
    assert.strictEqual(await wb.notification(/needs a prompt/).count(), 0, 'no “needs a prompt” warning');
    await wb.screenshot('hover-continue-with-line-break-at-start');
  });
});

describe('Inside the model with a model on a server (lmp serve, code-server)', function () {
  const session = useVsCode({ 'lmPlayground.generation.temperature': 0, 'lmPlayground.inline.enabled': false });
  let serve: RunningServe;
  const PROMPT_TEXT = 'Dear Margaret, I write to you from the house in the country, where the rain';

  before(async function () {
    serve = await startServe(path.join(REPO_ROOT, 'dist', 'cli.js'), 'gpt-classics');
  });
  after(async () => {
    await serve?.stop();
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.log(`=== lmp serve ===\n${serve?.log()}`);
  });

  it('“continue with” grows a branch the server generates (the text the local model continues), and the panel says why it shows less', async function () {
    const { wb } = session;
    // The server's model made the active one, as a user adds it (LM: Select Model → Add remote model…).
    await wb.addRemoteModel(serve.baseURL, 'gpt-classics');
    await wb.page.locator('.quick-input-widget', { hasText: 'API key' }).waitFor();
    await wb.page.keyboard.press('Enter');
    await wb.notification(/now using gpt-classics on server/).waitFor({ timeout: 120_000 });

    const remote = await wb.openPlayground();
    const frame = remote.frame;
    assert.strictEqual(await remote.model(), `${serve.baseURL}#gpt-classics`);
    await remote.fillForm({ prompt: PROMPT_TEXT, temperature: '0', maxTokens: '12', topKPerToken: '5' });
    await frame.locator('#run').click();
    await frame.locator('#run:not([disabled])').waitFor({ timeout: 120_000 });
    const completion = frame.locator('#results .completion').first();
    const texts = (await completion.locator('.tok').allTextContents()).map((s) => s.replace(/\u00a0/g, ' '));
    await completion.locator('.tok').nth(2).click();
    const inside = frame.locator('#inside');
    await frame.locator('#inside-heading', { hasText: 'token 3 of the completion' }).waitFor();
    assert.match(await inside.locator('.server-note').innerText(), /runs on a server, which gives only its top-k .*no logit lens, attention or n-gram view/);
    const button = inside.locator('.continue-with').first();
    const label = (await button.getAttribute('aria-label'))!.replace(/^Continue with /, '');
    await button.click();
    const branch = frame.locator('.branches [data-branch="1"]');
    await branch.locator('.branch-head', { hasNotText: 'generating…' }).waitFor({ timeout: 120_000 });
    const head = await branch.locator('.branch-head').innerText();
    await branch.scrollIntoViewIfNeeded();
    await wb.screenshot('inside-remote-branch');
    assert.match(head, / · 15 tokens · seed \d+ · reached max tokens$/, `the branch: ${head}; message: ${await frame.locator('#message').innerText()}`);
    // What the local model continues the same text with (greedy).
    const prefix = texts.slice(0, 2).join('') + label.replace(/␣/g, ' ').replace(/⏎/g, '\n');
    const pathText = (await branch.locator('.branch-text').innerText()).replace(/\u00a0/g, ' ');
    const cont = JSON.parse(cli('generate', '--model', 'gpt-classics', '--prompt', PROMPT_TEXT + prefix, '--temperature', '0', '--max-tokens', '12', '--json'))
      .completions[0].text;
    assert.strictEqual(pathText, prefix + cont);
  });
});
