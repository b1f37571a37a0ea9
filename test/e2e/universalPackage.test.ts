/**
 * End-to-end: the universal package, which has no native onnxruntime (for platforms onnxruntime-node
 * has no binary for). With device auto, the neural model runs on WASM in a worker thread and gives
 * the same text and probabilities as the native CLI.
 */
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { REPO_ROOT } from '../../scripts/codeServer';
import { formatBits, surprisalBits } from '../../src/core/numberFormat';
import { cli, useVsCode } from './session';

const UNIVERSAL = path.join(REPO_ROOT, 'dist-vsix', 'lm-playground-universal.vsix');
const MAX_TOKENS = 6;

describe('The universal package, without native code (code-server)', function () {
  const settings = {
    'lmPlayground.model': 'gpt-classics',
    'lmPlayground.generation.temperature': 0,
    'lmPlayground.generation.maxTokens': MAX_TOKENS,
    'editor.hover.delay': 150,
  };
  const session = useVsCode(settings, {
    vsix: () => {
      // Packs the build the other tests install, without bin/ (the native runtime).
      execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'package.mjs'), '--universal'], {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      return UNIVERSAL;
    },
  });

  it('runs gpt-classics on WASM with device auto: Complete Selection and hovers equal the native CLI', async function () {
    const { wb, workspace } = session;
    // The model loads on first use.
    await wb.openFile('mouse.txt');
    await wb.focusEditor();
    await wb.page.keyboard.press('Control+Home');
    await wb.page.keyboard.press('Shift+End');
    await wb.runCommand('LM: Complete Selection');
    const expected =
      'the mouse ate the' +
      JSON.parse(
        cli('generate', '--model', 'gpt-classics', '--prompt', 'the mouse ate the', '--temperature', '0', '--max-tokens', String(MAX_TOKENS), '--json'),
      ).completions[0].text;
    await wb.page
      .locator('.statusbar-item', { hasText: /gpt-classics · wasm [^·]*· \d+ tok\/s/ })
      .first()
      .waitFor({ timeout: 120_000 });
    await wb.page.waitForFunction(
      (n) =>
        Array.from(document.querySelectorAll('.editor-instance .view-line'))
          .map((e) => (e as HTMLElement).innerText)
          .join('\n')
          .replace(/\u00a0/g, ' ').length > n,
      'the mouse ate the'.length + 1,
    );
    assert.strictEqual((await wb.editorText()).trimEnd(), expected.trimEnd());
    await wb.screenshot('universal-complete-selection');
    await wb.openFile('sentences.txt');
    await wb.hoverWord('cheese');
    const hover = wb.hover();
    await hover.filter({ hasText: 'gpt-classics' }).waitFor();
    const file = path.join(workspace, 'sentences.txt');
    const middle = fs.readFileSync(file, 'utf8').indexOf('cheese') + 3;
    const scored = JSON.parse(cli('score', '--model', 'gpt-classics', '--json', '--details', file)).token_scores;
    const under = scored.find((t: { start: number; length: number }) => t.start <= middle && middle < t.start + t.length);
    const text = (await hover.innerText()).replace(/\u00a0/g, ' ');
    const surprisal = formatBits(surprisalBits(under.logprob));
    assert.ok(text.includes(`surprisal −log₂ p = ${surprisal}`), `hover shows the CLI's surprisal ${surprisal} for ${JSON.stringify(under.text)}: ${text}`);
    await wb.screenshot('universal-hover');
  });
});
