/**
 * Bounded concurrency: at most `concurrency` requests compute at once, at most `queue` more wait
 * in order; one more is refused at once (503), so that a burst cannot pile up work and memory.
 */
import { ApiError } from './apiError';

interface Waiter {
  resolve(release: () => void): void;
  reject(e: Error): void;
}

export class Admission {
  private running = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    readonly concurrency: number,
    readonly queue: number,
  ) {}

  get runningCount(): number {
    return this.running;
  }

  get waitingCount(): number {
    return this.waiting.length;
  }

  /**
   * Resolves with a release function once the request may run. Throws a 503 when the queue is
   * full. The caller calls `leave` when its client goes away while waiting: its place is given up.
   */
  enter(): { admitted: Promise<() => void>; leave: () => void } {
    if (this.running < this.concurrency) {
      this.running++;
      return { admitted: Promise.resolve(this.releaser()), leave: () => undefined };
    }
    if (this.waiting.length >= this.queue)
      throw new ApiError(
        503,
        `the server is busy: ${this.running} requests running and ${this.waiting.length} waiting (its limits; see lmp serve --concurrency and --queue); retry later`,
      );
    let waiter!: Waiter;
    const admitted = new Promise<() => void>((resolve, reject) => (waiter = { resolve, reject }));
    this.waiting.push(waiter);
    const leave = () => {
      const i = this.waiting.indexOf(waiter);
      if (i >= 0) this.waiting.splice(i, 1);
    };
    return { admitted, leave };
  }

  /** Refuses every waiting request (the server is shutting down). */
  rejectWaiting(e: Error): void {
    for (const w of this.waiting.splice(0)) w.reject(e);
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next.resolve(this.releaser());
      else this.running--;
    };
  }
}
