/** Runs `lmp serve` as a child process on an ephemeral loopback port, for its tests and its benchmark. */
import { spawn, type ChildProcess } from 'child_process';
import * as path from 'path';

export interface RunningServe {
  /** http://127.0.0.1:PORT */
  origin: string;
  /** origin + /v1, the OpenAI client's baseURL */
  baseURL: string;
  proc: ChildProcess;
  /** What the server wrote to standard error so far (its request log and errors). */
  log(): string;
  /** SIGTERM, then its exit code once it has exited. */
  stop(): Promise<number | null>;
}

export async function startServe(cli: string, model: string, args: string[] = []): Promise<RunningServe> {
  const proc = spawn(process.execPath, [cli, 'serve', '--model', model, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const origin = await new Promise<string>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = / at (http:\/\/[^ ]+)\/v1 /.exec(stdout);
      if (m) resolve(m[1]);
    });
    void exited.then((code) => reject(new Error(`lmp serve ${path.basename(model)} exited (${code}) before listening:\n${stdout}\n${stderr}`)));
  });
  return {
    origin,
    baseURL: `${origin}/v1`,
    proc,
    log: () => stderr,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return exited;
    },
  };
}
