/**
 * One code-server with the packaged extension and a fresh copy of the sample workspace per test
 * file, a headless Chromium on it, and on failure a screenshot plus what was on screen and in the logs.
 */
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CodeServer, REPO_ROOT } from '../../scripts/codeServer';
import { Workbench } from './workbench';

export const VSIX = path.join(REPO_ROOT, 'lm-playground.vsix');
const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');

/** The `lmp` CLI of this build: the reference the tests compare the editor's numbers with. */
export function cli(...args: string[]): string {
  return execFileSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
}

export interface Session {
  server: CodeServer;
  wb: Workbench;
  workspace: string;
}

/**
 * Registers the suite's hooks; the session is there from the first test on. `webgpu: false`: a
 * browser without a GPU; `vsix`: makes and names another package to install.
 */
export function useVsCode(settings: Record<string, unknown>, options: { webgpu?: boolean; vsix?: () => string } = {}): Session {
  const session = {} as Session;
  let state: string | undefined;
  before(async function () {
    const vsix = options.vsix?.() ?? VSIX;
    assert.ok(fs.existsSync(vsix), `${vsix} is missing: run npm run package first`);
    state = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-e2e-'));
    session.workspace = path.join(state, 'workspace');
    fs.cpSync(path.join(REPO_ROOT, 'sample-workspace'), session.workspace, { recursive: true });
    fs.mkdirSync(path.join(session.workspace, '.vscode'), { recursive: true });
    session.server = new CodeServer({
      stateDir: path.join(state, 'server'),
      workspace: session.workspace,
      vsix,
      settings: { 'files.autoSave': 'off', ...settings },
    });
    await session.server.start();
    session.wb = await Workbench.open(session.server.url, options.webgpu ?? true);
    // The extension's status bar entry: it is active, so its commands are in the palette.
    await session.wb.page
      .locator('.statusbar-item', { hasText: /\bLM\b|ngram-classics/ })
      .first()
      .waitFor();
  });

  afterEach(async function () {
    const { wb, server } = session;
    if (this.currentTest?.state === 'failed' && wb) {
      const name = `FAILED-${this.currentTest.title.replace(/\W+/g, '-')}`;
      const shot = await wb.screenshot(name).catch((e) => `(no screenshot: ${e})`);
      console.log(`\n=== on screen (${shot}) ===\n${await wb.describeScreen()}\n=== logs ===\n${server.extensionLogs()}`);
    }
  });

  after(async function () {
    await session.wb?.close();
    await session.server?.stop();
    // Each session holds an installed copy of the package (~165 MB): kept, two dozen suites a run
    // filled a shared disk until code-server could no longer start. Screenshots live elsewhere.
    if (state) fs.rmSync(state, { recursive: true, force: true, maxRetries: 5 });
  });
  return session;
}
