/**
 * Model files and folders the user ran before (a GGUF found in LM Studio's folders, one browsed
 * to): LM: Select Model lists them, so going back is one pick, not a search every time.
 */
import * as fs from 'fs';
import * as path from 'path';
import type * as vscode from 'vscode';

const KEY = 'lmPlayground.recentModels';
/** How many are kept, most recent first. */
export const MAX_RECENT_MODELS = 8;

export class RecentModels {
  constructor(private readonly state: vscode.Memento) {}

  /** The models used before that are still on the disk, most recent first. */
  list(): string[] {
    return this.stored().filter((spec) => fs.existsSync(spec));
  }

  /** Records a model that loaded; only files and folders (embedded and server models are listed anyway). */
  add(spec: string): void {
    if (!path.isAbsolute(spec)) return;
    const next = [spec, ...this.stored().filter((s) => s !== spec)].slice(0, MAX_RECENT_MODELS);
    void this.state.update(KEY, next);
  }

  private stored(): string[] {
    const value = this.state.get<unknown>(KEY);
    return Array.isArray(value) ? value.filter((s): s is string => typeof s === 'string') : [];
  }
}
