/**
 * The machine's own stall of an idle event loop: a separate Node process that does nothing but
 * watch its event loop as the extension does (monitorEventLoopDelay at a 10 ms resolution), and
 * prints the longest delay of each 100 ms window with the window's end time. On a loaded machine
 * the OS holds any thread for tens to hundreds of milliseconds; a test judges the extension host's
 * delay beyond this reference's in the same time window, which is what the host's own code adds.
 */
import { spawn, type ChildProcess } from 'child_process';

const SCRIPT = `
const { monitorEventLoopDelay } = require('perf_hooks');
const h = monitorEventLoopDelay({ resolution: 10 });
h.enable();
setInterval(() => {
  process.stdout.write(Date.now() + ' ' + (h.max / 1e6).toFixed(1) + '\\n');
  h.reset();
}, 100);
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

export class IdleLoopReference {
  private readonly child: ChildProcess;
  /** [window end (ms since the epoch), longest delay in the window (ms)]. */
  private readonly windows: [number, number][] = [];
  private partial = '';

  constructor() {
    this.child = spawn(process.execPath, ['-e', SCRIPT], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (text: string) => {
      const lines = (this.partial + text).split('\n');
      this.partial = lines.pop()!;
      for (const line of lines) {
        const [end, delay] = line.split(' ').map(Number);
        this.windows.push([end, delay]);
      }
    });
  }

  /**
   * The longest delay of the reference loop over windows that overlap [from, to] (ms since the
   * epoch); undefined when it reported none there (it was not running yet).
   */
  longestDelay(from: number, to: number): number | undefined {
    const inside = this.windows.filter(([end]) => end >= from && end - 100 <= to).map(([, delay]) => delay);
    return inside.length ? Math.max(...inside) : undefined;
  }

  /** How many windows it reported: a check that it ran. */
  get reported(): number {
    return this.windows.length;
  }

  /** Ends the process (its stdin closes) and waits for it. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin!.end();
    await exited;
  }
}
