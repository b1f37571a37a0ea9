/**
 * A tokenizer.json's regular expressions (pre-tokenizer Split patterns, normalizer Replace
 * patterns) run on every text the user scores, on the extension host's thread. A group that is
 * repeated and itself holds a repetition ("(a+)+") can backtrack for ever on a short text, and no
 * timeout can stop a running regular expression. Real tokenizers (GPT-2, Llama 3, Qwen2) never
 * nest repetitions, so such a pattern is refused before it runs. This catches nested repetition,
 * the usual catastrophic form; overlapping alternatives under one repetition ("(a|aa)*") are not
 * detected.
 */

/** Index just after the group that opens at `open` (a "("), or -1 when it is not closed. */
function groupEnd(re: string, open: number): number {
  let depth = 0;
  let inClass = false;
  for (let i = open; i < re.length; i++) {
    const c = re[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i + 1;
  }
  return -1;
}

/** Whether `re` has a repetition (+ * {n,} {n,m} with m > 1) at its top level or in a group, outside character classes. */
function hasRepetition(re: string): boolean {
  let inClass = false;
  for (let i = 0; i < re.length; i++) {
    const c = re[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '+' || c === '*') return true;
    else if (c === '{' && /^\{\d*,\d*\}|^\{\d*[2-9]\d*\}/.test(re.slice(i))) return true;
  }
  return false;
}

/** The first group that is repeated and holds a repetition, e.g. "(a+)+", or undefined. */
export function nestedRepetition(re: string): string | undefined {
  let inClass = false;
  for (let i = 0; i < re.length; i++) {
    const c = re[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') {
      const end = groupEnd(re, i);
      if (end < 0) return undefined; // not a valid pattern: the library reports it
      const next = re[end];
      const repeated = next === '+' || next === '*' || (next === '{' && /^\{\d*,\d*\}|^\{\d*[2-9]\d*\}/.test(re.slice(end)));
      if (repeated && hasRepetition(re.slice(i + 1, end - 1))) return re.slice(i, end + 1);
    }
  }
  return undefined;
}

/** Every "Regex" pattern in a tokenizer.json's normalizer and pre-tokenizer, with where it is. */
export function tokenizerPatterns(json: unknown): { where: string; pattern: string }[] {
  const out: { where: string; pattern: string }[] = [];
  const visit = (node: unknown, where: string): void => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      node.forEach((n, i) => visit(n, `${where}[${i}]`));
      return;
    }
    const o = node as Record<string, unknown>;
    const pattern = o.pattern as { Regex?: unknown } | undefined;
    if (pattern && typeof pattern === 'object' && typeof pattern.Regex === 'string') out.push({ where, pattern: pattern.Regex });
    for (const key of ['normalizers', 'pretokenizers']) if (key in o) visit(o[key], `${where}.${key}`);
  };
  const j = json as Record<string, unknown>;
  visit(j.normalizer, 'normalizer');
  visit(j.pre_tokenizer, 'pre_tokenizer');
  return out;
}
