/**
 * Checks on Shannon game data that comes from outside the extension's own code: saved games read
 * back from storage (edited, from an older version, or corrupt), and messages from the page.
 * A saved game that passes can be rendered, pooled and exported without an exception.
 */
import { LmError } from '../errors';
import type { AlphabetKind } from './alphabet';
import { MAX_GAME_CHARS, alphabetOf, characters, type GameState, type ModelPlay } from './game';

export const ALPHABET_KINDS: readonly AlphabetKind[] = ['shannon27', 'all'];
/** Longest game title kept (titles are file names or passage titles). */
export const MAX_TITLE_CHARS = 500;

export function isAlphabetKind(x: unknown): x is AlphabetKind {
  return typeof x === 'string' && (ALPHABET_KINDS as readonly string[]).includes(x);
}

const isString = (x: unknown): x is string => typeof x === 'string';
const isStringList = (x: unknown, max: number): x is string[] => Array.isArray(x) && x.length <= max && x.every(isString);

/**
 * A saved game, checked field by field: a game whose own results are broken is refused (the
 * reason returned); parts that can be recomputed or dropped (the model's play, the wrong guesses
 * at the current character) are repaired, with what was repaired in `repairs`.
 */
export function checkSavedGame(x: unknown): { game: GameState; repairs: string[] } | { problem: string } {
  if (!x || typeof x !== 'object' || Array.isArray(x)) return { problem: 'not an object' };
  const g = x as Record<string, unknown>;
  if (!isString(g.id) || g.id.length === 0 || g.id.length > 100) return { problem: 'no id' };
  const where = `game ${JSON.stringify(g.id)}`;
  const bad = (what: string) => ({ problem: `${where}: ${what}` });
  if (!isString(g.title)) return bad('the title is not text');
  if (!isAlphabetKind(g.alphabet)) return bad(`unknown alphabet ${JSON.stringify(g.alphabet)?.slice(0, 40)}`);
  if (!isString(g.text) || g.text.length === 0 || g.text.length > 2 * MAX_GAME_CHARS) return bad('the text is missing or too long');
  const chars = characters({ text: g.text });
  if (chars.length > MAX_GAME_CHARS) return bad('the text is too long');
  if (!Number.isSafeInteger(g.window) || (g.window as number) < 0) return bad('the number of letters shown is not a whole number ≥ 0');
  const k = alphabetOf({ alphabet: g.alphabet, text: g.text }).symbols.length;
  const guesses = g.guesses;
  if (!Array.isArray(guesses) || guesses.length > chars.length) return bad('the guesses are not a list as long as the text at most');
  if (!guesses.every((n) => Number.isInteger(n) && n >= 1 && n <= k)) return bad(`a guess count is not a whole number from 1 to ${k}`);
  const wrong = g.wrong;
  if (!Array.isArray(wrong) || wrong.length !== guesses.length) return bad('the wrong guesses do not match the guesses');
  // Each character took its wrong guesses plus the right one.
  if (!wrong.every((w, i) => isStringList(w, k) && w.length === guesses[i] - 1)) return bad('the wrong guesses do not match the guess counts');

  const repairs: string[] = [];
  let pending: string[] = [];
  if (isStringList(g.pending, k - 1) && guesses.length < chars.length) pending = g.pending;
  else if (!(Array.isArray(g.pending) && g.pending.length === 0)) repairs.push('the wrong guesses at the current character were dropped');
  let title = g.title;
  if (title.length > MAX_TITLE_CHARS) {
    title = title.slice(0, MAX_TITLE_CHARS);
    repairs.push('the title was shortened');
  }
  const game: GameState = {
    id: g.id,
    title,
    text: g.text,
    alphabet: g.alphabet,
    window: g.window as number,
    guesses: guesses as number[],
    wrong: wrong as string[][],
    pending,
    startedAt: isString(g.startedAt) && g.startedAt.length <= 40 ? g.startedAt : '',
  };
  if (g.modelPlay !== undefined) {
    const play = checkModelPlay(g.modelPlay, chars.length, k);
    if (play) game.modelPlay = play;
    else repairs.push("the model's play was dropped (it plays again)");
  }
  return { game, repairs };
}

function checkModelPlay(x: unknown, length: number, k: number): ModelPlay | undefined {
  if (!x || typeof x !== 'object') return undefined;
  const m = x as Record<string, unknown>;
  const { ranks, bits } = m;
  if (!isString(m.model) || m.model.length > 1000) return undefined;
  if (!Array.isArray(ranks) || !Array.isArray(bits) || ranks.length !== bits.length || ranks.length > length) return undefined;
  if (!ranks.every((r) => Number.isInteger(r) && r >= 1 && r <= k)) return undefined;
  if (!bits.every((b) => typeof b === 'number' && Number.isFinite(b) && b >= 0)) return undefined;
  return { model: m.model, ranks: ranks as number[], bits: bits as number[] };
}

export interface SavedGames {
  current?: GameState;
  history: GameState[];
  /** What was wrong, one line per game dropped or repaired. */
  problems: string[];
}

/**
 * The games of a saved value `{ version: 1, current?, history }`: every good game kept, bad ones
 * dropped and repairable ones repaired, each noted in `problems`. Undefined when the value is not
 * saved games at all.
 */
export function readSavedGames(saved: unknown, maxGames: number): SavedGames | undefined {
  if (!saved || typeof saved !== 'object' || (saved as { version?: unknown }).version !== 1) return undefined;
  const s = saved as { current?: unknown; history?: unknown };
  const out: SavedGames = { history: [], problems: [] };
  const read = (x: unknown, which: string): GameState | undefined => {
    const r = checkSavedGame(x);
    if ('problem' in r) {
      out.problems.push(`${which}: dropped (${r.problem})`);
      return undefined;
    }
    for (const repair of r.repairs) out.problems.push(`${which}, game ${JSON.stringify(r.game.id)}: ${repair}`);
    return r.game;
  };
  if (s.history !== undefined && !Array.isArray(s.history)) out.problems.push('the earlier games are not a list: dropped');
  const history = Array.isArray(s.history) ? s.history : [];
  const labels: string[] = [];
  history.forEach((x, i) => {
    const g = read(x, `earlier game ${i + 1}`);
    if (g) {
      out.history.push(g);
      labels.push(`earlier game ${i + 1}`);
    }
  });
  if (out.history.length > maxGames) {
    out.problems.push(`${out.history.length - maxGames} earlier games beyond the ${maxGames} kept: dropped`);
    out.history = out.history.slice(-maxGames);
  }
  if (s.current !== undefined && s.current !== null) out.current = read(s.current, 'the game in progress');
  // Ids name games (the page, the CSV): of games sharing one, the newest (the current one, then the later) is kept.
  const seen = new Set<string>(out.current ? [out.current.id] : []);
  const kept: GameState[] = [];
  for (let i = out.history.length - 1; i >= 0; i--) {
    const g = out.history[i];
    if (seen.has(g.id)) out.problems.push(`${labels[i]}: dropped (a newer game has the same id ${JSON.stringify(g.id)})`);
    else {
      seen.add(g.id);
      kept.unshift(g);
    }
  }
  out.history = kept;
  return out;
}

/** A message from the Shannon game page (untrusted: any JSON value). */
export type ShannonPageMessage =
  | { type: 'ready' }
  | { type: 'guess'; char: string }
  | { type: 'newGame'; source: string; alphabet: AlphabetKind; window: number }
  | { type: 'reset' }
  | { type: 'exportCsv' };

/** Checks a message from the page before it reaches the game or the store. */
export function checkPageMessage(x: unknown): ShannonPageMessage {
  const m = (x && typeof x === 'object' ? x : {}) as Record<string, unknown>;
  switch (m.type) {
    case 'ready':
    case 'reset':
    case 'exportCsv':
      return { type: m.type };
    case 'guess':
      // One typed character: one code point (a BMP character or a whole surrogate pair), not two letters.
      if (!isString(m.char) || !/^(?:[^\ud800-\udfff]|[\ud800-\udbff][\udc00-\udfff])$/.test(m.char))
        throw new LmError('the page sent a guess that is not one character');
      return { type: 'guess', char: m.char };
    case 'newGame':
      if (!isAlphabetKind(m.alphabet)) throw new LmError(`unknown alphabet ${JSON.stringify(m.alphabet)?.slice(0, 40)}: use ${ALPHABET_KINDS.join(' or ')}`);
      if (!isString(m.source) || m.source.length > 100) throw new LmError('the page sent no text source for the new game');
      if (!Number.isSafeInteger(m.window) || (m.window as number) < 0)
        throw new LmError('the number of letters shown must be a whole number ≥ 0 (0 shows all)');
      return { type: 'newGame', source: m.source, alphabet: m.alphabet, window: m.window as number };
    default:
      throw new LmError(`unknown message from the Shannon game page: ${JSON.stringify(m.type)?.slice(0, 40)}`);
  }
}
