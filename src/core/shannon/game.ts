/**
 * One Shannon game: a person guesses the next character of a text until right; the number of
 * guesses per character is what the bounds are computed from. Pure state, saved as JSON.
 */
import { LmError } from '../errors';
import { guessFrequencies, readBounds, type BoundsReading } from './bounds';
import { makeAlphabet, prepareGameText, type Alphabet, type AlphabetKind } from './alphabet';

/** Longest text a game takes: more is hours of guessing, and the model plays it all ahead. */
export const MAX_GAME_CHARS = 5000;

export interface ModelPlay {
  model: string;
  /** Per character of the text, as far as computed: the model's guess count and −log2 p. */
  ranks: number[];
  bits: number[];
}

export interface GameState {
  id: string;
  /** Where the text came from, e.g. "selection in notes.md" or a passage's title. */
  title: string;
  text: string;
  alphabet: AlphabetKind;
  /** Shannon's N-gram condition: only the last N characters are shown (0: all of them). */
  window: number;
  /** Guesses it took for each character played so far (the next one is at `guesses.length`). */
  guesses: number[];
  /** Wrong guesses for each played character, in order. */
  wrong: string[][];
  /** Wrong guesses at the current character. */
  pending: string[];
  startedAt: string;
  modelPlay?: ModelPlay;
}

/** 'forced': wrong, and only the right symbol was left, so it counts as found at the last guess. */
export type GuessOutcome = 'right' | 'wrong' | 'forced' | 'repeated' | 'outside' | 'finished';

export function characters(game: Pick<GameState, 'text'>): string[] {
  return Array.from(game.text);
}

export function alphabetOf(game: Pick<GameState, 'alphabet' | 'text'>): Alphabet {
  return makeAlphabet(game.alphabet, game.text);
}

export function newGame(title: string, rawText: string, alphabet: AlphabetKind, window: number, id: string, now = new Date()): GameState {
  if (!Number.isInteger(window) || window < 0) throw new LmError(`the number of letters shown must be a whole number ≥ 0 (0 shows all), got ${window}`);
  let text = prepareGameText(alphabet, rawText);
  const chars = Array.from(text);
  if (chars.length > MAX_GAME_CHARS) text = chars.slice(0, MAX_GAME_CHARS).join('');
  if (text.length === 0) {
    throw new LmError(alphabet === 'shannon27' ? `"${title}" has no letters to play with` : `"${title}" is empty`);
  }
  return { id, title, text, alphabet, window, guesses: [], wrong: [], pending: [], startedAt: now.toISOString() };
}

export function isFinished(game: GameState): boolean {
  return game.guesses.length >= characters(game).length;
}

/** Applies one typed character. The game is changed in place. */
export function guess(game: GameState, typed: string): GuessOutcome {
  const chars = characters(game);
  const at = game.guesses.length;
  if (at >= chars.length) return 'finished';
  const symbol = alphabetOf(game).foldTyped(typed);
  if (symbol === undefined) return 'outside';
  if (game.pending.includes(symbol)) return 'repeated';
  if (symbol !== chars[at]) {
    game.pending.push(symbol);
    // Every other symbol tried: the next is known. A character no key types (a tab, which moves
    // the focus; an emoji) would otherwise hold the game there for good.
    if (game.pending.length < alphabetOf(game).symbols.length - 1) return 'wrong';
    advance(game);
    return 'forced';
  }
  advance(game);
  return 'right';
}

/** Records the current character as found after the pending wrong guesses. */
function advance(game: GameState): void {
  game.guesses.push(game.pending.length + 1);
  game.wrong.push(game.pending);
  game.pending = [];
}

/** What the player sees: the text so far, or only its last `window` characters. */
export function visibleText(game: GameState): string {
  const played = characters(game).slice(0, game.guesses.length);
  return (game.window > 0 ? played.slice(-game.window) : played).join('');
}

/** The prefix the model conditions on before character `i`, under the same condition as the player. */
export function modelPrefix(game: GameState, i: number): { prefix: string; atStart: boolean } {
  const chars = characters(game);
  const from = game.window > 0 ? Math.max(0, i - game.window) : 0;
  return { prefix: chars.slice(from, i).join(''), atStart: from === 0 };
}

export interface GameStats {
  alphabetSize: number;
  played: number;
  person: { q: number[]; bounds: BoundsReading };
  /** The model on the same characters, once it has played them. */
  model?: { name: string; played: number; q: number[]; bounds: BoundsReading; bitsPerChar: number };
}

export function gameStats(game: GameState): GameStats {
  const k = alphabetOf(game).symbols.length;
  const played = game.guesses.length;
  const stats: GameStats = { alphabetSize: k, played, person: { q: guessFrequencies(game.guesses, k), bounds: readBounds(game.guesses, k) } };
  const m = game.modelPlay;
  if (m) {
    const n = Math.min(played > 0 ? played : m.ranks.length, m.ranks.length);
    const ranks = m.ranks.slice(0, n);
    const bits = m.bits.slice(0, n).reduce((a, b) => a + b, 0);
    stats.model = { name: m.model, played: n, q: guessFrequencies(ranks, k), bounds: readBounds(ranks, k), bitsPerChar: n > 0 ? bits / n : NaN };
  }
  return stats;
}

/** The person's bounds over every character of several games of one alphabet kind. */
export function pooledBounds(games: readonly GameState[], alphabet: AlphabetKind): { played: number; bounds: BoundsReading } | undefined {
  const same = games.filter((g) => g.alphabet === alphabet && g.guesses.length > 0);
  if (same.length === 0) return undefined;
  // Games of `all` characters have different alphabets: pool them over the largest.
  const k = same.reduce((m, g) => Math.max(m, alphabetOf(g).symbols.length), 0);
  const guesses = same.flatMap((g) => g.guesses);
  return { played: guesses.length, bounds: readBounds(guesses, k) };
}

function csvField(v: string | number): string {
  let s = String(v);
  // A spreadsheet would run a cell starting like a formula (=HYPERLINK(…)): OWASP's CSV-injection advice.
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Every played character of every game, one row each. */
export function gamesToCsv(games: readonly GameState[]): string {
  const rows: (string | number)[][] = [
    ['game', 'title', 'alphabet', 'letters_shown', 'position', 'character', 'guesses', 'wrong_guesses', 'model', 'model_guesses', 'model_bits'],
  ];
  for (const g of games) {
    const chars = characters(g);
    g.guesses.forEach((n, i) => {
      const m = g.modelPlay;
      rows.push([
        g.id,
        g.title,
        g.alphabet,
        g.window || 'all',
        i + 1,
        chars[i],
        n,
        g.wrong[i].join(''),
        m?.model ?? '',
        m && i < m.ranks.length ? m.ranks[i] : '',
        m && i < m.bits.length ? m.bits[i].toFixed(4) : '',
      ]);
    });
  }
  return rows.map((r) => r.map(csvField).join(',')).join('\n') + '\n';
}
