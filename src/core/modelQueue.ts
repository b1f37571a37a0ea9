/** How often background work waiting for a hold's release looks whether it was stopped. */
const HELD_POLL_MS = 50;

/**
 * Serialises a local model's calls: its KV cache follows one token sequence at a time. It counts
 * the calls waiting, background ones (a warm-up) apart, so that a warm-up can give way to them
 * between two of its passes.
 */
export class ModelQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private queued = 0;
  /** Background work in passes, numbered in the order it was first asked for. */
  private started = 0;
  /** The numbers of background work waiting for its turn. */
  private readonly waitingBackground = new Set<number>();
  /** Holds on background work (hold()), and what waits for the last one to go. */
  private holds = 0;
  private readonly unheld: (() => void)[] = [];

  /** Whether a hold (hold()) is on. */
  get held(): boolean {
    return this.holds > 0;
  }

  /** Calls queued behind the one running, background ones not counted. */
  get waiting(): number {
    return this.queued;
  }

  run<T>(fn: () => Promise<T>): Promise<T> {
    this.queued++;
    return this.enqueue(() => {
      this.queued--;
      return fn();
    });
  }

  /**
   * Keeps background work from running a pass until the returned function is called (once; more
   * calls do nothing): a generation's steps must follow one another on its cache, since a graph that
   * quantizes its activations per run (int8) gives other numbers when a warm-up's pass has moved the
   * cache between two steps, and a seed then gives another text.
   */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.holds === 0) for (const wake of [...this.unheld]) wake();
    };
  }

  /**
   * Background work in passes (a warm-up): before each pass it looks whether a call waits, or
   * background work asked for after it (the newest warm-up is what the user did last: the status
   * bar's context after an edit waited 6–7 s behind the hover's warm-up of the same edit, drive9),
   * or whether `stop()` says so; then it goes behind them and takes up again once they are done.
   * Older background work does not make it give way (two warm-ups would take turns forever). While
   * the queue is held (hold()) it runs no pass, and takes up again once the hold is released (or
   * ends, when `stop()` says so meanwhile).
   * `pass()` runs one pass and says whether the work is done. Returns how often it gave way.
   */
  async inPasses(pass: () => Promise<boolean>, stop: () => boolean): Promise<number> {
    const mine = ++this.started;
    const newerWaits = () => [...this.waitingBackground].some((n) => n > mine);
    let yielded = 0;
    for (;;) {
      this.waitingBackground.add(mine);
      const done = await this.enqueue(async () => {
        this.waitingBackground.delete(mine);
        for (;;) {
          if (stop() || this.queued > 0 || this.holds > 0 || newerWaits()) return false;
          if (await pass()) return true;
          // Calls that arrived during the pass are queued (and counted) before the next one.
          await new Promise<void>((resolve) => setTimeout(resolve, 0));
        }
      });
      if (done || stop()) return yielded;
      yielded++;
      // A warm-up cancelled meanwhile (the editor moved on) ends without waiting for the release.
      await this.whileHeld(stop);
    }
  }

  /** Resolves once no hold is on (hold()), or once `stop()` says so (looked at every HELD_POLL_MS). */
  async whileHeld(stop: () => boolean): Promise<void> {
    while (this.holds > 0 && !stop()) await this.unheldOr(HELD_POLL_MS);
  }

  /** Resolves once no hold is on, or after `ms`. */
  private unheldOr(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        const i = this.unheld.indexOf(done);
        if (i >= 0) this.unheld.splice(i, 1);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.unheld.push(done);
    });
  }

  private enqueue<T>(start: () => Promise<T>): Promise<T> {
    const run = this.tail.then(start, start);
    this.tail = run.catch(() => undefined);
    return run;
  }
}
