/**
 * Serialises a local model's calls: its KV cache follows one token sequence at a time. It counts
 * the calls waiting, background ones (a warm-up) left out, so that a warm-up can give way to them
 * between two of its passes.
 */
export class ModelQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private queued = 0;

  /** Calls queued behind the one running, background ones not counted. */
  get waiting(): number {
    return this.queued;
  }

  run<T>(fn: () => Promise<T>, background = false): Promise<T> {
    if (!background) this.queued++;
    const start = () => {
      if (!background) this.queued--;
      return fn();
    };
    const run = this.tail.then(start, start);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /**
   * Background work in passes (a warm-up): before each pass it looks whether a call waits or
   * `stop()` says so, and if one waits it goes behind it and takes up again once it is answered.
   * `pass()` runs one pass and says whether the work is done. Returns how often it gave way.
   */
  async inPasses(pass: () => Promise<boolean>, stop: () => boolean): Promise<number> {
    let yielded = 0;
    for (;;) {
      const done = await this.run(async () => {
        for (;;) {
          if (stop() || this.queued > 0) return false;
          if (await pass()) return true;
          // Calls that arrived during the pass are queued (and counted) before the next one.
          await new Promise<void>((resolve) => setTimeout(resolve, 0));
        }
      }, true);
      if (done || stop()) return yielded;
      yielded++;
    }
  }
}
