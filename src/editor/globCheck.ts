/**
 * A training glob checked as it is typed: VS Code hands a glob to ripgrep only when searching, and
 * ripgrep's refusal ("error parsing glob … unclosed alternate group") would come after every other
 * question, in its own words.
 */

/** What is wrong with `glob` (an unclosed or unopened `{` or `[`), or undefined when it can be searched. */
export function globProblem(glob: string): string | undefined {
  if (glob.trim().length === 0) return 'give a glob, e.g. **/*.txt';
  let braces = 0;
  let bracketAt = -1;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '\\') {
      i++; // an escaped character is itself
      continue;
    }
    if (bracketAt >= 0) {
      // Inside [...] everything but the closing ] is a character of the class ("[]]" and "[!]]" hold a "]").
      if (c === ']' && i > bracketAt + 1 && !(i === bracketAt + 2 && (glob[bracketAt + 1] === '!' || glob[bracketAt + 1] === '^'))) bracketAt = -1;
      continue;
    }
    if (c === '[') bracketAt = i;
    else if (c === '{') braces++;
    else if (c === '}') {
      if (braces === 0) return `the glob ${glob} has a } with no { before it (a literal one is written \\})`;
      braces--;
    }
  }
  if (bracketAt >= 0) return `the glob ${glob} has an unclosed [ (a literal one is written \\[)`;
  if (braces > 0) return `the glob ${glob} has an unclosed { (alternatives are written {txt,md})`;
  return undefined;
}
