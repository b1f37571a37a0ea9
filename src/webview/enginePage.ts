/** Script of the LM Engine panel: relays the engine protocol to its Web Worker and shows its state. */
import { startEngineRelay } from './engineRelay';
import type { OrtBinaryUrls } from './ortBinaries';
import type { RelayFromPage, RelayToPage } from './relayMessages';

interface VsCodeApi {
  postMessage(message: RelayFromPage): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const config = JSON.parse(document.getElementById('engine-config')!.textContent!) as { workerUrl: string; ortBinaries: OrtBinaryUrls };
const status = document.getElementById('status')!;

const relay = startEngineRelay(
  config.workerUrl,
  config.ortBinaries,
  (m) => vscode.postMessage(m),
  (text) => (status.textContent = text),
);
relay.catch((e) => vscode.postMessage({ type: 'fatal', error: (e as Error).message }));
window.addEventListener('message', async (e: MessageEvent<RelayToPage>) => {
  if (e.data?.type === 'request' || e.data?.type === 'filePiece') await (await relay).receive(e.data);
});
