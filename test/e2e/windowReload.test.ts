/**
 * End-to-end, in code-server (drive18 M1): reloading the window while the neural model's worker
 * is inside onnxruntime-node's run (a heat-map of a novel) ends the old extension host cleanly.
 * It used to abort in onnxruntime's teardown (`terminate called after throwing an instance of
 * 'Napi::Error'`, exit code 134); now the host waits for the engine to finish its run and exit.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { CORPUS } from '../unit/helpers';
import { useVsCode } from './session';

describe('a window reload while an ONNX model runs (code-server)', function () {
  const session = useVsCode({ 'lmPlayground.model': 'gpt-classics', 'lmPlayground.device': 'native', 'lmPlayground.inline.enabled': false });

  it('the old extension host exits with code 0, not an abort, and the reloaded window loads the model', async function () {
    const { wb, workspace, server } = session;
    const novel = fs.readFileSync(path.join(CORPUS, 'train', 'emma.txt'), 'utf8');
    fs.writeFileSync(path.join(workspace, 'emma.txt'), novel);
    await wb.openFile('emma.txt');
    await wb.page
      .locator('.statusbar-item', { hasText: /gpt-classics/ })
      .first()
      .waitFor({ timeout: 120_000 });
    await wb.runCommand('LM: Show Token Probabilities');
    // The progress notification shows once scoring pieces run in the engine's worker; a novel keeps it busy for minutes.
    const progress = wb.notification(/token probabilities with gpt-classics/);
    await progress.waitFor({ timeout: 120_000 });
    assert.deepStrictEqual(hostExits(server.extensionLogs(Number.MAX_SAFE_INTEGER)), [], 'no extension host has ended yet');
    assert.ok(await progress.isVisible(), 'the heat-map still runs when the window reloads');

    await wb.reloadWindow();
    await server.waitForLogLine(EXIT_LINE, 60_000);
    await wb.page
      .locator('.statusbar-item', { hasText: /gpt-classics/ })
      .first()
      .waitFor({ timeout: 120_000 });
    await wb.screenshot('window-reloaded-mid-heatmap');
    const logs = server.extensionLogs(Number.MAX_SAFE_INTEGER);
    const exits = hostExits(logs);
    assert.doesNotMatch(logs, /terminate called|Napi::Error/, `no abort in the logs:\n${server.extensionLogs(80)}`);
    assert.ok(exits.length > 0, `the old extension host's exit is logged:\n${server.extensionLogs(80)}`);
    assert.ok(
      exits.every((e) => e.code === '0' && e.signal === 'null'),
      `every extension host exited with code 0: ${JSON.stringify(exits)}\n${server.extensionLogs(80)}`,
    );
  });
});

/** code-server's line for an extension host's end. */
const EXIT_LINE = /Extension Host Process exited with code: (\S+), signal: (\w+)/;

function hostExits(logs: string): { code: string; signal: string }[] {
  return [...logs.matchAll(new RegExp(EXIT_LINE.source, 'gm'))].map((m) => ({ code: m[1], signal: m[2] }));
}
