/**
 * A local VS Code (code-server 4.100.3, provisioned by scripts/setup-e2e.sh) with the packaged
 * extension installed: used by `npm start` and by the end-to-end tests.
 */
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

export const CODE_SERVER_VERSION = '4.100.3';
export const CACHE_DIR = process.env.LMP_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'lm-playground');
export const CODE_SERVER_BIN = path.join(CACHE_DIR, `code-server-${CODE_SERVER_VERSION}`, 'node_modules', '.bin', 'code-server');
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

export interface CodeServerOptions {
  /** Folder holding user-data/ and extensions/; created fresh unless `keepUserData`. */
  stateDir: string;
  workspace: string;
  vsix: string;
  port?: number;
  /** User settings merged over the defaults below. */
  settings?: Record<string, unknown>;
  /**
   * Keeps user-data/ from the last start (settings, the window's state), whose
   * settings then win over the defaults; only the extension is installed afresh.
   */
  keepUserData?: boolean;
}

/** Settings that keep the workbench free of first-run dialogs and network chatter. */
export const QUIET_SETTINGS: Record<string, unknown> = {
  'security.workspace.trust.enabled': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'chat.disableAIFeatures': true,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'git.enabled': false,
};

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/**
 * Writes `settings` to a user settings file; with `keepOwn`, under what the file already says, and
 * a file that is not plain JSON (VS Code allows comments) is left as it is rather than lost.
 */
export function writeUserSettings(file: string, settings: Record<string, unknown>, keepOwn: boolean): void {
  let own: Record<string, unknown> = {};
  if (keepOwn && fs.existsSync(file)) {
    try {
      const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return;
      own = parsed as Record<string, unknown>;
    } catch {
      return;
    }
  }
  fs.writeFileSync(file, JSON.stringify({ ...settings, ...own }, null, 2));
}

export class CodeServer {
  private process?: ChildProcess;
  readonly userDataDir: string;
  readonly extensionsDir: string;
  readonly logFile: string;
  port = 0;

  constructor(private readonly options: CodeServerOptions) {
    this.userDataDir = path.join(options.stateDir, 'user-data');
    this.extensionsDir = path.join(options.stateDir, 'extensions');
    this.logFile = path.join(options.stateDir, 'code-server.log');
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/?folder=${encodeURIComponent(this.options.workspace)}`;
  }

  async start(): Promise<void> {
    if (!fs.existsSync(CODE_SERVER_BIN)) throw new Error(`code-server not found at ${CODE_SERVER_BIN}: run scripts/setup-e2e.sh`);
    fs.rmSync(this.options.keepUserData ? this.extensionsDir : this.options.stateDir, { recursive: true, force: true });
    fs.mkdirSync(path.join(this.userDataDir, 'User'), { recursive: true });
    fs.mkdirSync(this.extensionsDir, { recursive: true });
    writeUserSettings(
      path.join(this.userDataDir, 'User', 'settings.json'),
      { ...QUIET_SETTINGS, ...this.options.settings },
      this.options.keepUserData === true,
    );
    execFileSync(CODE_SERVER_BIN, ['--install-extension', this.options.vsix, '--extensions-dir', this.extensionsDir, '--user-data-dir', this.userDataDir], {
      stdio: 'pipe',
      timeout: 120_000,
    });
    this.port = this.options.port ?? (await freePort());
    const log = fs.openSync(this.logFile, 'a');
    this.process = spawn(
      CODE_SERVER_BIN,
      [
        '--bind-addr',
        `127.0.0.1:${this.port}`,
        '--auth',
        'none',
        '--disable-telemetry',
        '--disable-update-check',
        '--disable-workspace-trust',
        '--user-data-dir',
        this.userDataDir,
        '--extensions-dir',
        this.extensionsDir,
        this.options.workspace,
      ],
      { stdio: ['ignore', log, log], detached: false },
    );
    await this.waitForHttp(120_000);
  }

  private async waitForHttp(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.process?.exitCode !== null && this.process?.exitCode !== undefined) {
        throw new Error(`code-server exited with ${this.process.exitCode}:\n${this.tail(this.logFile, 40)}`);
      }
      const ok = await new Promise<boolean>((resolve) => {
        const req = http.get({ host: '127.0.0.1', port: this.port, path: '/healthz', timeout: 2000 }, (res) => {
          res.resume();
          resolve((res.statusCode ?? 500) < 500);
        });
        req.on('error', () => resolve(false));
        req.on('timeout', () => {
          req.destroy();
          resolve(false);
        });
      });
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`code-server did not answer on port ${this.port}:\n${this.tail(this.logFile, 40)}`);
      await new Promise((r) => setTimeout(r, 250)); // polling interval of a readiness check, not a fixed wait
    }
  }

  /** The extension host log and the LM Playground output channel, for failure reports. */
  extensionLogs(lines = 60): string {
    const found: string[] = [];
    const walk = (dir: string) => {
      if (!fs.existsSync(dir)) return;
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (/exthost\.log$|LM Playground\.log$|remoteexthost\.log$/.test(e.name)) found.push(p);
      }
    };
    walk(path.join(this.userDataDir, 'logs'));
    return [this.logFile, ...found].map((f) => `--- ${f}\n${this.tail(f, lines)}`).join('\n');
  }

  /**
   * Waits for a line of the logs that matches: the log files are written a little after the
   * extension does what it logs, so they are read again until the line is there or `timeoutMs` passed.
   */
  async waitForLogLine(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
    for (const deadline = Date.now() + timeoutMs; ;) {
      const match = this.extensionLogs(Number.MAX_SAFE_INTEGER).match(pattern);
      if (match) return match;
      if (Date.now() > deadline) throw new Error(`no log line matches ${pattern} after ${timeoutMs} ms:\n${this.extensionLogs(60)}`);
      await new Promise((r) => setTimeout(r, 200)); // polling interval of the log files, not a fixed wait
    }
  }

  private tail(file: string, lines: number): string {
    try {
      return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  async stop(): Promise<void> {
    const p = this.process;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
      setTimeout(() => p.kill('SIGKILL'), 5000).unref();
    });
  }
}
