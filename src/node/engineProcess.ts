/**
 * Entry point of the engine's child process (forked by engineProcessSpawn.ts): one model, answering
 * the engine protocol over the IPC channel (advanced serialization: typed arrays pass as they are).
 * For backends whose native code can abort the whole process (llama.cpp's GGML_ASSERT, an uncaught
 * C++ exception): here that ends this process only, and the host reports why and starts another.
 */
import type { EngineRequest, EngineResponse } from '../core/engine/protocol';
import { lowerPriority, serveEngine } from './engineService';
import { llamaAbortChecks } from './gguf/ggufFile';

if (!process.send) throw new Error('engineProcess must run as a child process with an IPC channel');

// The fault tests' seam (unit and end-to-end): llama.cpp is given header values it aborts on.
if (process.env.LMP_TEST_LET_LLAMA_ABORT === '1') llamaAbortChecks.enabled = false;

lowerPriority();

/** The last message handed to the channel, so that `dispose`'s answer leaves before the process ends. */
let sent: Promise<void> = Promise.resolve();
const handle = serveEngine(
  (response: EngineResponse) => {
    sent = new Promise((resolve) => process.send!(response, undefined, undefined, () => resolve()));
  },
  () => void sent.then(() => process.exit(0)),
);
process.on('message', (req: EngineRequest) => handle(req));
// The host went away (it exited, crashed or was killed): nothing is left to answer, and nothing
// must outlive it. Ends even with a run in progress (it computes for no one).
process.on('disconnect', () => process.exit(0));
