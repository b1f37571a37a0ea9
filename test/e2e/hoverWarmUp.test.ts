/**
 * End-to-end: the hover warm-up (lmPlayground.hover.warmUp) in code-server: a document shown with
 * a neural model is run into the model's cache before any hover (the extension's log says how many
 * tokens, for which line), and the first hover after it shows the CLI's numbers.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { formatBits, surprisalBits } from '../../src/core/numberFormat';
import { cli, useVsCode } from './session';

const TEXT =
  'The rain had not stopped since dawn, and the little harbour town lay grey and quiet under it. Fishing boats rocked at the quay, their ropes creaking, while an old dog slept in the doorway of the chandler.\n' +
  'Nobody hurried; the tide would turn when it turned, and the nets could wait until the wind dropped.\n';

describe('Hover warm-up (code-server)', function () {
  // The status bar's metrics off: they would run the text first, and the warm-up would find it cached.
  const session = useVsCode({ 'lmPlayground.model': 'gpt-classics', 'editor.hover.delay': 150, 'lmPlayground.metrics.enabled': false });

  it('runs the shown text into the cache before the first hover, which then has the CLI’s numbers', async function () {
    const { wb, server, workspace } = session;
    const file = path.join(workspace, 'harbour.txt');
    fs.writeFileSync(file, TEXT);
    await wb.openFile('harbour.txt');
    // Logged when the warm-up has cached the context of the last visible line (the file's end).
    const logged = /warm-up: (\d+) tokens of context before harbour\.txt:(\d+) cached for the hover/;
    const deadline = Date.now() + 180_000;
    let m = logged.exec(server.extensionLogs(400));
    while (!m && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      m = logged.exec(server.extensionLogs(400));
    }
    assert.ok(m, `no warm-up in the log:\n${server.extensionLogs(400)}`);
    const scored = JSON.parse(cli('score', '--model', 'gpt-classics', '--json', '--details', file)).token_scores as {
      text: string;
      start: number;
      length: number;
      logprob: number;
    }[];
    // All of the text's tokens (the CLI scores all but the first).
    assert.ok(Number(m[1]) >= scored.length, `${m[1]} tokens cached, the text has ${scored.length + 1}`);
    await wb.hoverWord('harbour');
    const hover = wb.hover();
    await hover.waitFor({ timeout: 120_000 });
    const text = (await hover.innerText()).replace(/\u00a0/g, ' ');
    const start = TEXT.indexOf('harbour');
    const parts = scored.filter((t) => t.start < start + 7 && t.start + t.length > start);
    const hovered = parts.find((t) => text.includes(`surprisal −log₂ p = ${formatBits(surprisalBits(t.logprob))}`));
    assert.ok(hovered, `the hover shows the CLI's surprisal of one of ${parts.map((t) => JSON.stringify(t.text)).join(', ')}: ${text}`);
    await wb.page.mouse.move(5, 5);
  });
});
