/**
 * End-to-end, in code-server: the active model is a GGUF file, and another model is copied over it
 * (as a new export to the same path does). The engine read the old file into memory, so without a
 * reload it would keep the old numbers silently: the extension notices the change, loads the file
 * again (the status bar shows the new file's precision) and says so in a notification.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { REPO } from '../unit/helpers';
import { useVsCode } from './session';

const gguf = (name: string) => path.join(REPO, 'test', 'fixtures', 'models', 'gguf', `${name}.gguf`);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-e2e-live-'));
const LIVE = path.join(dir, 'live.gguf');
fs.copyFileSync(gguf('tiny-llama-f32'), LIVE);

describe('A GGUF model whose file changes on the disk (code-server)', function () {
  const session = useVsCode({ 'lmPlayground.model': LIVE });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('is loaded again from the changed file, with a notification', async function () {
    const { wb } = session;
    await wb.openFile('sentences.txt');
    await wb.page.locator('.statusbar-item', { hasText: 'live · llama.cpp F32' }).first().waitFor({ timeout: 120_000 });
    fs.copyFileSync(gguf('tiny-llama-q8_0'), LIVE);
    await wb.notification(/live\.gguf changed on the disk; live was loaded again from it/).waitFor({ timeout: 120_000 });
    await wb.page.locator('.statusbar-item', { hasText: 'live · llama.cpp Q8_0' }).first().waitFor({ timeout: 30_000 });
    await wb.screenshot('gguf-file-changed');
  });
});
