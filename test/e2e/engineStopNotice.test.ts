/**
 * End-to-end, in code-server (hostile L1): the GGUF engine process killed during a heat-map gives
 * one notification, the one that names the model, not a second one without its name from the
 * heat-map's failed request.
 */
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { REPO } from '../unit/helpers';
import { useVsCode } from './session';

const MODEL = path.join(REPO, 'test', 'fixtures', 'models', 'gguf', 'tiny-llama-f32.gguf');

/** The engine processes running now, found by their entry script under `extensionsDir`. */
function enginePids(extensionsDir: string): number[] {
  return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(extensionsDir) && l.includes('engineProcess.js'))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

describe('one notice for one engine death (code-server)', function () {
  const session = useVsCode({ 'lmPlayground.model': MODEL, 'lmPlayground.hover.warmUp': false });

  it('a kill -9 of the engine during a heat-map is said once, naming the model', async function () {
    const { wb, workspace, server } = session;
    const sentences = fs.readFileSync(path.join(workspace, 'sentences.txt'), 'utf8');
    fs.writeFileSync(path.join(workspace, 'big.txt'), sentences.repeat(600));
    await wb.openFile('big.txt');
    await wb.page.locator('.statusbar-item', { hasText: 'tiny-llama-f32 · llama.cpp F32' }).first().waitFor({ timeout: 120_000 });
    await wb.runCommand('LM: Show Token Probabilities');
    // The heat-map's progress notification: the scoring runs in the engine process now.
    await wb.notification(/LM: token probabilities with tiny-llama-f32/).waitFor({ timeout: 120_000 });
    const [pid] = enginePids(server.extensionsDir);
    assert.ok(pid, 'an engine process runs the model');
    process.kill(pid, 'SIGKILL');

    const named = wb.notification(/tiny-llama-f32: the GGUF engine process stopped: it was stopped by SIGKILL; it restarts on the next request/);
    await named.waitFor({ timeout: 60_000 }).catch(async (e: Error) => assert.fail(`${e.message}\n${await wb.describeScreen()}`));
    // The heat-map's request failed at the same moment. A hover afterwards (its request restarts the engine) answers only
    // once that failure has long been handled; then the notification centre holds every notice given, shown as a toast or not.
    await wb.page.keyboard.press('Escape');
    await wb.hoverWord('cheese');
    await wb.hover().filter({ hasText: 'tiny-llama-f32' }).waitFor({ timeout: 120_000 });
    await wb.page.mouse.move(5, 5);
    await wb.notificationInCenter('engine process stopped');
    const said = await wb.page.locator('.notifications-center .notification-list-item', { hasText: 'engine process stopped' }).allInnerTexts();
    assert.strictEqual(said.length, 1, `one notice, not ${said.length}:\n${said.join('\n---\n')}\n${server.extensionLogs(40)}`);
    await wb.screenshot('engine-stop-one-notice');
  });
});
