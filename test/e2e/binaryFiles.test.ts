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

describe('Binary files shown as text (code-server)', function () {
  const session = useVsCode({});

  before(function () {
    fs.writeFileSync(path.join(session.workspace, NAME), TEXT);
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
});
