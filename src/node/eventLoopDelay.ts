/**
 * How long this thread's event loop was held up while something ran: the longest wait of a timer
 * beyond its due time. The extension reports it for each model load (a load that blocks the host
 * freezes the editor), and the end-to-end tests read it there.
 */
import { monitorEventLoopDelay } from 'perf_hooks';

/** Starts watching; the function returned stops and gives the longest delay in milliseconds. */
export function watchEventLoopDelay(): () => number {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  return () => {
    histogram.disable();
    return histogram.max / 1e6;
  };
}
