/**
 * Prompt templates: `${name}` in the prompt or a setting is replaced by each value its environment
 * lists (`pronoun: [He, She]`), and the playground runs the Cartesian product of the variables used.
 * Values may themselves contain variables (expanded in turn); `$${` writes a literal `${`.
 */
import { LmError } from '../core/errors';

/**
 * Variable name → values. Made with `newEnvironments()` (no prototype) and read with own-property
 * checks, so that names like `constructor` or `__proto__` are ordinary variables.
 */
export type Environments = Record<string, string[]>;

export function newEnvironments(): Environments {
  return Object.create(null) as Environments;
}

const has = (o: object, name: string) => Object.hasOwn(o, name);

/** Deepest nesting of arrays and objects taken in the environments' JSON (deeper overflows the stack). */
export const MAX_ENVIRONMENTS_JSON_DEPTH = 64;

/** Deepest nesting of `[`/`{` in JSON text, strings skipped. */
function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (c === '[' || c === '{') max = Math.max(max, ++depth);
    else if (c === ']' || c === '}') depth--;
  }
  return max;
}

/** Above this many requests the expansion is refused (a typo can multiply runs by thousands). */
export const DEFAULT_EXPANSION_CAP = 64;

const VAR = /\$\$\{|\$\{([A-Za-z_][\w-]*)\}/g;

/** Variable names in `text`, in order of first appearance. */
export function variablesIn(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(VAR)) if (m[1] && !out.includes(m[1])) out.push(m[1]);
  return out;
}

/**
 * Environments as written in the box: one variable per line, `name: [value, value, ...]`, values
 * bare (trimmed) or double-quoted with JSON escapes (for commas, brackets, spaces, "\n"); or the
 * whole box as a JSON object of string lists. Blank lines and lines starting with # are skipped.
 */
export function parseEnvironments(text: string): Environments {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    const depth = jsonDepth(trimmed);
    if (depth > MAX_ENVIRONMENTS_JSON_DEPTH)
      throw new LmError(`environments: the JSON nests ${depth} levels deep, more than the limit of ${MAX_ENVIRONMENTS_JSON_DEPTH}`);
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch (e) {
      throw new LmError(`environments: not valid JSON: ${(e as Error).message}`);
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new LmError('environments: the JSON must be an object of lists');
    const out = newEnvironments();
    for (const [k, v] of Object.entries(json)) {
      if (!/^[A-Za-z_][\w-]*$/.test(k)) throw new LmError(`environments: "${k}" is not a variable name`);
      if (!Array.isArray(v) || v.length === 0) throw new LmError(`environments: ${k} must be a non-empty list`);
      out[k] = v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x)));
    }
    return out;
  }
  const out = newEnvironments();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const where = `environments, line ${i + 1}`;
    const m = /^([A-Za-z_][\w-]*)\s*:\s*\[(.*)\]$/.exec(line);
    if (!m) throw new LmError(`${where}: expected name: [value, value, ...], got "${line}"`);
    if (has(out, m[1])) throw new LmError(`${where}: ${m[1]} is defined twice`);
    const values = splitValues(m[2], where);
    if (values.length === 0) throw new LmError(`${where}: ${m[1]} has no values`);
    out[m[1]] = values;
  });
  return out;
}

function splitValues(list: string, where: string): string[] {
  const values: string[] = [];
  let i = 0;
  const skipSpace = () => {
    while (i < list.length && /\s/.test(list[i])) i++;
  };
  skipSpace();
  if (i >= list.length) return values;
  for (;;) {
    skipSpace();
    if (list[i] === '"') {
      let j = i + 1;
      while (j < list.length && list[j] !== '"') j += list[j] === '\\' ? 2 : 1;
      if (j >= list.length) throw new LmError(`${where}: a quoted value is not closed`);
      try {
        values.push(JSON.parse(list.slice(i, j + 1)) as string);
      } catch {
        throw new LmError(`${where}: bad escape in ${list.slice(i, j + 1)}`);
      }
      i = j + 1;
      skipSpace();
    } else {
      let j = i;
      while (j < list.length && list[j] !== ',') j++;
      const v = list.slice(i, j).trim();
      if (v.includes('"')) throw new LmError(`${where}: quote the whole value: "${v}"`);
      values.push(v);
      i = j;
    }
    if (i >= list.length) return values;
    if (list[i] !== ',') throw new LmError(`${where}: expected a comma after a value`);
    i++;
  }
}

/**
 * Longest text (prompt or setting) that substituting variables may produce. Values that repeat
 * nested variables grow exponentially (ten levels of "${b}${b}" make megabytes): the expansion
 * stops as soon as it passes this, before building the long text.
 */
export const MAX_EXPANDED_LENGTH = 1_000_000;

/** All texts of one run together (up to DEFAULT_EXPANSION_CAP requests of MAX_EXPANDED_LENGTH each would be 64 M). */
export const MAX_TOTAL_EXPANDED_LENGTH = 16_000_000;

/** Replaces variables (repeatedly, for values that contain variables) with their bound values. */
export function substitute(text: string, bindings: Record<string, string>, maxLength = MAX_EXPANDED_LENGTH): string {
  let out = text;
  const tooLong = (name: string) =>
    new LmError(
      `\${${name}} expands the text past ${maxLength.toLocaleString('en-US')} characters (the limit for a prompt or setting after substitution): do its values repeat nested variables?`,
    );
  for (let depth = 0; depth < 10; depth++) {
    let last: string | undefined;
    // Characters of the result so far, counted as the replacements are made.
    let produced = 0;
    let copiedTo = 0;
    out = out.replace(/(\$\$\{)|\$\{([A-Za-z_][\w-]*)\}/g, (whole: string, escaped: string | undefined, name: string | undefined, at: number) => {
      produced += at - copiedTo;
      copiedTo = at + whole.length;
      if (escaped || name === undefined || !has(bindings, name)) {
        produced += whole.length;
        return whole;
      }
      const value = bindings[name];
      last = name;
      produced += value.length;
      if (produced > maxLength) throw tooLong(name);
      return value;
    });
    if (last !== undefined && out.length > maxLength) throw tooLong(last);
    if (last === undefined) return out.replace(/\$\$\{/g, '${');
  }
  throw new LmError('variables nest more than 10 deep (does a value refer to itself?)');
}

export interface Expansion<T> {
  /** The value of every variable used. */
  bindings: Record<string, string>;
  item: T;
}

/**
 * Every combination of the variables that `texts` use (directly or through other variables'
 * values), applied by `apply`. Unknown variables are an error; more than `cap` combinations too.
 */
export function expand<T>(
  texts: readonly string[],
  env: Environments,
  apply: (bindings: Record<string, string>) => T,
  cap = DEFAULT_EXPANSION_CAP,
): Expansion<T>[] {
  // Variables used, including those used inside the values of used variables.
  const used: string[] = [];
  const visit = (name: string) => {
    if (used.includes(name)) return;
    if (!has(env, name)) throw new LmError(`\${${name}} is used but no environment gives its values`);
    used.push(name);
    for (const v of env[name]) for (const inner of variablesIn(v)) visit(inner);
  };
  for (const t of texts) for (const name of variablesIn(t)) visit(name);
  const total = used.reduce((n, name) => n * env[name].length, 1);
  if (total > cap) {
    throw new LmError(
      `these environments make ${total.toLocaleString('en-US')} requests (${used.map((n) => `${n}: ${env[n].length}`).join(' × ')}), more than the limit of ${cap}: use fewer values`,
    );
  }
  const out: Expansion<T>[] = [];
  const seen = new Set<string>();
  const bindings = Object.create(null) as Record<string, string>;
  const walk = (k: number) => {
    if (k === used.length) {
      // A variable used only inside some values of another gives identical requests elsewhere: run those once.
      const item = apply({ ...bindings });
      const key = JSON.stringify(item);
      if (!seen.has(key)) {
        seen.add(key);
        out.push({ bindings: { ...bindings }, item });
      }
      return;
    }
    for (const v of env[used[k]]) {
      bindings[used[k]] = v;
      walk(k + 1);
    }
  };
  walk(0);
  return out;
}

/** For headings: the variables whose values differ between the expansions. */
export function differingVariables(expansions: readonly { bindings: Record<string, string> }[]): string[] {
  if (expansions.length < 2) return Object.keys(expansions[0]?.bindings ?? {});
  return Object.keys(expansions[0].bindings).filter((k) => expansions.some((e) => e.bindings[k] !== expansions[0].bindings[k]));
}
