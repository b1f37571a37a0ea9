/**
 * The tree of continuations under a completion: one row per branch, indented by depth, each
 * saying where it diverged (which token it took instead of which) and its path probability, then
 * its path's tokens (the part it shares with its parent greyed), which can be chosen like any
 * result's tokens.
 */
import type { GeneratedToken } from '../core/generation';
import { formatLogProbability } from '../core/numberFormat';
import type { BranchTree } from '../playground/branchTree';
import { logProbBits } from '../playground/completionSummary';
import { tokenLabel } from '../playground/pieceTip';
import { el, fragment } from './dom';

/** Spans of `tokens` (path indexes from `first`); choosing one gives its path index. */
export type SpanMaker = (tokens: GeneratedToken[], choose: (index: number) => void, first: number) => HTMLElement[];

const FINISH = { length: 'reached max tokens', stop: 'ended by a stop sequence', eos: 'the model ended the text' } as const;

/** The head of a branch's row: where it diverged, its path's p, how it ended. */
export function branchHead(tree: BranchTree, id: number, running: boolean): string {
  const d = tree.divergence(id)!;
  const lp = tree.pathLogProb(id);
  const b = tree.branch(id);
  const ended = running ? 'generating…' : b.failed ? `failed: ${b.failed}` : b.finishReason ? FINISH[b.finishReason] : 'stopped';
  return (
    `branch ${id}${b.parent ? ` (of branch ${b.parent})` : ''} · at token ${d.index + 1}: ${tokenLabel(d.chosen)} instead of ${tokenLabel(d.replaced)} · ` +
    `log₂ p(path) = ${logProbBits(lp)} · p = ${formatLogProbability(lp)} · ${tree.path(id).length} tokens` +
    `${b.seeds?.length ? ` · seed${b.seeds.length > 1 ? 's' : ''} ${b.seeds.join(', ')}` : ''} · ${ended}`
  );
}

/** Levels of indentation at most: a tree 50 deep would leave its last rows a word wide. */
export const MAX_INDENT = 8;

/** A branch's path as token spans, the part it shares with its parent greyed. */
function pathSpans(tree: BranchTree, id: number, spans: SpanMaker, choose: (id: number, index: number) => void): DocumentFragment {
  const b = tree.branch(id);
  const path = tree.path(id);
  const pick = (index: number) => choose(id, index);
  const shared = spans(path.slice(0, b.at), pick, 0);
  for (const s of shared) s.classList.add('shared');
  return fragment([...shared, ...spans(b.tokens, pick, b.at)]);
}

/** One branch's row; a running one has its own Stop, beside it rather than at the top of the page. */
export function branchRow(
  tree: BranchTree,
  id: number,
  spans: SpanMaker,
  choose: (id: number, index: number) => void,
  running: boolean,
  stop?: () => void,
): HTMLElement {
  const row = el(
    'li',
    { class: 'branch', 'data-branch': String(id), tabindex: '-1', 'data-depth': String(tree.depth(id)) },
    el(
      'div',
      { class: 'branch-head meta' },
      el('span', { class: 'branch-summary' }, branchHead(tree, id, running)),
      ...(running && stop ? [stopButton(id, stop)] : []),
    ),
    el('div', { class: 'branch-text' }, pathSpans(tree, id, spans, choose)),
  );
  // Set in code: the page's content security policy refuses inline `style` attributes. Capped:
  // deeper branches stay readable, their head names the branch they left.
  row.style.marginLeft = `${Math.min(tree.depth(id) - 1, MAX_INDENT) * 1.5}em`;
  return row;
}

/**
 * The running branch's new tokens, drawn after the ones on screen: only its last span is drawn
 * again (a character split over byte tokens may have been cut between two updates), so a long
 * branch costs the same per token as a run.
 */
function appendNewTokens(text: Element, tree: BranchTree, id: number, spans: SpanMaker, choose: (id: number, index: number) => void): void {
  const b = tree.branch(id);
  const last = text.lastElementChild as HTMLElement | null;
  const from = last?.dataset.index !== undefined ? Math.max(b.at, Number(last.dataset.index)) : b.at;
  if (last && from > b.at) last.remove();
  else {
    text.replaceChildren(pathSpans(tree, id, spans, choose));
    return;
  }
  text.append(fragment(spans(b.tokens.slice(from - b.at), (index) => choose(id, index), from)));
}

function stopButton(id: number, stop: () => void): HTMLElement {
  const button = el('vscode-button', { secondary: '', class: 'branch-stop', 'aria-label': `Stop branch ${id} (it keeps what it made)` }, 'Stop');
  button.addEventListener('click', stop);
  return button;
}

/**
 * Every branch but the completion itself, in tree order; `stop` ends the running one's generation.
 * While a branch runs, its row is updated in place as tokens stream in: its Stop stays the same
 * button under the pointer.
 */
export function renderBranches(
  list: HTMLElement,
  tree: BranchTree,
  spans: SpanMaker,
  choose: (id: number, index: number) => void,
  running?: number,
  stop?: () => void,
): void {
  const live = running === undefined ? null : list.querySelector<HTMLElement>(`[data-branch="${running}"]`);
  if (live?.querySelector('.branch-stop')) {
    live.querySelector('.branch-summary')!.textContent = branchHead(tree, running!, true);
    appendNewTokens(live.querySelector('.branch-text')!, tree, running!, spans, choose);
    return;
  }
  const rows = tree
    .ordered()
    .filter((b) => b.parent !== undefined)
    .map((b) => branchRow(tree, b.id, spans, choose, b.id === running, stop));
  list.replaceChildren(...rows);
  list.hidden = rows.length === 0;
}
