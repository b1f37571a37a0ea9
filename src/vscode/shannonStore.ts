/**
 * Shannon game results in the extension's global storage: the game in progress and earlier games,
 * kept across sessions until the user resets them.
 */
import * as vscode from 'vscode';
import type { GameState } from '../core/shannon/game';

const KEY = 'lmPlayground.shannonGame';
/** Earlier games kept; the oldest go first. */
const MAX_GAMES = 200;

interface Saved {
  version: 1;
  current?: GameState;
  history: GameState[];
}

function isGame(g: unknown): g is GameState {
  const x = g as GameState;
  return (
    !!x && typeof x.id === 'string' && typeof x.title === 'string' && typeof x.text === 'string' &&
    (x.alphabet === 'shannon27' || x.alphabet === 'all') && Number.isInteger(x.window) &&
    Array.isArray(x.guesses) && x.guesses.every((n) => Number.isInteger(n) && n >= 1) &&
    Array.isArray(x.wrong) && x.wrong.length === x.guesses.length && Array.isArray(x.pending)
  );
}

export class ShannonStore {
  current: GameState | undefined;
  history: GameState[] = [];

  constructor(
    private readonly memento: vscode.Memento,
    log: vscode.LogOutputChannel,
  ) {
    const saved = memento.get<Saved>(KEY);
    if (saved === undefined) return;
    const games = [...(saved.history ?? []), ...(saved.current ? [saved.current] : [])];
    if (saved.version !== 1 || !games.every(isGame)) {
      // Never lose results silently: keep the unreadable value beside, start afresh.
      log.warn(`saved Shannon game results are unreadable; kept under ${KEY}.unreadable`);
      void memento.update(`${KEY}.unreadable`, saved);
      void vscode.window.showWarningMessage('LM Playground: the saved Shannon game results could not be read; starting with none.');
      return;
    }
    this.current = saved.current;
    this.history = saved.history;
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
