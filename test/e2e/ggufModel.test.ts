/**
 * End-to-end, in code-server: a GGUF file (the tiny Llama fixture, as training/export_gguf.py
 * writes it) as lmPlayground.model, run by llama.cpp in the engine's worker thread. The status bar
 * names it with its precision; a hover shows the probability the CLI computes for the same token;
 * Complete Selection inserts the CLI's greedy completion; the heat-map colours the document. The
 * playground runs it through the extension (greedy and sampled, as the CLI with the same seed);
 * Compare Models, ghost text and the Shannon game's model column give the numbers the core
 * computes with the same file.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { Frame } from 'playwright-core';
import { formatBits, surprisalBits } from '../../src/core/numberFormat';
import { makeAlphabet, foldToShannon27 } from '../../src/core/shannon/alphabet';
import { newGame } from '../../src/core/shannon/game';
import { playModel } from '../../src/core/shannon/modelPlayer';
import { NextCharPredictor } from '../../src/core/shannon/nextCharDistribution';
import { PASSAGES } from '../../src/core/shannon/passages';
import { InlineCompletionEngine } from '../../src/editor/inlineEngine';
import { loadModel } from '../../src/node/modelLoader';
import { logProbBits } from '../../src/playground/completionSummary';
import { DEFAULT_SETTINGS, QUERY_FILE_SUFFIX, serializeQuery } from '../../src/playground/query';
import { REPO } from '../unit/helpers';
import { cli, useVsCode } from './session';

const MODEL = path.join(REPO, 'test', 'fixtures', 'models', 'gguf', 'tiny-llama-f32.gguf');
const MAX_TOKENS = 6;

describe('A GGUF model on llama.cpp (code-server)', function () {
  const session = useVsCode({
    'lmPlayground.model': MODEL,
    'lmPlayground.generation.temperature': 0,
    'lmPlayground.generation.maxTokens': MAX_TOKENS,
    'lmPlayground.generation.stopAtBlankLine': false,
    'editor.hover.delay': 150,
  });

  it('hovers with the CLI’s numbers, completes a selection as the CLI does, and colours the document', async function () {
    const { wb, workspace } = session;
    await wb.openFile('sentences.txt');
    await wb.page.locator('.statusbar-item', { hasText: 'tiny-llama-f32 · llama.cpp F32' }).first().waitFor({ timeout: 120_000 });

    // The hover's surprisal of the token under the pointer is the CLI's (both from the document's start).
    await wb.hoverWord('cheese');
    const hover = wb.hover().filter({ hasText: 'tiny-llama-f32' });
    await hover.waitFor();
    const file = path.join(workspace, 'sentences.txt');
    const middle = fs.readFileSync(file, 'utf8').indexOf('cheese') + 3;
    const scored = JSON.parse(cli('score', '--model', MODEL, '--json', '--details', file)).token_scores;
    const under = scored.find((t: { start: number; length: number }) => t.start <= middle && middle < t.start + t.length);
    const surprisal = formatBits(surprisalBits(under.logprob));
    const text = (await hover.innerText()).replace(/\u00a0/g, ' ');
    assert.ok(text.includes(`surprisal −log₂ p = ${surprisal}`), `hover shows the CLI's surprisal ${surprisal} for ${JSON.stringify(under.text)}: ${text}`);
    await wb.screenshot('gguf-hover');
    await wb.page.mouse.move(5, 5);
    await wb.page.keyboard.press('Escape');
    await wb.page.locator('.monaco-hover:not(.hidden)').waitFor({ state: 'hidden' });

    // Complete Selection on the first line: greedy, so it inserts what `lmp generate` gives.
    const firstLine = () => (document.querySelector('.editor-instance .view-line') as HTMLElement | null)?.innerText.replace(/\u00a0/g, ' ') ?? '';
    const prompt = (await wb.page.evaluate(firstLine)).trimEnd();
    await wb.focusEditor();
    await wb.page.keyboard.press('Control+Home');
    await wb.page.keyboard.press('Shift+End');
    const before = await wb.editorText();
    await wb.runCommand('LM: Complete Selection');
    const expected = JSON.parse(cli('generate', '--model', MODEL, '--prompt', prompt, '--temperature', '0', '--max-tokens', String(MAX_TOKENS), '--json'));
    const completion: string = expected.completions[0].text;
    // Inserted once generated: the document grows by the completion.
    await wb.page.waitForFunction(
      (n) =>
        Array.from(document.querySelectorAll('.editor-instance .view-line'))
          .map((e) => (e as HTMLElement).innerText)
          .join('\n')
          .replace(/\u00a0/g, ' ').length >= n,
      before.length + completion.trimEnd().length,
      { timeout: 120_000 },
    );
    const edited = await wb.editorText();
    assert.ok(
      edited.startsWith(prompt + completion.trimEnd()),
      `the editor has ${JSON.stringify(edited.slice(0, prompt.length + 60))}, the CLI completes ${JSON.stringify(completion)}`,
    );
    await wb.screenshot('gguf-complete');
    await wb.page.keyboard.press('Control+Z');

    await wb.page.keyboard.press('Control+End');
    await wb.runCommand('LM: Show Token Probabilities');
    await wb.page.locator('.editor-instance .cdr[class*="TextEditorDecorationType"]').first().waitFor({ timeout: 120_000 });
    await wb.page.waitForFunction(
      () =>
        Array.from(document.querySelectorAll('.editor-instance .view-overlays > div')).filter((line) =>
          line.querySelector('.cdr[class*="TextEditorDecorationType"]'),
        ).length >= 4,
    );
    await wb.screenshot('gguf-heatmap');
  });
  it('LM: Select Model lists the GGUF file it runs (used before, active), so going back is one pick', async function () {
    const { wb } = session;
    await wb.runCommand('LM: Select Model');
    const row = wb.page.locator('.quick-input-list .monaco-list-row', { hasText: 'tiny-llama-f32' }).first();
    await row.waitFor();
    const text = (await row.innerText()).replace(/\u00a0/g, ' ');
    assert.match(text, /active · used before/, text);
    assert.ok(text.includes(MODEL), `the row names the file: ${text}`);
    await wb.screenshot('gguf-select-model-recent');
    await wb.page.keyboard.press('Escape');
    await wb.page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
  });

  it('runs in the playground through the extension: greedy and sampled completions are the CLI’s', async function () {
    const { wb } = session;
    const playground = await wb.openPlayground();
    const { frame } = playground;
    // The setting's model is the page's default: a GGUF file, which only the extension can run.
    assert.strictEqual(await playground.model(), MODEL);
    // Before the first run the page says where it will run (not this page's WebAssembly engine).
    await frame.locator('#engine-status', { hasText: 'runs in an engine process of the extension; it loads on the first run' }).waitFor();
    const prompt = 'the mouse ate the';
    for (const [temperature, seed] of [
      ['0', '0'],
      ['1.5', '3'],
    ]) {
      await playground.fillForm({ prompt, temperature, seed, maxTokens: '8' });
      await frame.locator('#run').click();
      await frame.locator('#run:not([disabled])').waitFor({ timeout: 120_000 });
      const completion = frame.locator('#results .completion:not(.streaming)').first();
      await completion.waitFor();
      const expected = JSON.parse(
        cli('generate', '--model', MODEL, '--prompt', prompt, '--temperature', temperature, '--seed', seed, '--max-tokens', '8', '--json'),
      ).completions[0];
      const message = await frame.locator('#message').innerText();
      assert.strictEqual((await completion.locator('.text').innerText()).replace(/\u00a0/g, ' '), expected.text, `T = ${temperature} (${message})`);
      assert.match(await completion.locator('.meta').innerText(), new RegExp(`^log₂ p\\(completion\\) = ${logProbBits(expected.logprob_nats)} · `));
    }
    assert.match(
      await frame.locator('#engine-status').innerText(),
      /^tiny-llama-f32\.gguf on llama\.cpp in an engine process of the extension · \d+ tokens\/s/,
    );
    await completionTip(frame);
    await wb.screenshot('gguf-playground');

    // A query naming a GGUF file that is not offered here says so on the page (not hidden by "Opened").
    const other = path.join(REPO, 'test', 'fixtures', 'models', 'gguf', 'tiny-qwen2-f32.gguf');
    fs.writeFileSync(
      path.join(session.workspace, `other${QUERY_FILE_SUFFIX}`),
      serializeQuery({ prompt, environments: '', settings: { ...DEFAULT_SETTINGS, model: other } }),
    );
    await wb.openFile(`other${QUERY_FILE_SUFFIX}`);
    await wb.runCommand('LM: Open Playground');
    await frame.locator('#message', { hasText: `The query names the model "${other}", which is not available here: using ${MODEL}.` }).waitFor();
    await wb.runCommand('View: Close All Editors');
  });

  it('Stop of a long branch (4,096 tokens asked, llama.cpp far ahead of the drawing) takes effect on screen at once (hostile H19)', async function () {
    const { wb } = session;
    const playground = await wb.openPlayground({ prompt: 'Once upon a time', temperature: '0', seed: '0', maxTokens: '4096', topKPerToken: '3' });
    const { frame } = playground;
    await frame.locator('#run').click();
    await frame.locator('#run:not([disabled])').waitFor({ timeout: 240_000 });
    const completion = frame.locator('#results .completion:not(.streaming)').first();
    await completion.locator('.tok.choosable:not(.prompt)').nth(1).click();
    await frame.locator('#inside .continue-with').first().click();
    const branch = frame.locator('.branches [data-branch="1"]');
    await branch.locator('.branch-head', { hasText: 'generating…' }).waitFor();
    await frame.waitForFunction(() => document.querySelectorAll('.branches [data-branch="1"] .branch-text .tok').length > 100, undefined, { timeout: 120_000 });
    const atStop = await frame.evaluate(() => {
      const n = document.querySelectorAll('.branches [data-branch="1"] .branch-text .tok').length;
      (document.querySelector('.branches [data-branch="1"] .branch-stop') as HTMLElement).click();
      return { n, at: performance.now() };
    });
    await frame.locator('#run:not([disabled])').waitFor();
    const after = (await frame.evaluate(() => performance.now())) - atStop.at;
    const head = await branch.locator('.branch-head').innerText();
    assert.match(head, / · stopped$/, head);
    assert.strictEqual(await branch.locator('.branch-text .tok').count(), atStop.n, `the tokens shown at Stop, no more (${head})`);
    assert.match(await frame.locator('#message').innerText(), /Stopped: the branch keeps what was generated/);
    console.log(`      (GGUF branch Stop: Run enabled again ${Math.round(after)} ms after the click, ${atStop.n} tokens shown; ${head})`);
    await wb.runCommand('View: Close All Editors');
  });

  /** Hovering a generated token shows its alternatives, the chosen one marked. */
  async function completionTip(frame: Frame): Promise<void> {
    await frame.locator('#results .completion .tok').first().hover();
    const tip = frame.locator('#token-tip');
    await tip.waitFor({ state: 'visible' });
    assert.match(await tip.innerText(), /◀ chosen/);
    // Chosen: the Inside panel says why a GGUF model has no lens, attention or n-gram view.
    await frame.locator('#results .completion .tok.choosable:not(.prompt)').first().click();
    await frame.locator('#inside .no-inside-note', { hasText: 'hidden_states.N' }).waitFor();
  }

  it('is in Compare Models with the bits per character the CLI gives', async function () {
    const { wb, workspace } = session;
    const { table } = await wb.compareModels('sentences.txt', ['tiny-llama-f32']);
    const scored = JSON.parse(cli('score', '--model', MODEL, '--json', path.join(workspace, 'sentences.txt')));
    const bpc = scored.bits_per_char.toFixed(3);
    // Bits per character, then bits per token and perplexity, then the tokens.
    assert.match(
      table,
      new RegExp(`(^|\\n)tiny-llama-f32 \\(F32\\)(active)?\\t${bpc}\\t[^\\t]+\\t[^\\t]+\\t${scored.tokens}\\t`),
      `tiny-llama-f32 at ${bpc} bits/char in:\n${table}`,
    );
    // Named as the status bar names it, with its weights' type (above); not by its whole path.
    assert.ok(!table.includes(MODEL), table);
    await wb.screenshot('gguf-compare-models');
    await wb.runCommand('View: Close All Editors');
  });

  it('gives ghost text while typing: the inline engine’s suggestion with the same file', async function () {
    const { wb, workspace } = session;
    fs.writeFileSync(path.join(workspace, 'gguf-typing.txt'), '');
    await wb.openFile('gguf-typing.txt');
    await wb.focusEditor();
    const prompt = 'the mouse ate the';
    await wb.page.keyboard.insertText(prompt);
    await wb.page.locator('.editor-instance .ghost-text-decoration').first().waitFor({ timeout: 120_000 });
    const model = await loadModel(MODEL);
    try {
      const engine = new InlineCompletionEngine(
        async () => model,
        () => ({ debounceMs: 0, maxTokens: 16, temperature: 0, stopAtLineEnd: true, maxWords: 8, stopSequences: [] }),
      );
      const expected = await engine.suggest(
        { doc: 'x', offset: prompt.length, prompt, atStart: true, textBefore: prompt, after: '', manual: true },
        new AbortController().signal,
      );
      assert.ok(expected, 'the engine suggests something');
      assert.strictEqual(await wb.ghostText(), expected.text);
    } finally {
      await model.dispose?.();
    }
    await wb.screenshot('gguf-ghost-text');
    await wb.runCommand('File: Revert File');
    await wb.runCommand('View: Close All Editors');
  });

  it('plays the Shannon game’s model column with the numbers the core computes', async function () {
    const { wb } = session;
    await wb.runCommand('LM: Play the Shannon Game');
    const frame = await wb.webviewFrame('#guess');
    await frame.locator('#game-title', { hasText: 'motorcycle' }).waitFor();
    await frame.locator('#guess').click();
    const text = foldToShannon27(PASSAGES[0].text);
    const played = 6;
    for (let i = 0; i < played; i++) {
      await wb.page.keyboard.type(text[i]);
      await frame.locator('#game-title', { hasText: `character ${i + 2} of ${text.length}` }).waitFor();
    }
    const model = await loadModel(MODEL);
    const bits: number[] = [];
    try {
      const game = newGame('t', PASSAGES[0].text, 'shannon27', 0, 'x');
      await playModel(new NextCharPredictor(model, makeAlphabet('shannon27', '')), game, 0, played, (g) => bits.push(g.bits));
    } finally {
      await model.dispose?.();
    }
    const crossEntropy = (bits.reduce((a, b) => a + b, 0) / played).toFixed(2);
    await frame.locator('#summary thead', { hasText: 'tiny-llama-f32' }).waitFor({ timeout: 120_000 });
    await frame.locator('#summary tr', { hasText: 'Cross-entropy' }).filter({ hasText: crossEntropy }).first().waitFor({ timeout: 120_000 });
    await wb.screenshot('gguf-shannon-game');
  });
});
