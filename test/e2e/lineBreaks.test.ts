/**
 * End-to-end: a Windows (CRLF) document scores in the editor as its LF copy does with the CLI,
 * with the neural model, and its heat-map colours the document's own line breaks.
 */
import * as fs from 'fs';
import * as path from 'path';
import { REPO_ROOT } from '../../scripts/codeServer';
import { cli, useVsCode } from './session';
import type { Workbench } from './workbench';

const PAGE = fs
  .readFileSync(path.join(REPO_ROOT, '..', 'shared', 'corpus', 'en', 'valid', 'poirot_investigates.txt'), 'utf8')
  .split('\n')
  .slice(0, 60)
  .join('\n');

describe('A CRLF document (code-server)', function () {
  const session = useVsCode({ 'lmPlayground.model': 'gpt-classics', 'lmPlayground.device': 'native' });
  let wb: Workbench;
  let workspace: string;

  before(function () {
    ({ wb, workspace } = session);
    fs.writeFileSync(path.join(workspace, 'page-lf.txt'), PAGE);
    fs.writeFileSync(path.join(workspace, 'page-crlf.txt'), PAGE.replace(/\n/g, '\r\n'));
  });

  it("shows the bits per character of the document's LF copy, as lmp scores it, and colours its line breaks", async function () {
    const lf = JSON.parse(cli('score', '--model', 'gpt-classics', '--json', path.join(workspace, 'page-lf.txt')));
    const crlf = JSON.parse(cli('score', '--model', 'gpt-classics', '--json', path.join(workspace, 'page-crlf.txt')));
    if (crlf.bits_per_char !== lf.bits_per_char) throw new Error(`lmp: ${crlf.bits_per_char} bits/char (CRLF) against ${lf.bits_per_char} (LF)`);
    await wb.openFile('page-crlf.txt');
    await wb.page.locator('.statusbar-item', { hasText: 'CRLF' }).first().waitFor();
    await wb.page
      .locator('.statusbar-item', { hasText: `${lf.bits_per_char.toFixed(2)} bits/char` })
      .first()
      .waitFor();
    await wb.runCommand('LM: Show Token Probabilities');
    await wb.page.locator('.editor-instance .cdr[class*="TextEditorDecorationType"]').first().waitFor();
    await wb.screenshot('crlf-heatmap');
  });
});
