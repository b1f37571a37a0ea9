/** Standard output for commands that stream their results: batched writes that wait when the reader is slower. */
import { once } from 'events';

/** Writes text; awaiting it applies the reader's backpressure. */
export type Out = (s: string) => void | Promise<void>;

const BATCH_CHARS = 1 << 16;

export class StreamOut {
  private buffer = '';

  constructor(private readonly stream: NodeJS.WritableStream = process.stdout) {}

  readonly write: Out = (s) => {
    this.buffer += s;
    if (this.buffer.length >= BATCH_CHARS) return this.flush();
  };

  async flush(): Promise<void> {
    const b = this.buffer;
    this.buffer = '';
    if (b && !this.stream.write(b)) await once(this.stream, 'drain');
  }
}
