/**
 * Opens a progress display only for a task still running after a moment. VS Code keeps a
 * notification progress on screen for at least 800 ms from when it opens, so a notification
 * opened for a 100 ms completion stayed there most of a second after the text was inserted; one
 * opened only for slow tasks closes when they end.
 */
export interface LateTimers {
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const systemTimers: LateTimers = {
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Calls `open` once `delayMs` after now if `task` has not settled by then; never after it settled. */
export function openWhenSlow(task: Promise<unknown>, delayMs: number, open: () => void, timers: LateTimers = systemTimers): void {
  let settled = false;
  const handle = timers.setTimeout(() => {
    if (!settled) open();
  }, delayMs);
  const done = () => {
    settled = true;
    timers.clearTimeout(handle);
  };
  task.then(done, done);
}
