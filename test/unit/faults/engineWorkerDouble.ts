/**
 * A test double of the engine's worker script: the real one, plus faults on demand. The test
 * posts `{ fault: 'exit' | 'throw' | 'oom' }`; with `workerData.dieOnLoadFrom`, every worker
 * started from that one on (counted in the shared `workerData.starts`) exits as it loads.
 */
import { parentPort, workerData } from 'worker_threads';

export type Fault = { fault: 'exit' | 'throw' | 'oom' };
export interface DoubleData {
  starts: SharedArrayBuffer;
  dieOnLoadFrom?: number;
}

const data = workerData as DoubleData;
const started = Atomics.add(new Int32Array(data.starts), 0, 1);
const port = parentPort!;

if (data.dieOnLoadFrom !== undefined && started >= data.dieOnLoadFrom) {
  port.on('message', (m: { op?: string }) => {
    if (m.op === 'load') process.exit(7);
  });
} else {
  port.on('message', (m: Partial<Fault>) => {
    if (m.fault === 'exit') process.exit(3);
    if (m.fault === 'throw') throw new Error('boom in the worker');
    if (m.fault === 'oom') {
      const hoard: number[][] = [];
      for (;;) hoard.push(new Array(1e6).fill(hoard.length));
    }
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded after the globals it reads are set
  require('../../../src/node/engineWorker');
}
