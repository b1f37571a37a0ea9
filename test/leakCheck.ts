/**
 * Mocha root hook for both suites (.mocharc.*.json `require`): after the last test, whatever would
 * keep Node's event loop alive — a timer, an interval, a worker thread, a child process, a server
 * or socket — fails the run with a list that names each one and where it was created. The configs
 * also set `exit`, so that Mocha ends the process after this check: a leaked handle is a failure
 * with its name, never a CI run that hangs until it is killed.
 *
 * Node lists timers only by type and does not list worker threads at all, so both are tracked
 * from their creation here (the hook is loaded before any test file).
 */
import { promisify } from 'util';
// The modules themselves, not namespace copies: their exports are patched for the code under test.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import timers = require('timers');
// eslint-disable-next-line @typescript-eslint/no-require-imports
import workerThreads = require('worker_threads');

/** How long handles that are already closing (a terminated worker, an exited child's pipes) may take. */
const GRACE_MS = 10_000;

/** The first stack frame outside this file and Node's internals: where a timer or worker was made. */
function createdAt(): string {
  const frames = (new Error().stack ?? '').split('\n').slice(1);
  const own = frames.find((f) => !f.includes(__filename) && !f.includes('node:') && !f.includes('(<anonymous>)'));
  return own?.trim().replace(/^at /, '') ?? 'an unknown place';
}

const liveTimers = new Map<NodeJS.Timeout, string>();

function trackTimers(): void {
  const { setTimeout: plainTimeout, setInterval: plainInterval, clearTimeout: plainClearTimeout, clearInterval: plainClearInterval } = global;
  const forget = (t: unknown) => {
    if (t && typeof t === 'object') liveTimers.delete(t as NodeJS.Timeout);
  };
  function trackedTimeout(fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]): NodeJS.Timeout {
    const t: NodeJS.Timeout = plainTimeout(
      (...a: unknown[]) => {
        liveTimers.delete(t);
        fn(...a);
      },
      ms,
      ...args,
    );
    liveTimers.set(t, `setTimeout(${fn.name || 'anonymous'}, ${ms ?? 0} ms) at ${createdAt()}`);
    return t;
  }
  function trackedInterval(fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]): NodeJS.Timeout {
    const t = plainInterval(fn, ms, ...args);
    liveTimers.set(t, `setInterval(${fn.name || 'anonymous'}, ${ms ?? 0} ms) at ${createdAt()}`);
    return t;
  }
  const cleared = (plain: (t: NodeJS.Timeout | undefined) => void) => (t: NodeJS.Timeout | string | number | undefined) => {
    forget(t);
    plain(t as NodeJS.Timeout | undefined);
  };
  // util.promisify(setTimeout) keeps working: it looks for this symbol.
  Object.assign(trackedTimeout, { [promisify.custom]: (plainTimeout as unknown as Record<symbol, unknown>)[promisify.custom] });
  const patch = {
    setTimeout: trackedTimeout,
    setInterval: trackedInterval,
    clearTimeout: cleared(plainClearTimeout),
    clearInterval: cleared(plainClearInterval),
  };
  Object.assign(global, patch);
  Object.assign(timers, patch);
}

const liveWorkers = new Map<workerThreads.Worker, string>();

function trackWorkers(): void {
  const Plain = workerThreads.Worker;
  class TrackedWorker extends Plain {
    constructor(script: string | URL, options?: workerThreads.WorkerOptions) {
      super(script, options);
      liveWorkers.set(this, `worker thread ${String(script)} started at ${createdAt()}`);
      this.once('exit', () => liveWorkers.delete(this));
    }
  }
  Object.defineProperty(workerThreads, 'Worker', { value: TrackedWorker, configurable: true, writable: true });
}

interface HandleLike {
  constructor: { name: string };
  hasRef?: () => boolean;
  spawnargs?: string[];
  stdio?: unknown[];
  address?: () => unknown;
  remoteAddress?: string;
  remotePort?: number;
}

/** Handles (sockets, servers, child processes) other than the process's own standard streams and a child's pipes. */
function openHandles(): string[] {
  const handles = (process as unknown as { _getActiveHandles(): HandleLike[] })._getActiveHandles();
  const own = new Set<unknown>([process.stdin, process.stdout, process.stderr, ...handles.flatMap((h) => h.stdio ?? [])]);
  return handles
    .filter((h) => !own.has(h) && h.hasRef?.() !== false)
    .map((h) => {
      if (h.spawnargs) return `child process: ${h.spawnargs.join(' ')}`;
      if (h.constructor.name === 'Server') return `server listening on ${JSON.stringify(h.address?.())}`;
      if (h.remoteAddress) return `socket to ${h.remoteAddress}:${h.remotePort}`;
      return `${h.constructor.name} handle`;
    });
}

function leaks(): string[] {
  const timersLeft = [...liveTimers].filter(([t]) => t.hasRef()).map(([, where]) => where);
  return [...timersLeft, ...liveWorkers.values(), ...openHandles()];
}

trackTimers();
trackWorkers();

export const mochaHooks = {
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(GRACE_MS + 5_000);
    const until = Date.now() + GRACE_MS;
    let left = leaks();
    while (left.length > 0 && Date.now() < until) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      await new Promise<void>((resolve) => timers.setTimeout(resolve, 25));
      left = leaks();
    }
    if (left.length > 0) {
      throw new Error(`the tests left ${left.length} handle(s) that keep Node running (a hang without --exit):\n  ${left.join('\n  ')}`);
    }
  },
};
