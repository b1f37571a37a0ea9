/**
 * The playground's models that cannot run in a webview: GGUF files on llama.cpp, whose binary runs
 * only in Node, and models on a server, which the page cannot reach. The page sends their engine
 * requests here instead of to its Web Worker. A GGUF model runs in an engine child process of the
 * extension host (never on its thread), a server model computes on its server, and the core's
 * EngineServer does the rest as in any worker: for GGUF our own sampler over the model's whole
 * distribution (any temperature, exact), streamed tokens, cancellation. Results go back relayed
 * (typed arrays as plain arrays). A `load` names the model by the spec the page was offered; no
 * other model is opened. No vscode import: unit-tested.
 */
import { EngineServer } from '../core/engine/engineServer';
import type { EngineRequest, LoadSpec } from '../core/engine/protocol';
import { LmError } from '../core/errors';
import type { LanguageModel } from '../core/model';
import type { RecognizedModel } from '../node/backends/backend';
import { toRelay, type RelayedResponse } from '../webview/relayMessages';

/**
 * Whether the playground runs this model through the extension: it has no webview placement, but
 * runs in a Node engine process (GGUF) or computes on a server (the page cannot reach one).
 */
export function runsOnPlaygroundHost(model: RecognizedModel): boolean {
  const { placements, tokenizer } = model.backend.capabilities;
  return !placements.includes('webview-worker') && (placements.includes('node-worker') || placements.includes('node-process') || tokenizer === 'server');
}

/** Where a model the playground runs through the extension computes, as its status line names it. */
export function playgroundHostPlace(model: RecognizedModel): string {
  const { placements, tokenizer } = model.backend.capabilities;
  if (tokenizer === 'server') return 'its server';
  // A GGUF model runs in a child process (llama.cpp's faults must not end the extension host), not in the host.
  return placements.includes('node-process') ? 'an engine process of the extension' : 'a worker thread of the extension host';
}

export class PlaygroundHostEngine {
  private readonly server: EngineServer;
  /** Requests run one at a time, in order, as in a worker: a generation's steps share one KV cache. */
  private queue: Promise<void> = Promise.resolve();
  /** Requests queued or running, cancelled when the page goes. */
  private readonly pending = new Set<number>();
  private disposed = false;

  /**
   * `models`: the offered host models by spec; `open` starts one in its worker thread;
   * `post` sends a response to the page.
   */
  constructor(
    private readonly models: ReadonlyMap<string, RecognizedModel>,
    open: (model: RecognizedModel) => Promise<LanguageModel>,
    post: (response: RelayedResponse) => void,
  ) {
    this.server = new EngineServer(
      async (spec) => ({ model: await open(this.offered(spec)) }),
      (response) => {
        if (!this.disposed) post(toRelay(response));
      },
    );
  }

  private offered(spec: LoadSpec): RecognizedModel {
    const name = 'path' in spec.source ? spec.source.path : undefined;
    const model = name === undefined ? undefined : this.models.get(name);
    if (!model) throw new LmError(`the playground asked the extension for a model it was not offered: ${name ?? spec.name}`);
    return model;
  }

  /** A request of the page; a cancellation acts at once, anything else after the requests before it. */
  handle(request: EngineRequest): void {
    if (this.disposed) return;
    if (request.op === 'cancel') {
      void this.server.handle(request);
      return;
    }
    this.pending.add(request.id);
    this.queue = this.queue.then(() => this.server.inTurn(request, () => this.pending.delete(request.id)));
  }

  /** The page is gone: its model is released (after the request in progress, which is cancelled first). */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const target of this.pending) void this.server.handle({ id: 0, op: 'cancel', target });
    await this.queue;
    await this.server.handle({ id: 0, op: 'dispose' });
  }
}
