/**
 * `npm run test:electron`: the integration suite inside desktop VS Code via @vscode/test-electron.
 * Uses LMP_VSCODE_EXECUTABLE when given, else tries to download VS Code; when neither works (as on
 * machines without internet) it says why and skips. The code-server end-to-end tests (npm test)
 * cover the same behaviour in a real VS Code there.
 */
import { downloadAndUnzipVSCode, runTests } from '@vscode/test-electron';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..', '..');

async function main(): Promise<number> {
  let executable = process.env.LMP_VSCODE_EXECUTABLE;
  if (executable && !fs.existsSync(executable)) {
    console.error(`test:electron: LMP_VSCODE_EXECUTABLE=${executable} does not exist`);
    return 1;
  }
  if (!executable) {
    try {
      executable = await downloadAndUnzipVSCode({ version: '1.100.3', timeout: 20_000 });
    } catch (e) {
      console.log(
        'test:electron: SKIPPED — no desktop VS Code: LMP_VSCODE_EXECUTABLE is not set and downloading VS Code 1.100.3 failed ' +
          `(${e instanceof Error ? e.message.split('\n')[0] : e}). Set LMP_VSCODE_EXECUTABLE to a VS Code binary to run this suite.`,
      );
      return 0;
    }
  }
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-electron-'));
  fs.cpSync(path.join(ROOT, 'sample-workspace'), workspace, { recursive: true });
  await runTests({
    vscodeExecutablePath: executable,
    extensionDevelopmentPath: ROOT,
    extensionTestsPath: path.join(__dirname, 'suite', 'index.js'),
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust'],
  });
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`test:electron failed: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  },
);
