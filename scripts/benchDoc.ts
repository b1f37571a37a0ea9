/**
 * How the benchmark writes docs/BENCHMARKS.md: each section's generated lines sit between two
 * markers, `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`, and a run replaces only what is
 * between the markers of the blocks it measured. Everything outside them (notes written by hand
 * beside the figures) stays as it is.
 */

/** A block of generated lines, by name. */
export interface DocBlock {
  name: string;
  lines: readonly string[];
}

export const blockStart = (name: string): string => `<!-- bench:${name} -->`;
export const blockEnd = (name: string): string => `<!-- /bench:${name} -->`;

const MARKER = /^<!-- (\/?)bench:([\w-]+) -->$/;

/** Where each block of `lines` starts and ends (the marker lines' indices); throws on unbalanced markers. */
export function findBlocks(lines: readonly string[]): Map<string, { start: number; end: number }> {
  const found = new Map<string, { start: number; end: number }>();
  let open: { name: string; start: number } | undefined;
  lines.forEach((line, i) => {
    const m = MARKER.exec(line.trim());
    if (!m) return;
    const [, closing, name] = m;
    if (!closing) {
      if (open) throw new Error(`line ${i + 1}: block "${name}" starts inside block "${open.name}" (line ${open.start + 1})`);
      if (found.has(name)) throw new Error(`line ${i + 1}: a second block "${name}"`);
      open = { name, start: i };
    } else {
      if (open?.name !== name) throw new Error(`line ${i + 1}: the end of block "${name}" where ${open ? `block "${open.name}" is open` : 'no block is open'}`);
      found.set(name, { start: open.start, end: i });
      open = undefined;
    }
  });
  if (open) throw new Error(`line ${open.start + 1}: block "${open.name}" has no end marker`);
  return found;
}

/**
 * The lines of a block, its markers included, without leading or trailing blank lines inside, except
 * one after a table's last row (GitHub's renderer may take a line right after a table for another row).
 */
function marked(block: DocBlock): string[] {
  const body = [...block.lines];
  while (body.length && body[0].trim() === '') body.shift();
  while (body.length && body[body.length - 1].trim() === '') body.pop();
  if (body[body.length - 1]?.startsWith('|')) body.push('');
  return [blockStart(block.name), ...body, blockEnd(block.name)];
}

/**
 * `doc` with each of `blocks` replaced between its markers. A block the document does not have yet
 * goes before the first block that follows it in `order` and is in the document (so after the
 * hand-written notes of the one before it), or at the end. Lines outside the markers are kept as they are.
 */
export function mergeBlocks(doc: string, blocks: readonly DocBlock[], order: readonly string[]): string {
  const lines = doc.split('\n');
  for (const block of blocks) {
    const at = findBlocks(lines);
    const here = at.get(block.name);
    if (here) {
      lines.splice(here.start, here.end - here.start + 1, ...marked(block));
      continue;
    }
    const after = order.slice(order.indexOf(block.name) + 1).find((n) => at.has(n) && n !== block.name);
    if (after !== undefined) {
      lines.splice(at.get(after)!.start, 0, ...marked(block), '');
    } else {
      while (lines.length && lines[lines.length - 1].trim() === '') lines.pop();
      lines.push(...(lines.length ? [''] : []), ...marked(block), '');
    }
  }
  return lines.join('\n');
}

/** The lines inside the block `name` of `doc` (markers excluded), or undefined when it has none. */
export function blockLines(doc: string, name: string): string[] | undefined {
  const lines = doc.split('\n');
  const at = findBlocks(lines).get(name);
  return at && lines.slice(at.start + 1, at.end);
}

/** The names of the blocks in `doc`, in the order they appear. */
export function blockNames(doc: string): string[] {
  return [...findBlocks(doc.split('\n')).entries()].sort((a, b) => a[1].start - b[1].start).map(([name]) => name);
}

/** The closing line of the targets tables, counted from their rows (`| target | measured | verdict |`). */
export function targetCount(rows: readonly string[]): string {
  const n = (v: string) => rows.filter((r) => r.endsWith(` ${v} |`)).length;
  const [met, missed, unsettled, unjudged] = [n('**meets**'), n('**misses**'), n('**not settled**'), n('not judged')];
  return `${met} of ${met + missed} targets met, ${missed} missed${unsettled ? `; ${unsettled} not settled` : ''}${unjudged ? `; ${unjudged} not judged` : ''}.`;
}

/**
 * `doc` with `blocks` merged in (see mergeBlocks) and its `targets-count` block counted again over
 * the rows of every `targets-SECTION` block, those of the sections this run did not measure included.
 */
export function updateDoc(doc: string, blocks: readonly DocBlock[], order: readonly string[]): string {
  const merged = mergeBlocks(doc, blocks, order);
  const rows = blockNames(merged)
    .filter((n) => n.startsWith('targets-') && n !== 'targets-count')
    .flatMap((n) => blockLines(merged, n)!)
    .filter((l) => l.startsWith('| ') && !l.startsWith('| target |'));
  return mergeBlocks(merged, [{ name: 'targets-count', lines: [targetCount(rows)] }], order);
}
