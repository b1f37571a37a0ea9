/**
 * The playground's results as they are kept between sessions (closing the tab, reloading the
 * window) and in a saved query file: each card's request and completions, each completion's
 * branches, and the token the inside panel showed. Kept as JSON text, bounded in size; read back
 * with every field checked, since a query file is the user's (or anyone's) text.
 */
import { LmError } from '../core/errors';
import { plural } from '../core/numberFormat';
import { MAX_COMPLETIONS, validateGenerationOptions, type FinishReason, type GeneratedToken, type GenerationOptions } from '../core/generation';
import type { Alternative } from '../core/scoring';
import type { Branch } from './branchTree';
import type { PlaygroundRequest } from './requests';
import type { ShownCompletion } from './completionSummary';

/** A completion of a card, with the branches grown from it (not the completion itself: its tokens are the completion's). */
export interface SavedCompletion {
  /** A stopped run's completion says so ("stopped"). */
  completion: ShownCompletion;
  branches: Branch[];
}

export interface SavedCard {
  request: PlaygroundRequest;
  completions: SavedCompletion[];
}

/** The token the inside panel showed: in completion `completion` of card `card`, path index `index` of branch `branch` (or of the echoed prompt). */
export interface ChosenRef {
  card: number;
  completion: number;
  branch: number;
  index: number;
  prompt?: boolean;
}

export interface SavedResults {
  cards: SavedCard[];
  /** The variables whose values differ between the cards (their headings). */
  differ: string[];
  chosen?: ChosenRef;
}

/**
 * Largest results kept, as JSON characters: 4 Mi, a few thousand tokens with their alternatives
 * (about 400 characters a token with 5 alternatives). Larger results are not kept (the page says so).
 */
export const MAX_SAVED_RESULTS_CHARS = 4 * 1024 * 1024;

/** JSON has no infinities nor NaN (a log-prob of −∞, a temperature of ∞): written as strings. */
const NON_FINITE: Record<string, number> = { Infinity: Infinity, '-Infinity': -Infinity, NaN: NaN };

export function encodeResults(r: SavedResults): string {
  return JSON.stringify(r, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
}

/** Branches in a tree, and tokens on one path, are bounded like a run's. */
const MAX_BRANCHES = 10_000;
const MAX_TOKENS = 100_000;
const MAX_CARDS = 10_000;

/** Reads results written by encodeResults (or a query file's `results`), checking every field; errors name `source` and the field. */
export function decodeResults(json: string | unknown, source: string): SavedResults {
  if (typeof json === 'string' && json.length > MAX_SAVED_RESULTS_CHARS)
    throw new LmError(`${source}: results larger than ${MAX_SAVED_RESULTS_CHARS / 2 ** 20} MiB`);
  let value: unknown;
  try {
    value = typeof json === 'string' ? JSON.parse(json) : json;
  } catch (e) {
    throw new LmError(`${source}: results are not valid JSON: ${(e as Error).message}`);
  }
  const fail = (where: string, what: string): never => {
    throw new LmError(`${source}: results.${where} ${what}`);
  };
  const object = (v: unknown, where: string): Record<string, unknown> =>
    v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : fail(where, 'must be an object');
  const array = (v: unknown, where: string, max: number): unknown[] =>
    Array.isArray(v) ? (v.length <= max ? v : fail(where, `has more than ${max} entries`)) : fail(where, 'must be a list');
  const string = (v: unknown, where: string): string => (typeof v === 'string' ? v : fail(where, 'must be a string'));
  const number = (v: unknown, where: string): number =>
    typeof v === 'number' ? v : typeof v === 'string' && Object.hasOwn(NON_FINITE, v) ? NON_FINITE[v] : fail(where, 'must be a number');
  const integer = (v: unknown, where: string, min = 0): number => {
    const n = number(v, where);
    return Number.isSafeInteger(n) && n >= min ? n : fail(where, `must be a whole number ≥ ${min}`);
  };
  const optional = <T>(v: unknown, read: (v: unknown) => T): T | undefined => (v === undefined || v === null ? undefined : read(v));
  const bytes = (v: unknown, where: string): number[] =>
    array(v, where, 64).map((b, i) => {
      const n = integer(b, `${where}[${i}]`);
      return n <= 255 ? n : fail(`${where}[${i}]`, 'must be a byte (0 to 255)');
    });
  const alternative = (v: unknown, where: string): Alternative => {
    const o = object(v, where);
    const b = optional(o.bytes, (x) => bytes(x, `${where}.bytes`));
    return {
      id: integer(o.id, `${where}.id`),
      text: string(o.text, `${where}.text`),
      logProb: number(o.logProb, `${where}.logProb`),
      ...(b ? { bytes: b } : {}),
    };
  };
  const token = (v: unknown, where: string): GeneratedToken => {
    const o = object(v, where);
    const t: GeneratedToken = alternative(o, where);
    const rank = optional(o.rank, (x) => integer(x, `${where}.rank`, 1));
    if (rank !== undefined) t.rank = rank;
    const position = optional(o.position, (x) => integer(x, `${where}.position`));
    if (position !== undefined) t.position = position;
    const alts = optional(o.alternatives, (x) => array(x, `${where}.alternatives`, 1000).map((a, i) => alternative(a, `${where}.alternatives[${i}]`)));
    if (alts) t.alternatives = alts;
    return t;
  };
  const tokens = (v: unknown, where: string): GeneratedToken[] => array(v, where, MAX_TOKENS).map((t, i) => token(t, `${where}[${i}]`));
  const finishReason = (v: unknown, where: string): FinishReason =>
    v === 'length' || v === 'stop' || v === 'eos' ? v : fail(where, 'must be "length", "stop" or "eos"');

  const options = (v: unknown, where: string): GenerationOptions => {
    const o = object(v, where);
    const opt = <T>(key: string, read: (x: unknown, w: string) => T) => optional(o[key], (x) => read(x, `${where}.${key}`));
    const bool = (x: unknown, w: string) => (typeof x === 'boolean' ? x : fail(w, 'must be true or false'));
    const out: GenerationOptions = { maxTokens: integer(o.maxTokens, `${where}.maxTokens`), temperature: number(o.temperature, `${where}.temperature`) };
    const set = <K extends keyof GenerationOptions>(key: K, value: GenerationOptions[K] | undefined) => {
      if (value !== undefined) out[key] = value;
    };
    set(
      'topK',
      opt('topK', (x, w) => integer(x, w)),
    );
    set('topP', opt('topP', number));
    set(
      'stopSequences',
      opt('stopSequences', (x, w) => array(x, w, 1000).map((s, i) => string(s, `${w}[${i}]`))),
    );
    set(
      'numCompletions',
      opt('numCompletions', (x, w) => integer(x, w, 1)),
    );
    set('echoPrompt', opt('echoPrompt', bool));
    set(
      'topKPerToken',
      opt('topKPerToken', (x, w) => integer(x, w)),
    );
    set('seed', opt('seed', number));
    try {
      validateGenerationOptions(out);
    } catch (e) {
      fail(where, `are wrong: ${(e as Error).message}`);
    }
    return out;
  };
  const request = (v: unknown, where: string): PlaygroundRequest => {
    const o = object(v, where);
    const b = object(o.bindings ?? {}, `${where}.bindings`);
    return {
      bindings: Object.fromEntries(Object.entries(b).map(([k, x]) => [k, string(x, `${where}.bindings.${k}`)])),
      model: string(o.model, `${where}.model`),
      prompt: string(o.prompt, `${where}.prompt`),
      options: options(o.options, `${where}.options`),
    };
  };
  const completion = (v: unknown, where: string): ShownCompletion => {
    const o = object(v, where);
    const prompt = optional(o.promptTokens, (x) => tokens(x, `${where}.promptTokens`));
    const stoppedBy = optional(o.stoppedBy, (x) => token(x, `${where}.stoppedBy`));
    const promptIds = optional(o.promptIds, (x) => array(x, `${where}.promptIds`, MAX_TOKENS).map((n, i) => integer(n, `${where}.promptIds[${i}]`)));
    return {
      text: string(o.text, `${where}.text`),
      tokens: tokens(o.tokens, `${where}.tokens`),
      ...(prompt ? { promptTokens: prompt } : {}),
      ...(promptIds ? { promptIds } : {}),
      logProb: number(o.logProb, `${where}.logProb`),
      finishReason: o.finishReason === 'stopped' ? 'stopped' : finishReason(o.finishReason, `${where}.finishReason`),
      ...(stoppedBy ? { stoppedBy } : {}),
      seed: number(o.seed, `${where}.seed`),
      index: integer(o.index, `${where}.index`),
    };
  };
  /** Branches 1, 2, … of a completion: each leaves an earlier one at a token of that one's own. */
  const branches = (v: unknown, where: string, own: GeneratedToken[]): Branch[] => {
    const tree: { at: number; length: number }[] = [{ at: 0, length: own.length }];
    return array(v, where, MAX_BRANCHES).map((x, i) => {
      const w = `${where}[${i}]`;
      const o = object(x, w);
      const id = integer(o.id, `${w}.id`);
      if (id !== i + 1) fail(`${w}.id`, `must be ${i + 1} (branches are numbered in order)`);
      const parent = integer(o.parent, `${w}.parent`);
      if (parent >= id) fail(`${w}.parent`, 'must be an earlier branch');
      const at = integer(o.at, `${w}.at`);
      const p = tree[parent];
      // As BranchTree.owner places a choice: among the parent's own tokens, after its first (its own choice).
      if (at < p.at + (parent === 0 ? 0 : 1) || at >= p.at + p.length) fail(`${w}.at`, `is not a token of branch ${parent}'s own`);
      const t = tokens(o.tokens, `${w}.tokens`);
      if (t.length === 0) fail(`${w}.tokens`, 'must hold the chosen token');
      tree.push({ at, length: t.length });
      const reason = optional(o.finishReason, (r) => finishReason(r, `${w}.finishReason`));
      const failed = optional(o.failed, (f) => string(f, `${w}.failed`));
      const seeds = optional(o.seeds, (x) => array(x, `${w}.seeds`, MAX_TOKENS).map((n, k) => number(n, `${w}.seeds[${k}]`)));
      return {
        id,
        parent,
        at,
        tokens: t,
        ...(reason ? { finishReason: reason } : {}),
        ...(failed !== undefined ? { failed } : {}),
        ...(seeds ? { seeds } : {}),
      };
    });
  };

  const root = object(value, '(top)');
  const cards = array(root.cards, 'cards', MAX_CARDS).map((c, i): SavedCard => {
    const w = `cards[${i}]`;
    const o = object(c, w);
    return {
      request: request(o.request, `${w}.request`),
      completions: array(o.completions, `${w}.completions`, MAX_COMPLETIONS).map((s, j) => {
        const cw = `${w}.completions[${j}]`;
        const so = object(s, cw);
        const done = completion(so.completion, `${cw}.completion`);
        return { completion: done, branches: branches(so.branches ?? [], `${cw}.branches`, done.tokens) };
      }),
    };
  });
  const differ = array(root.differ ?? [], 'differ', 1000).map((d, i) => string(d, `differ[${i}]`));
  const chosen = optional(root.chosen, (x) => chosenRef(x, cards));
  return { cards, differ, ...(chosen ? { chosen } : {}) };
}

/** The chosen token, when it is still in the results (else none: the panel then stays closed). */
function chosenRef(v: unknown, cards: SavedCard[]): ChosenRef | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  const int = (x: unknown) => (typeof x === 'number' && Number.isSafeInteger(x) && x >= 0 ? x : undefined);
  const card = int(o.card);
  const completion = int(o.completion);
  const branch = int(o.branch);
  const index = int(o.index);
  if (card === undefined || completion === undefined || branch === undefined || index === undefined) return undefined;
  const saved = cards[card]?.completions[completion];
  if (!saved) return undefined;
  if (o.prompt === true) return index < (saved.completion.promptTokens?.length ?? 0) ? { card, completion, branch: 0, index, prompt: true } : undefined;
  if (branch > saved.branches.length) return undefined;
  const b = branch === 0 ? undefined : saved.branches[branch - 1];
  // A branch's path: its parent's up to where it left, then its own.
  const length = b ? b.at + b.tokens.length : saved.completion.tokens.length;
  return index < length ? { card, completion, branch, index } : undefined;
}

/** "3 results and 2 branches": what a save or a restore holds, in words. */
export function describeResults(r: SavedResults): string {
  const completions = r.cards.reduce((n, c) => n + c.completions.length, 0);
  const branches = r.cards.reduce((n, c) => n + c.completions.reduce((m, s) => m + s.branches.length, 0), 0);
  return `${plural(completions, 'result')}${branches ? ` and ${plural(branches, 'branch', 'branches')}` : ''}`;
}
