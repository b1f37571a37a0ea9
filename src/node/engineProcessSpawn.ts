/**
 * Starts the engine in a child process (engineProcess.ts) instead of a worker thread, for backends
 * whose native code may abort the process it runs in (llama.cpp: a failed GGML_ASSERT, an uncaught
 * C++ exception). In a worker thread that abort would end the extension host with it; here only
 * the child ends, and the last lines it wrote (llama.cpp's reason) go into the exit reason that
 * the supervisor reports.
 */
import { fork, type ChildProcess } from 'child_process';
import * as path from 'path';
import type { EngineResponse } from '../core/engine/protocol';
import type { EngineWorkerEvents, EngineWorkerHandle } from '../core/engine/supervisor';

/** Seams for the tests: another entry script, more environment, each process as it starts. */
export interface EngineProcessOptions {
  script?: string;
  env?: Record<string, string>;
  onSpawn?: (child: ChildProcess) => void;
}

/** Bytes of the child's output kept for the exit reason: a failed assertion's lines come last. */
const TAIL_BYTES = 16 * 1024;

export function spawnEngineProcess(events: EngineWorkerEvents, options: EngineProcessOptions = {}): EngineWorkerHandle {
  const child = fork(options.script ?? path.join(__dirname, 'engineProcess.js'), [], {
    // Structured clone over the channel: the protocol's typed arrays arrive as typed arrays.
    serialization: 'advanced',
    // The host's own flags (an inspector port, memory limits) are not the engine's.
    execArgv: [],
    // In desktop VS Code the host's executable is Electron's: this makes it a plain Node.
    env: { ...process.env, ...options.env, ELECTRON_RUN_AS_NODE: '1' },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-TAIL_BYTES);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let failure: Error | undefined;
  // A failed start or a message that could not be sent; 'close' follows a process that ended.
  child.on('error', (e) => (failure ??= e));
  child.on('message', (res: EngineResponse) => events.message(res));
  // After 'exit' and the end of its output: the tail is complete.
  child.once('close', (code, signal) => events.exited(endReason(code, signal, tail, failure)));
  options.onSpawn?.(child);
  return {
    // Copied, not transferred: a process shares no memory with its host.
    post: (req) => {
      if (child.connected) child.send(req);
    },
    // It answered `dispose` (its model released) and did not exit by itself.
    stopIdle: () => void child.kill(),
  };
}

/**
 * How the process ended, in words: its exit code or signal, then the lines that say why (a failed
 * GGML_ASSERT, the C++ exception that ended it), else its last line.
 */
export function endReason(code: number | null, signal: NodeJS.Signals | null, output: string, failure?: Error): string {
  const lines = output
    .split(/\r?\n/)
    .map((l) => l.trim().replace(/\s+/g, ' '))
    .filter((l) => l.length > 0);
  const telling = lines.filter((l) => /GGML_ASSERT|GGML_ABORT|terminate called|what\(\)|Assertion .* failed|error/i.test(l));
  // A source path ends in its file's name: "…/ggml-cpu/ops.cpp:3949: GGML_ASSERT(…) failed" → "ops.cpp:3949: …".
  const said = (telling.length > 0 ? telling.slice(-3) : lines.slice(-1)).map((l) => l.replace(/^\S*[\\/]([^\\/\s]+:\d+:)/, '$1'));
  const how =
    signal === 'SIGABRT' || code === 134
      ? 'it aborted'
      : signal
        ? `it was stopped by ${signal}`
        : failure && code === null
          ? failure.message
          : `it exited with code ${code}`;
  return said.length > 0 ? `${how} (${said.join(' / ')})` : how;
}
