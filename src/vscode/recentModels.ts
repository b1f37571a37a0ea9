/**
 * Model files and folders the user ran before (a GGUF found in LM Studio's folders, one browsed
 * to), and models on servers: LM: Select Model lists them, so going back is one pick, not a
 * search (or the server's URL, model and key typed again) every time.
 */
import * as fs from 'fs';
import * as path from 'path';
import type * as vscode from 'vscode';
import { isRemoteSpec } from '../core/remote/remoteRef';

const KEY = 'lmPlayground.recentModels';
/** How many are kept, most recent first. */
export const MAX_RECENT_MODELS = 8;

export class RecentModels {
  constructor(private readonly state: vscode.Memento) {}

  /** The model files and folders used before that are still on the disk, most recent first. */
  list(): string[] {
    return this.stored().filter((spec) => !isRemoteSpec(spec) && fs.existsSync(spec));
  }

  /** The models on servers used before (`http(s)://HOST/v1#MODEL`), most recent first. */
  servers(): string[] {
    return this.stored().filter(isRemoteSpec);
  }

  /** Records a model that loaded: a file, a folder or a model on a server (embedded models are listed anyway). */
  add(spec: string): void {
    if (!path.isAbsolute(spec) && !isRemoteSpec(spec)) return;
    const next = [spec, ...this.stored().filter((s) => s !== spec)].slice(0, MAX_RECENT_MODELS);
    void this.state.update(KEY, next);
  }

  private stored(): string[] {
    const value = this.state.get<unknown>(KEY);
    return Array.isArray(value) ? value.filter((s): s is string => typeof s === 'string') : [];
  }
}
