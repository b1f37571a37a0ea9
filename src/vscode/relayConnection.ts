/**
 * The extension's end of a webview page's engine relay (webview/engineRelay.ts). A `fatal` from
 * the page means its engine worker died: nobody will answer, so the connection closes (requests in
 * flight and every later one fail at once with the reason) and the health turns `failed`, which the
 * model service answers by moving the model off the page. No vscode import: unit-tested.
 */
import { EngineConnection, type EngineHealth, type EngineHealthSource } from '../core/engine/engineClient';
import { LmError } from '../core/errors';
import { fromRelay, type RelayFromPage, type RelayToPage } from '../webview/relayMessages';

export class RelayConnection implements EngineHealthSource {
  readonly connection: EngineConnection;
  private state: EngineHealth = { state: 'running' };
  private readonly listeners = new Set<(health: EngineHealth) => void>();

  constructor(post: (m: RelayToPage) => void) {
    this.connection = new EngineConnection((request) => post({ type: 'request', request }));
  }

  get health(): EngineHealth {
    return this.state;
  }

  onHealthChange(listener: (health: EngineHealth) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every message of the page. */
  receive(m: RelayFromPage): void {
    if (m.type === 'response') this.connection.receive(fromRelay(m.response));
    else if (m.type === 'fatal') this.fail(`the engine worker in the webview stopped (${m.error})`);
  }

  /** The page is gone (its webview was closed): later requests fail; the owner already knows. */
  close(reason: string): void {
    this.connection.close(new LmError(reason));
    if (this.state.state === 'running') this.state = { state: 'disposed' };
  }

  private fail(reason: string): void {
    this.connection.close(new LmError(reason));
    if (this.state.state !== 'running') return;
    this.state = { state: 'failed', reason };
    for (const l of [...this.listeners]) l(this.state);
  }
}
