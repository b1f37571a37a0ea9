/**
 * End-to-end: the packaged .vsix installed in a real VS Code (code-server), driven from headless
 * Chromium. Screenshots go to test-results/e2e/.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { formatBits, surprisalBits } from '../../src/core/numberFormat';
import { oneLineLabel } from '../../src/editor/completionControls';
import { cli, useVsCode } from './session';
import type { Workbench } from './workbench';

const MAX_TOKENS = 6;

describe('LM Playground in VS Code (code-server)', function () {
  const session = useVsCode({
    'lmPlayground.generation.temperature': 0,
    'lmPlayground.generation.maxTokens': MAX_TOKENS,
    'editor.hover.delay': 150,
    'files.readonlyInclude': { '**/readonly.txt': true },
  });
  let wb: Workbench;
  let workspace: string;

  before(function () {
    ({ wb, workspace } = session);
    fs.writeFileSync(path.join(workspace, 'empty.txt'), '');
  });

  /** Selects the first line of the active editor and runs LM: Complete Selection. */
  async function completeFirstLine(): Promise<void> {
    await wb.focusEditor();
    await wb.page.keyboard.press('Control+Home');
    await wb.page.keyboard.press('Shift+End');
    await wb.runCommand('LM: Complete Selection');
  }

  it('completes the selection with the embedded n-gram model (LM: Complete Selection)', async function () {
    await wb.openFile('mouse.txt');
    await completeFirstLine();
    const expected =
      'the mouse ate the' +
      JSON.parse(
        cli('generate', '--model', 'ngram-classics', '--prompt', 'the mouse ate the', '--temperature', '0', '--max-tokens', String(MAX_TOKENS), '--json'),
      ).completions[0].text;
    await wb.page.waitForFunction(
      () =>
        Array.from(document.querySelectorAll('.editor-instance .view-line'))
          .map((e) => (e as HTMLElement).innerText)
          .join('\n')
          .replace(/\u00a0/g, ' ').length >
        'the mouse ate the'.length + 2,
    );
    // A completion this short opens no progress notification, which would stay up to 0.8 s after the insert.
    assert.ok(!(await wb.notification(/completing with/).isVisible()), 'no progress notification is left over the inserted text');
    const text = await wb.editorText();
    assert.strictEqual(text.trimEnd(), expected.trimEnd(), 'the inserted text is the greedy completion the CLI produces for the same model');
    await wb.screenshot('complete-selection');
    // One undo step removes the whole completion.
    await wb.page.keyboard.press('Control+Z');
    await wb.page.waitForFunction(
      () => (document.querySelector('.editor-instance .view-line') as HTMLElement | null)?.innerText.replace(/\u00a0/g, ' ').trimEnd() === 'the mouse ate the',
    );
  });

  it('a read-only document: the completion is offered to copy, not silently dropped', async function () {
    fs.writeFileSync(path.join(workspace, 'readonly.txt'), 'the mouse ate the');
    await wb.openFile('readonly.txt');
    await completeFirstLine();
    const refused = wb.notification(/the completion was not inserted/);
    await refused.waitFor();
    await wb.screenshot('complete-selection-read-only');
    assert.strictEqual((await refused.locator('.monaco-button', { hasText: 'Copy Completion' }).count()) > 0, true, 'Copy is offered');
    assert.strictEqual((await wb.editorText()).trimEnd(), 'the mouse ate the');
    await wb.runCommand('Notifications: Clear All Notifications');
  });

  it('shows the probability of a hovered word, as the CLI scores it', async function () {
    await wb.openFile('sentences.txt');
    await wb.hoverWord('cheese');
    const hover = wb.hover();
    await hover.waitFor({ state: 'visible' });
    await hover.filter({ hasText: 'rank' }).waitFor();
    const text = (await hover.innerText()).replace(/\u00a0/g, ' ');
    await wb.screenshot('token-hover');
    assert.match(text, /ngram-classics/);
    assert.match(text, /␣cheese/, 'the hovered token is " cheese", its space drawn');
    assert.match(text, /␣ = space/, 'and the symbol explained');
    const rank = Number(/rank\s+([\d,]+)/.exec(text)?.[1].replace(/,/g, ''));
    const scored = JSON.parse(cli('score', '--model', 'ngram-classics', '--json', '--details', path.join(workspace, 'sentences.txt'))).token_scores;
    const cheese = scored.find((t: { text: string }) => t.text === ' cheese');
    assert.strictEqual(rank, cheese.rank, `hover rank ${rank} vs CLI rank ${cheese.rank}`);
    const surprisal = formatBits(surprisalBits(cheese.logprob));
    assert.ok(text.includes(`surprisal −log₂ p = ${surprisal}`), `hover shows the surprisal ${surprisal}: ${text}`);
    assert.ok(!text.includes('nats'), `bits only: ${text}`);
    await wb.page.mouse.move(5, 5);
  });

  it('offers several completions in a quick pick, most probable first, and inserts the chosen one', async function () {
    fs.writeFileSync(
      path.join(workspace, '.vscode', 'settings.json'),
      JSON.stringify({ 'lmPlayground.generation.numCompletions': 3, 'lmPlayground.generation.temperature': 1, 'lmPlayground.generation.seed': 42 }),
    );
    await wb.openFile('mouse.txt');
    await completeFirstLine();
    const rows = wb.page.locator('.quick-input-list .monaco-list-row');
    await rows.nth(2).waitFor();
    const labels = (await rows.allInnerTexts()).map((t) => t.replace(/\u00a0/g, ' '));
    // In bits, as every other screen: "log₂ p = −93.51 bits".
    const logps = labels.map((t) => Number(/log₂ p = (−?[\d.,]+) bits/.exec(t)?.[1].replace('−', '-').replace(/,/g, '')));
    assert.strictEqual(logps.length, 3, labels.join(' | '));
    assert.ok(
      logps.every((x, i) => Number.isFinite(x) && (i === 0 || logps[i - 1] >= x)),
      `sorted by log p: ${logps}`,
    );
    // Why each ended: no stop sequence is set, so none says so (drive20 M2: a blank line was called one).
    for (const l of labels) assert.ok(/· \d+ tokens? · finished: (max tokens|end of text|blank line)/.test(l) && !/\b1 tokens\b/.test(l), l);
    // The rank's log p includes the token that ended a completion, and the row says so (hostile22 L1).
    for (const l of labels)
      assert.strictEqual(/finished: [a-z ]+ · counting (its end of text|the .+ that ended it)$/.test(l), !/finished: max tokens/.test(l), l);
    await wb.screenshot('quick-pick-completions');
    // The second one, not the likeliest: the one clicked is the one inserted.
    // A row's label (its first line; the second is the detail).
    const label = async (i: number) => (await rows.nth(i).locator('.label-name').first().innerText()).replace(/\u00a0/g, ' ').trim();
    const names = [await label(0), await label(1)];
    const chosen = names[1];
    assert.notStrictEqual(chosen, names[0], `two different completions: ${labels.join(' | ')}`);
    const prompt = 'the mouse ate the';
    const before = await wb.editorText();
    await rows.nth(1).click();
    await wb.page.waitForFunction(
      (n) => (document.querySelector('.editor-instance .view-lines') as HTMLElement | null)!.innerText.replace(/\u00a0/g, ' ').length > n,
      before.length + 1,
    );
    // What was inserted after the prompt, shown as the pick's label shows it (line breaks as ⏎, tabs as →).
    const after = await wb.editorText();
    const rest = before.slice(prompt.length);
    assert.ok(after.startsWith(prompt) && after.endsWith(rest), JSON.stringify(after));
    const inserted = after.slice(prompt.length, after.length - rest.length);
    const asLabel = oneLineLabel(inserted)
      .replace(/\u00a0/g, ' ')
      .trim();
    assert.strictEqual(asLabel, chosen, `inserted ${JSON.stringify(inserted)}`);
    await wb.page.keyboard.press('Control+Z');
    await wb.page.waitForFunction(
      () => (document.querySelector('.editor-instance .view-line') as HTMLElement | null)!.innerText.replace(/\u00a0/g, ' ').trimEnd() === 'the mouse ate the',
    );
    fs.writeFileSync(path.join(workspace, '.vscode', 'settings.json'), '{}');
  });

  it('asks for a prompt when there is no text before the cursor', async function () {
    await wb.openFile('empty.txt');
    await wb.focusEditor();
    await wb.runCommand('LM: Complete Selection');
    await wb.notification(/needs a prompt/).waitFor();
    await wb.screenshot('empty-prompt');
  });

  describe('with the embedded neural model', function () {
    after(async function () {
      await wb.page.mouse.move(5, 5);
      fs.writeFileSync(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'lmPlayground.model': 'ngram-classics' }));
      await wb.page.locator('.statusbar-item', { hasText: 'ngram-classics' }).first().waitFor();
      await wb.runCommand('View: Close All Editors');
    });

    it('runs the embedded neural model: Complete Selection and hovers with its probabilities', async function () {
      fs.writeFileSync(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'lmPlayground.model': 'gpt-classics' }));
      await wb.notification(/now using gpt-classics/).waitFor();
      await wb.page.locator('.statusbar-item', { hasText: 'gpt-classics · native' }).first().waitFor();
      await wb.openFile('mouse.txt');
      await completeFirstLine();
      const expected =
        'the mouse ate the' +
        JSON.parse(
          cli('generate', '--model', 'gpt-classics', '--prompt', 'the mouse ate the', '--temperature', '0', '--max-tokens', String(MAX_TOKENS), '--json'),
        ).completions[0].text;
      await wb.page.waitForFunction(
        (n) =>
          Array.from(document.querySelectorAll('.editor-instance .view-line'))
            .map((e) => (e as HTMLElement).innerText)
            .join('\n')
            .replace(/\u00a0/g, ' ').length > n,
        'the mouse ate the'.length + 1,
      );
      const shown = await wb.editorText();
      assert.strictEqual(
        shown.trimEnd(),
        expected.trimEnd(),
        `the same greedy completion as the CLI on the same model: ${JSON.stringify(shown)} vs ${JSON.stringify(expected)}`,
      );
      await wb.page
        .locator('.statusbar-item', { hasText: /gpt-classics · native quantized · \d+ tok\/s/ })
        .first()
        .waitFor();
      await wb.screenshot('neural-complete-selection');
      await wb.page.keyboard.press('Control+Z');
      await wb.openFile('sentences.txt');
      await wb.hoverWord('cheese');
      const hover = wb.hover();
      await hover.filter({ hasText: 'gpt-classics' }).waitFor();
      const text = (await hover.innerText()).replace(/\u00a0/g, ' ');
      const file = path.join(workspace, 'sentences.txt');
      const middle = fs.readFileSync(file, 'utf8').indexOf('cheese') + 3;
      const scored = JSON.parse(cli('score', '--model', 'gpt-classics', '--json', '--details', file)).token_scores;
      const under = scored.find((t: { start: number; length: number }) => t.start <= middle && middle < t.start + t.length);
      const surprisal = formatBits(surprisalBits(under.logprob));
      assert.ok(text.includes(`surprisal −log₂ p = ${surprisal}`), `hover shows the CLI's surprisal ${surprisal} for ${JSON.stringify(under.text)}: ${text}`);
      await wb.screenshot('neural-hover');
    });

    it('runs it on WebGPU in a webview engine panel (lmPlayground.device: webgpu)', async function () {
      await wb.page.mouse.move(5, 5);
      await wb.runCommand('Notifications: Clear All Notifications');
      fs.writeFileSync(
        path.join(workspace, '.vscode', 'settings.json'),
        JSON.stringify({ 'lmPlayground.model': 'gpt-classics', 'lmPlayground.device': 'webgpu' }),
      );
      // Headless Chromium's adapter is SwiftShader: asked for, it runs there, and a warning says how slow that is, with the way back (drive19 M2).
      const slow = wb.notification(/WebGPU adapter \(.*swiftshader.*\) is a software renderer: gpt-classics runs there many times slower/i);
      await slow.waitFor({ timeout: 180_000 });
      await slow.locator('.monaco-button', { hasText: 'Set device to auto' }).waitFor();
      await wb.notification(/now using gpt-classics on webgpu/).waitFor({ timeout: 180_000 });
      await wb.page.locator('.tabs-container .tab', { hasText: 'LM Engine: gpt-classics' }).first().waitFor();
      await wb.openFile('mouse.txt');
      await completeFirstLine();
      await wb.page
        .locator('.statusbar-item', { hasText: /gpt-classics · webgpu quantized · \d+ tok\/s/ })
        .first()
        .waitFor({ timeout: 120_000 });
      // The same greedy text as the CLI (native onnxruntime) on the same model.
      const expected =
        'the mouse ate the' +
        JSON.parse(
          cli('generate', '--model', 'gpt-classics', '--prompt', 'the mouse ate the', '--temperature', '0', '--max-tokens', String(MAX_TOKENS), '--json'),
        ).completions[0].text;
      await wb.page.waitForFunction(
        (n) => (document.querySelector('.editor-instance .view-lines') as HTMLElement | null)!.innerText.replace(/\u00a0/g, ' ').length > n,
        'the mouse ate the'.length + 1,
      );
      const shown = await wb.editorText();
      assert.strictEqual(shown.trimEnd(), expected.trimEnd(), `WebGPU's greedy completion ${JSON.stringify(shown)}, the CLI's ${JSON.stringify(expected)}`);
      await wb.screenshot('webgpu-engine');
      await wb.page.keyboard.press('Control+Z');
    });
  });

  it('reports a corrupt model file clearly, keeps the previous model and the document', async function () {
    const broken = path.join(workspace, 'broken.arpa');
    fs.writeFileSync(broken, '\\data\\\nngram 1=3\n\n\\1-grams:\n-1.0\t<s>\n-oops\tthe\n');
    await wb.runCommand('Notifications: Clear All Notifications');
    await wb.openFile('mouse.txt');
    const before = await wb.editorText();
    fs.mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
    fs.writeFileSync(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'lmPlayground.model': broken }));
    const toast = wb.notification(/could not load the model/);
    await toast.waitFor();
    const message = (await toast.innerText()).replace(/\u00a0/g, ' ');
    await wb.screenshot('corrupt-model');
    assert.match(message, /broken\.arpa:6/, `the error names the file and line: ${message}`);
    assert.match(message, /bad log-probability/);
    assert.match(message, /previous model \(ngram-classics\) stays active/);
    assert.strictEqual(await wb.editorText(), before, 'the document is untouched');
    // The extension keeps working with the previous model.
    await completeFirstLine();
    await wb.page.waitForFunction(
      (n) => (document.querySelector('.editor-instance .view-lines') as HTMLElement | null)!.innerText.replace(/\u00a0/g, ' ').length > n,
      before.length + 2,
    );
    await wb.page.keyboard.press('Control+Z');
    await wb.page.waitForFunction(
      (t) => (document.querySelector('.editor-instance .view-lines') as HTMLElement | null)!.innerText.replace(/\u00a0/g, ' ').trimEnd() === t,
      before.trimEnd(),
    );
  });
});
