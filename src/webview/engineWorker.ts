/**
 * The engine in a browser Web Worker (a VS Code webview's, or a test page's): a model of any
 * backend that runs in a browser (browserBackends.ts), from the files the page sends as bytes with
 * the load (workers cannot reliably load webview resource URLs), together with the onnxruntime-web
 * binary the model runs on (see ortBinaries.ts for which one).
 */
import { EngineServer } from '../core/engine/engineServer';
import type { EngineRequest } from '../core/engine/protocol';
import { openInBrowser } from './browserBackends';

const server = new EngineServer(
  async (spec) => ({ model: await openInBrowser(spec) }),
  (response, transfer) => self.postMessage(response, { transfer }),
);

let queue = Promise.resolve();
self.onmessage = (e: MessageEvent<EngineRequest>) => {
  const req = e.data;
  if (req.op === 'cancel') void server.handle(req);
  // As in the Node worker: a warm-up does not hold up the requests after it (the model gives way to them).
  else if (req.op === 'warmContext') void queue.then(() => server.handle(req));
  else queue = queue.then(() => server.inTurn(req));
};
