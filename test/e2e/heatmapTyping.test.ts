/**
 * End-to-end, in code-server: words typed key by key while a neural model's heat-map runs are
 * scored and coloured when the run finishes (drive14 M2: they were left without colour).
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { CORPUS } from '../unit/helpers';
import { useVsCode } from './session';

const TYPED_WORDS = ['Zanzibar', 'quokka', 'meanwhile'];

describe('Heat-map with typing during a neural run (code-server)', function () {
  const session = useVsCode({ 'editor.hover.delay': 150, 'lmPlayground.model': 'gpt-classics', 'lmPlayground.inline.enabled': false });

  it('words typed during the run are scored and coloured at its end', async function () {
    this.timeout(600_000);
    const { wb, workspace } = session;
    const text = fs.readFileSync(path.join(CORPUS, 'train', 'emma.txt'), 'utf8').slice(100_000, 200_000);
    fs.writeFileSync(path.join(workspace, 'chapter.txt'), text);
    await wb.openFile('chapter.txt');
    await wb.runCommand('LM: Show Token Probabilities');
    const running = wb.notification(/token probabilities with/).filter({ hasText: /of [\d,]+ tokens/ });
    await running.waitFor({ timeout: 120_000 });
    await wb.focusEditor();
    await wb.page.keyboard.press('Control+Home');
    for (let i = 0; i < 6; i++) await wb.page.keyboard.press('ArrowDown');
    await wb.page.keyboard.press('End');
    await wb.page.keyboard.type(` ${TYPED_WORDS.join(' ')}.`, { delay: 40 });
    // The run goes on from the edit (in a notification or the status bar, as long as what is left takes).
    await wb.page.mouse.move(5, 5);
    // Each typed word comes under a heat-map colour on screen, as the other words (drive14 M2 saw
    // them without one at the end of a run). Polled: they come once the run has scored them.
    const uncoloured = (words: string[]) => {
      const colours = Array.from(document.querySelectorAll('.editor-instance .view-overlays .cdr[class*="TextEditorDecorationType"]')).map((e) =>
        e.getBoundingClientRect(),
      );
      const line = Array.from(document.querySelectorAll('.editor-instance .view-lines .view-line')).find((l) =>
        (l as HTMLElement).innerText.includes(words[0]),
      );
      if (!line) return ['(the line is not on screen)'];
      return words.filter((word) => {
        const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          const i = node.textContent!.indexOf(word);
          if (i < 0) continue;
          const range = document.createRange();
          range.setStart(node, i);
          range.setEnd(node, i + word.length);
          const r = range.getBoundingClientRect();
          const y = r.top + r.height / 2;
          return !colours.some((c) => c.top <= y && c.bottom >= y && c.left < r.right - 1 && c.right > r.left + 1);
        }
        return true;
      });
    };
    const deadline = Date.now() + 540_000;
    let left = await wb.page.evaluate(uncoloured, TYPED_WORDS);
    while (left.length > 0 && Date.now() < deadline) {
      await wb.page.waitForTimeout(250);
      left = await wb.page.evaluate(uncoloured, TYPED_WORDS);
    }
    await wb.screenshot('heatmap-typed-during-run');
    assert.deepStrictEqual(left, [], 'typed words without a colour on screen');
  });
});
