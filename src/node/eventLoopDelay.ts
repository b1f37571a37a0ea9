/**
 * How long this thread's event loop was held up while something ran: the longest wait of a timer
 * beyond its due time. The extension reports it for each model load (a load that blocks the host
 * freezes the editor), and the end-to-end tests read it there.
 *
 * On a loaded machine most of a long wait can be the OS running other threads: where Linux tells a
 * thread's own time on the CPU (/proc/thread-self/schedstat), the watch also gives the most the
 * thread ran between two 10 ms ticks of a timer, which is how long its own work (ours, another
 * extension's, its garbage collection) held the loop, whatever the machine's load.
 */
import * as fs from 'fs';
import { monitorEventLoopDelay } from 'perf_hooks';

export interface EventLoopHold {
  /** The longest wait of the event loop, milliseconds. */
  delayMs: number;
  /** The most the thread ran between two ticks, milliseconds; undefined where the OS does not tell it. */
  runMs?: number;
}

const TICK_MS = 10;
const SCHEDSTAT = '/proc/thread-self/schedstat';

/** This thread's time on the CPU so far, nanoseconds (schedstat's first field); undefined where unreadable. */
function threadCpuNs(): number | undefined {
  try {
    const ns = Number(fs.readFileSync(SCHEDSTAT, 'latin1').split(' ')[0]);
    return Number.isFinite(ns) ? ns : undefined;
  } catch {
    return undefined;
  }
}

/** Starts watching; the function returned stops and gives the longest delay and run. */
export function watchEventLoopDelay(): () => EventLoopHold {
  const histogram = monitorEventLoopDelay({ resolution: TICK_MS });
  histogram.enable();
  let previous = threadCpuNs();
  let longestRun = 0;
  const sample = () => {
    const now = threadCpuNs();
    if (now !== undefined && previous !== undefined) longestRun = Math.max(longestRun, now - previous);
    previous = now;
  };
  const ticks = previous === undefined ? undefined : setInterval(sample, TICK_MS);
  // The watch never keeps a process alive.
  ticks?.unref();
  return () => {
    histogram.disable();
    if (!ticks) return { delayMs: histogram.max / 1e6 };
    clearInterval(ticks);
    sample();
    return { delayMs: histogram.max / 1e6, runMs: longestRun / 1e6 };
  };
}
