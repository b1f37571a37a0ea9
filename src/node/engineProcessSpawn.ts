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
 * A process that uses no CPU for this long while a request waits, none of its threads runnable or
 * waiting for the disk, is stopped (SIGSTOP) or deadlocked: it would leave hovers on "Loading…" for
 * ever. A computing one uses CPU, or waits for a core on a loaded machine at its lower priority.
 */
export const ENGINE_HANG_MS = 30_000;
const WATCH_MS = 5_000;

/** What the watchdog reads of a process: its CPU time and whether any of its threads waits for a core or a disk. */
export interface ProcessActivity {
  /** CPU time of all its threads, in clock ticks. */
  ticks: number;
  /** A thread is runnable (R: on a core or waiting for one) or in an uninterruptible wait (D: usually the disk). */
  busy: boolean;
}

/** Fields of a /proc stat line after the command's closing parenthesis (the command may hold spaces and parentheses). */
export function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Whether a thread in this state (the first field after the command) is working or waiting for a core or a disk. */
export const busyState = (state: string | undefined): boolean => state === 'R' || state === 'D';

/** The process's activity (Linux /proc); undefined elsewhere or once it is gone. */
export function processActivity(pid: number): ProcessActivity | undefined {
  try {
    const fields = statFields(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
    // utime and stime are the 12th and 13th fields after the command; the process's line sums its threads.
    const ticks = Number(fields[11]) + Number(fields[12]);
    let busy = false;
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      try {
        if (busyState(statFields(fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'))[0])) {
          busy = true;
          break;
        }
      } catch {
        // The thread ended between the listing and the read.
      }
    }
    return { ticks, busy };
  } catch {
    return undefined;
  }
}

/** Bytes of the child's output kept for the exit reason: a failed assertion's lines come last. */
const TAIL_BYTES = 16 * 1024;

/**
 * Engine processes still running. When the host exits they are killed: an engine ends by itself
 * when its channel closes, but not one that is stopped (SIGSTOP, a debugger), which would stay
 * behind, orphaned, holding its model's memory (hostile round 4).
 */
const running = new Set<ChildProcess>();
let killOnExit = false;

export function spawnEngineProcess(events: EngineWorkerEvents, options: EngineProcessOptions = {}): EngineWorkerHandle {
  if (!killOnExit) {
    killOnExit = true;
    process.once('exit', () => {
      for (const c of running) c.kill('SIGKILL');
    });
  }
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
    const now = processActivity(child.pid);
    if (now === undefined) return;
    // Starved of a core on a loaded machine (its threads runnable) or reading a slow disk is not hung:
    // only a process whose threads all sleep or are stopped, using no CPU, is.
    if (now.ticks !== lastCpu || now.busy) {
      lastCpu = now.ticks;
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
  running.add(child);
  child.once('exit', () => running.delete(child));
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
