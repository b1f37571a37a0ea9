/**
 * End-to-end, in code-server: a GGUF file (the tiny Llama fixture, as training/export_gguf.py
 * writes it) as lmPlayground.model, run by llama.cpp in the engine's worker thread. The status bar
 * names it with its precision; a hover shows the probability the CLI computes for the same token;
 * Complete Selection inserts the CLI's greedy completion; the heat-map colours the document.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { formatBits, surprisalBits } from '../../src/core/numberFormat';
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
});
