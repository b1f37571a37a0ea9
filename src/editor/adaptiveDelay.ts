/**
 * How long to wait after a keystroke before asking the model: at least the configured delay, and
 * no less than the model's recent median latency (a request that cannot finish before the next
 * keystroke only wastes the CPU), capped so that suggestions still come.
 */
export class AdaptiveDelay {
  private readonly samples: number[] = [];

  constructor(
    private readonly baseMs: () => number,
    private readonly maxMs = 1000,
    private readonly window = 16,
  ) {}

  record(latencyMs: number): void {
    if (!(latencyMs >= 0)) return;
    this.samples.push(latencyMs);
    if (this.samples.length > this.window) this.samples.shift();
  }

  get medianLatencyMs(): number | undefined {
    if (this.samples.length === 0) return undefined;
    const s = [...this.samples].sort((a, b) => a - b);
    const mid = s.length >> 1;
    return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  }

  get delayMs(): number {
    const base = Math.max(0, this.baseMs());
    return Math.max(base, Math.min(this.maxMs, this.medianLatencyMs ?? 0));
  }
}

/**
 * Resolves true after `ms`, or false as soon as `signal` aborts: a cancelled request stops
 * waiting at once (its timer cleared) instead of holding on for the rest of the delay.
 */
export function wait(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const end = (ranOut: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(ranOut);
    };
    const onAbort = () => end(false);
    const timer = setTimeout(() => end(true), ms);
    signal.addEventListener('abort', onAbort);
  });
}
