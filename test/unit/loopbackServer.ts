/**
 * An HTTP server on a free loopback port for tests that play a model server: it names its /v1
 * base, and closing it ends every connection and timer it started, so no test leaks them.
 */
import * as http from 'http';
import type { AddressInfo, Socket } from 'net';

export abstract class LoopbackServer {
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  /** Timers of answers still being written (intervals too: clearTimeout clears both in Node). */
  protected readonly timers = new Set<ReturnType<typeof setTimeout>>();
  port = 0;

  constructor() {
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  protected abstract handle(req: http.IncomingMessage, res: http.ServerResponse): void;

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  get base(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
