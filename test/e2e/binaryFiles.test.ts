/**
 * End-to-end: a binary file shown as text (an image whose first bytes have no NUL, so VS Code
 * opens it) is refused by the commands that write into it or play it, even where the text before
 * the cursor has no NUL at all (hostile15 L2, L3: Complete Selection inserted a token into a PNG;
 * the Shannon game played /bin/ls).
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { useVsCode } from './session';

const NAME = 'picture.txt';
// Readable for VS Code's first 512 bytes, then a run of NULs, then more text than a prompt's window (4,000 characters).
const HEAD = 'A caption that runs for a while before the pixels start. '.repeat(12);
const TAIL = 'the cat sat on the mat and looked at the dog. '.repeat(120);
const TEXT = HEAD + '\0'.repeat(64) + TAIL;
const STORY = 'story.txt';
const STORY_TEXT = TAIL.replace(/\. /g, '.\n');

describe('Binary files shown as text (code-server)', function () {
  const session = useVsCode({});

  before(function () {
    fs.writeFileSync(path.join(session.workspace, NAME), TEXT);
    fs.writeFileSync(path.join(session.workspace, STORY), STORY_TEXT);
  });

  it('Complete Selection refuses the file, though the text before the cursor has no NUL, and leaves it as it was', async function () {
    const { wb } = session;
    await wb.openFile(NAME);
    await wb.focusEditor();
    await wb.page.keyboard.press('Control+End');
    await wb.runCommand('LM: Complete Selection');
    await wb.notification(/looks like a binary file \(it has many NUL characters\); nothing was generated/).waitFor({ timeout: 60_000 });
    await wb.screenshot('binary-complete-selection');
    // Nothing was inserted: the tab is not dirty, and the file is as written.
    assert.strictEqual(await wb.page.locator(`.tabs-container .tab.dirty[aria-label*="${NAME}"]`).count(), 0, 'the document is unchanged');
    assert.strictEqual(fs.readFileSync(path.join(session.workspace, NAME), 'utf8'), TEXT);
  });

  it('the Shannon game refuses a selection in it', async function () {
    const { wb } = session;
    await wb.focusEditor();
    await wb.page.keyboard.press('Control+End');
    await wb.page.keyboard.press('Control+Shift+Home');
    await wb.runCommand('LM: Play the Shannon Game');
    await wb.notification(new RegExp(`${NAME} looks like a binary file \\(it has many NUL characters\\): the game needs text`)).waitFor({ timeout: 60_000 });
    assert.strictEqual(await wb.page.locator('.tabs-container .tab', { hasText: 'Shannon Game' }).count(), 0, 'no game started');
  });

  it('a heat-map whose text becomes binary by an edit stops scoring and says so, keeps its colours, and goes on once it is text again', async function () {
    const { wb } = session;
    const file = path.join(session.workspace, STORY);
    const decorated = () => wb.page.locator('.editor-instance .cdr[class*="TextEditorDecorationType"]');
    await wb.openFile(STORY);
    await wb.runCommand('LM: Show Token Probabilities');
    await decorated().first().waitFor({ timeout: 120_000 });
    // NULs past the 8 and the one in a thousand that make it binary, arriving as an edit (the file changed on disk, the document not dirty).
    fs.writeFileSync(file, STORY_TEXT + '\0'.repeat(64));
    await wb
      .notification(new RegExp(`${STORY} now looks like a binary file \\(it has many NUL characters\\): its heat-map is not scored further`))
      .waitFor({ timeout: 60_000 });
    assert.ok((await decorated().count()) > 0, 'the colours stay');
    await wb.screenshot('binary-heatmap-by-edit');
    // Text again: scored as before, and no second warning.
    await wb.runCommand('Notifications: Clear All Notifications');
    fs.writeFileSync(file, STORY_TEXT + 'The finale.');
    await wb.focusEditor();
    // The editor takes the file's new text when its watcher tells it: go to the end until the new word is there.
    const finale = wb.page.locator('.editor-instance .view-lines .view-line', { hasText: 'finale' }).first();
    for (const deadline = Date.now() + 60_000; ;) {
      await wb.page.keyboard.press('Control+End');
      if (
        await finale.waitFor({ timeout: 2_000 }).then(
          () => true,
          () => false,
        )
      )
        break;
      if (Date.now() > deadline) assert.fail(`the editor never showed the file's new end:\n${await wb.editorText()}`);
    }
    // The new word gets its colour: a decoration under it.
    await wb.page.waitForFunction(
      () => {
        const line = Array.from(document.querySelectorAll('.editor-instance .view-lines .view-line')).find((l) =>
          (l as HTMLElement).innerText.includes('finale'),
        );
        const node = line && document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
        for (let n = node?.nextNode(); n; n = node!.nextNode()) {
          const at = (n.textContent ?? '').indexOf('finale');
          if (at < 0) continue;
          const range = document.createRange();
          range.setStart(n, at);
          range.setEnd(n, at + 6);
          const r = range.getBoundingClientRect();
          const [x, y] = [r.left + r.width / 2, r.top + r.height / 2];
          return Array.from(document.querySelectorAll('.editor-instance .cdr[class*="TextEditorDecorationType"]')).some((d) => {
            const b = d.getBoundingClientRect();
            return b.left <= x && x <= b.right && b.top <= y && y <= b.bottom;
          });
        }
        return false;
      },
      undefined,
      { timeout: 60_000 },
    );
    assert.strictEqual(await wb.notification(/now looks like a binary file/).count(), 0);
    await wb.runCommand('LM: Clear Token Probabilities');
  });
});
