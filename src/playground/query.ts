/**
 * A playground query: prompt, settings and environments, as saved in a workspace file
 * (`*.lmquery.json`), so that experiments can be versioned and shared.
 */
import { LmError } from '../core/errors';

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

export function serializeQuery(q: Query): string {
  return JSON.stringify({ lmPlaygroundQuery: 1, ...q }, null, 2) + '\n';
}

/** Reads a query file; errors name the field that is wrong. */
export function parseQuery(text: string, fileName = 'query file'): Query {
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
  const unknown = Object.keys(s).filter((k) => !(k in DEFAULT_SETTINGS));
  if (unknown.length) throw new LmError(`${fileName}: unknown setting(s) ${unknown.join(', ')}`);
  return { prompt: json.prompt, settings, environments };
}

/** Stop sequences from the box: one per line, with \n, \t and \\ escapes. */
export function parseStopSequences(text: string): string[] {
  return text
    .split(/\r?\n/)
    .filter((l) => l.length > 0)
    .map((l) => l.replace(/\\(n|t|\\)/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : '\\')));
}
