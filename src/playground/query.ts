/**
 * A playground query: prompt, settings and environments, as saved in a workspace file
 * (`*.lmquery.json`), so that experiments can be versioned and shared.
 */
import { LmError } from '../core/errors';
import { MAX_COMPLETIONS } from '../core/generation';
import { SEED_MAX, SEED_MIN } from '../core/random';
import { decodeResults, encodeResults } from './savedResults';

/** Settings as typed in the form: strings, because they may contain `${variables}`. */
export interface QuerySettings {
  model: string;
  temperature: string;
  maxTokens: string;
  topKPerToken: string;
  topP: string;
  echoPrompt: boolean;
  /** One per line; `\n` and `\t` written as escapes. */
  stopSequences: string;
  numCompletions: string;
  seed: string;
}

export interface Query {
  prompt: string;
  settings: QuerySettings;
  /** The environments box, as written (see parseEnvironments). */
  environments: string;
  /** Results saved with the query (savedResults.ts's JSON), when it has them. */
  results?: string;
}

export const QUERY_FILE_SUFFIX = '.lmquery.json';

export const DEFAULT_SETTINGS: QuerySettings = {
  model: '',
  temperature: '0.7',
  maxTokens: '24',
  topKPerToken: '5',
  topP: '1',
  echoPrompt: false,
  stopSequences: '',
  numCompletions: '1',
  seed: '0',
};

/** Largest query file read: typed text, and results of at most MAX_SAVED_RESULTS_CHARS (more in UTF-8 bytes). */
export const MAX_QUERY_FILE_BYTES = 8 * 1024 * 1024;
/** Tokens one request may generate: the bounds of the editor's lmPlayground.generation.maxTokens. */
export const MAX_QUERY_TOKENS = 4096;
/** Alternatives shown per token. */
export const MAX_TOP_K_PER_TOKEN = 50;

export type NumericSetting = 'temperature' | 'maxTokens' | 'topKPerToken' | 'topP' | 'numCompletions' | 'seed';

export const NUMERIC_SETTINGS: readonly NumericSetting[] = ['temperature', 'maxTokens', 'topKPerToken', 'topP', 'numCompletions', 'seed'];

/** How the form names each setting in messages. */
const LABELS: Record<NumericSetting, string> = {
  temperature: 'temperature',
  maxTokens: 'max tokens',
  topKPerToken: 'top-k per token',
  topP: 'top-p',
  numCompletions: 'number of completions',
  seed: 'seed',
};

/**
 * A numeric setting's value from its text (after variables are substituted), checked against its
 * bounds; undefined for an empty seed (a random one). Errors start with `label`.
 */
export function numericSetting(key: NumericSetting, raw: string, echoPrompt: boolean, label: string = LABELS[key]): number | undefined {
  const text = raw.trim();
  if (key === 'seed' && text === '') return undefined;
  if (key === 'temperature' && (text === '∞' || /^inf(inity)?$/i.test(text))) return Infinity;
  const integer = key !== 'temperature' && key !== 'topP';
  const v = Number(text);
  const fail = (what: string): never => {
    throw new LmError(`${label} must be ${what}, got "${raw.length > 40 ? `${raw.slice(0, 40)}…` : raw}"`);
  };
  if (text === '' || !Number.isFinite(v) || (integer && !Number.isInteger(v)))
    fail(integer ? 'a whole number' : key === 'temperature' ? 'a number (or ∞)' : 'a number');
  switch (key) {
    case 'temperature':
      if (v < 0) fail('≥ 0 (or ∞)');
      break;
    case 'maxTokens':
      if (v === 0 && !echoPrompt) fail(`1 to ${MAX_QUERY_TOKENS} (0 only with echo, to score the prompt)`);
      if (v < 0 || v > MAX_QUERY_TOKENS) fail(`0 to ${MAX_QUERY_TOKENS}`);
      break;
    case 'topKPerToken':
      if (v < 0 || v > MAX_TOP_K_PER_TOKEN) fail(`0 to ${MAX_TOP_K_PER_TOKEN}`);
      break;
    case 'topP':
      if (!(v > 0 && v <= 1)) fail('in (0, 1]');
      break;
    case 'numCompletions':
      if (v < 1 || v > MAX_COMPLETIONS) fail(`1 to ${MAX_COMPLETIONS}`);
      break;
    case 'seed':
      if (v < SEED_MIN || v > SEED_MAX) fail(`a whole number from ${SEED_MIN} to ${SEED_MAX} (as lmp generate --seed)`);
      break;
  }
  return v;
}

export function serializeQuery(q: Query): string {
  const { results, ...query } = q;
  const text = JSON.stringify({ lmPlaygroundQuery: 1, ...query }, null, 2);
  // The results on one line: indented, each token's alternatives would take a screen.
  return (results === undefined ? text : `${text.slice(0, -2)},\n  "results": ${results}\n}`) + '\n';
}

/** Reads a query file; errors name the field that is wrong. */
export function parseQuery(text: string, fileName = 'query file'): Query {
  checkQueryFileSize(text.length, fileName);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new LmError(`${fileName}: not valid JSON: ${(e as Error).message}`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new LmError(`${fileName}: expected a JSON object`);
  if (json.lmPlaygroundQuery !== 1) throw new LmError(`${fileName}: not an LM Playground query (no "lmPlaygroundQuery": 1)`);
  if (typeof json.prompt !== 'string') throw new LmError(`${fileName}: "prompt" must be a string`);
  const environments = json.environments ?? '';
  if (typeof environments !== 'string') throw new LmError(`${fileName}: "environments" must be a string (the box's text)`);
  const s = (json.settings ?? {}) as Record<string, unknown>;
  if (typeof s !== 'object' || Array.isArray(s)) throw new LmError(`${fileName}: "settings" must be an object`);
  const settings = { ...DEFAULT_SETTINGS };
  for (const key of Object.keys(DEFAULT_SETTINGS) as (keyof QuerySettings)[]) {
    const v = s[key];
    if (v === undefined) continue;
    if (key === 'echoPrompt') {
      if (typeof v !== 'boolean') throw new LmError(`${fileName}: settings.echoPrompt must be true or false`);
      settings.echoPrompt = v;
    } else if (typeof v === 'string' || typeof v === 'number') {
      settings[key] = String(v);
    } else {
      throw new LmError(`${fileName}: settings.${key} must be a string or a number`);
    }
  }
  const unknown = Object.keys(s).filter((k) => !Object.hasOwn(DEFAULT_SETTINGS, k));
  if (unknown.length) throw new LmError(`${fileName}: unknown setting(s) ${unknown.join(', ')}`);
  // A value with variables is checked once they are substituted (see buildRequests).
  for (const key of NUMERIC_SETTINGS) {
    if (!settings[key].includes('${')) numericSetting(key, settings[key], settings.echoPrompt, `${fileName}: settings.${key}`);
  }
  // Checked here, so that a bad file is refused when it is opened, naming the field.
  const results = json.results === undefined ? undefined : encodeResults(decodeResults(json.results, fileName));
  return { prompt: json.prompt, settings, environments, ...(results !== undefined ? { results } : {}) };
}

/** Refuses a query file larger than MAX_QUERY_FILE_BYTES (its size in bytes, or its text's length). */
export function checkQueryFileSize(size: number, fileName: string): void {
  if (size > MAX_QUERY_FILE_BYTES) {
    throw new LmError(`${fileName}: too large for a query file (more than ${MAX_QUERY_FILE_BYTES / 1024 / 1024} MiB)`);
  }
}

/** Stop sequences from the box: one per line, with \n, \t and \\ escapes. */
export function parseStopSequences(text: string): string[] {
  return text
    .split(/\r?\n/)
    .filter((l) => l.length > 0)
    .map((l) => l.replace(/\\(n|t|\\)/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : '\\')));
}
