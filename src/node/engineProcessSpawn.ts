/**
 * Starts the engine in a child process (engineProcess.ts) instead of a worker thread, for backends
 * whose native code may abort the process it runs in (llama.cpp: a failed GGML_ASSERT, an uncaught
 * C++ exception). In a worker thread that abort would end the extension host with it; here only
 * the child ends, and the last lines it wrote (llama.cpp's reason) go into the exit reason that
 * the supervisor reports.
 */
import { fork, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { EngineResponse } from '../core/engine/protocol';
import type { EngineWorkerEvents, EngineWorkerHandle } from '../core/engine/supervisor';

/** Seams for the tests: another entry script, more environment, each process as it starts, the watchdog's times. */
export interface EngineProcessOptions {
  script?: string;
  env?: Record<string, string>;
  onSpawn?: (child: ChildProcess) => void;
  /** How long a process may use no CPU while a request waits before it counts as hung. */
  hangMs?: number;
  /** How often the watchdog looks. */
  watchMs?: number;
}

/**
 * A process that uses no CPU for this long while a request waits is stopped (SIGSTOP) or
 * deadlocked: it would leave hovers on "Loading…" for ever. A computing one uses CPU all along,
 * even on a loaded machine at its lower priority.
 */
export const ENGINE_HANG_MS = 30_000;
const WATCH_MS = 5_000;

/** The CPU time a process has used, in clock ticks (Linux /proc); undefined elsewhere or once it is gone. */
function cpuTicks(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command's closing parenthesis: state is the 3rd field, utime and stime the 14th and 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
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
  let hung: string | undefined;
  // Requests sent and not yet answered (a final answer: not a generation's partial one).
  const waiting = new Set<number>();
  let lastCpu: number | undefined;
  let lastProgress = Date.now();
  const hangMs = options.hangMs ?? ENGINE_HANG_MS;
  const watchdog = setInterval(() => {
    if (waiting.size === 0 || child.pid === undefined) return;
    const cpu = cpuTicks(child.pid);
    if (cpu === undefined) return;
    if (cpu !== lastCpu) {
      lastCpu = cpu;
      lastProgress = Date.now();
    } else if (Date.now() - lastProgress >= hangMs) {
      hung = `it used no CPU for ${Math.round(hangMs / 1000)} s while a request waited (stopped or deadlocked), so it was ended`;
      clearInterval(watchdog);
      child.kill('SIGKILL');
    }
  }, options.watchMs ?? WATCH_MS);
  // A watchdog must not keep the host (the CLI, a test) alive.
  watchdog.unref();
  // A failed start or a message that could not be sent; 'close' follows a process that ended.
  child.on('error', (e) => (failure ??= e));
  child.on('message', (res: EngineResponse) => {
    if (!('partial' in res)) waiting.delete(res.id);
    events.message(res);
  });
  // After 'exit' and the end of its output: the tail is complete.
  child.once('close', (code, signal) => {
    clearInterval(watchdog);
    events.exited(hung ?? endReason(code, signal, tail, failure));
  });
  options.onSpawn?.(child);
  return {
    // Copied, not transferred: a process shares no memory with its host.
    post: (req) => {
      if (!child.connected) return;
      if (req.op !== 'cancel') {
        // Timed from the first request after an idle spell: the time before it is no hang.
        if (waiting.size === 0) {
          lastCpu = undefined;
          lastProgress = Date.now();
        }
        waiting.add(req.id);
      }
      child.send(req);
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
