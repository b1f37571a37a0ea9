/**
 * Shannon game results in the extension's global storage: the game in progress and earlier games,
 * kept across sessions until the user resets them.
 */
import * as vscode from 'vscode';
import type { GameState } from '../core/shannon/game';
import { plural } from '../core/numberFormat';
import { readSavedGames } from '../core/shannon/validation';

const KEY = 'lmPlayground.shannonGame';
/** Earlier games kept; the oldest go first. */
const MAX_GAMES = 200;
/** Problems of a damaged saved value written to the log one by one; the rest are counted. */
const MAX_LOGGED_PROBLEMS = 20;

interface Saved {
  version: 1;
  current?: GameState;
  history: GameState[];
}

export class ShannonStore {
  current: GameState | undefined;
  history: GameState[] = [];

  constructor(
    private readonly memento: vscode.Memento,
    log: vscode.LogOutputChannel,
  ) {
    const saved = memento.get<unknown>(KEY);
    if (saved === undefined) return;
    const games = readSavedGames(saved, MAX_GAMES);
    if (!games || games.problems.length > 0) {
      // Never lose results silently: keep the value as it was beside, go on with the good games.
      void memento.update(`${KEY}.unreadable`, saved);
      const kept = games ? games.history.length + (games.current ? 1 : 0) : 0;
      const problems = games?.problems ?? ['not saved games at all'];
      for (const p of problems.slice(0, MAX_LOGGED_PROBLEMS)) log.warn(`saved Shannon game results: ${p}`);
      if (problems.length > MAX_LOGGED_PROBLEMS) log.warn(`saved Shannon game results: and ${problems.length - MAX_LOGGED_PROBLEMS} more problems`);
      log.warn(`saved Shannon game results: ${plural(kept, 'game')} kept; the value as it was is kept under ${KEY}.unreadable`);
      void vscode.window.showWarningMessage(
        games
          ? `LM Playground: some saved Shannon game results were damaged and were repaired or dropped (${plural(kept, 'game')} kept); see the LM Playground log.`
          : 'LM Playground: the saved Shannon game results could not be read; starting with none.',
      );
    }
    this.current = games?.current;
    this.history = games?.history ?? [];
  }

  /** Every game, oldest first, the one in progress last. */
  get all(): GameState[] {
    return [...this.history, ...(this.current ? [this.current] : [])];
  }

  /** Makes `game` the current one; the previous one goes to the history if it was played at all. */
  start(game: GameState): void {
    if (this.current && this.current.guesses.length > 0) this.history.push(this.current);
    this.history = this.history.slice(-MAX_GAMES);
    this.current = game;
  }

  reset(): void {
    this.current = undefined;
    this.history = [];
  }

  save(): Thenable<void> {
    const value: Saved = { version: 1, current: this.current, history: this.history };
    return this.memento.update(KEY, value);
  }
}
