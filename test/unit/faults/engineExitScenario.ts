/**
 * Run as a child process by engineWorker.test.ts: the extension host's shutdown while gpt-classics'
 * worker scores a long text. `stopAllEngines` (what `deactivate` returns) must let the run end and
 * the worker exit, so that the process's exit does not abort in onnxruntime-node's teardown.
 * Prints what happened to the scoring; the test expects exit code 0.
 */
import { onnxBackend } from '../../../src/node/backends/onnxBackend';
import { startEngineWorker, stopAllEngines } from '../../../src/node/workerHost';

const dir = process.argv[2];

async function main(): Promise<void> {
  const model = await startEngineWorker({ backend: onnxBackend, location: dir, name: 'gpt-classics' }, { device: 'native' });
  const ids = model.tokenizer.encode('It was a dark and stormy night; the rain fell in torrents. '.repeat(1500), true).map((t) => t.id);
  let outcome = 'running';
  void model.sequenceScores(ids, 1).then(
    () => (outcome = 'finished'),
    (e: Error) => (outcome = `failed: ${e.message}`),
  );
  // The worker runs one piece after another: after this it is inside a run, or between two.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const atShutdown = outcome;
  await stopAllEngines();
  console.log(JSON.stringify({ atShutdown, after: outcome }));
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
