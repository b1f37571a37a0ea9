/**
 * The playground's inside panel: for a token the user chose in a result (click, or Enter on it),
 * the token with its p, its alternatives (each one a button that branches the generation there),
 * and one section per view of the model's inside that the model offers (`capabilities.inside`).
 */
import type { BackendCapabilities, InsideView } from '../core/backends/capabilities';
import type { EngineConnection } from '../core/engine/engineClient';
import type { CancelSignal } from '../core/errors';
import type { GeneratedToken } from '../core/generation';
import { formatBits, formatLogProbability, surprisalBits } from '../core/numberFormat';
import { tokenLabel } from '../playground/pieceTip';
import { el } from './dom';
import { attentionSection } from './attentionSection';
import { logitLensSection } from './logitLensSection';
import { ngramBackoffSection } from './ngramBackoffSection';

/** A token chosen in a result, with what a view needs to ask the engine about it. */
export interface ChosenToken {
  /** The model that produced the result (a spec of the page's config). */
  model: string;
  /** The request's prompt, encoded before `before`; none for a token of an echoed prompt, whose context is all in `before`. */
  prompt?: string;
  /** Token ids after the prompt's and before the chosen token (for an echoed prompt token: the prompt's ids before it). */
  before: number[];
  /** For a generated token: how many of `before` its generation was given (a branch's continuation), which fixes the window it read. */
  generated?: number;
  token: GeneratedToken;
  /** Where the token is, as the panel's heading says it ("token 3 of branch 2"). */
  where: string;
}

export interface InsideContext {
  chosen: ChosenToken;
  /** The page's engine with the chosen token's model loaded. */
  engine(): Promise<EngineConnection>;
  /** Cancelled when the panel shows another token or closes: its requests still waiting or running are dropped. */
  signal?: CancelSignal;
}

export interface InsideSection {
  view: InsideView;
  title: string;
  render(ctx: InsideContext): Promise<HTMLElement>;
}

/*
 * SEAM for views of the model's inside (issue 16, branches i16branch and i16lens): one section
 * per InsideView (src/core/backends/capabilities.ts). A view adds its name to InsideView, declares
 * it in its backend's capabilities (`inside`), and adds its section here, in its own file like
 * ngramBackoffSection.ts; the panel shows the sections the chosen token's model declares, in
 * this order, each rendered on its own (one that fails shows its error, the others still render).
 */
export const INSIDE_SECTIONS: readonly InsideSection[] = [ngramBackoffSection, logitLensSection, attentionSection];

/** The sections a model offers. */
export function insideSections(capabilities: BackendCapabilities | undefined): InsideSection[] {
  return INSIDE_SECTIONS.filter((s) => capabilities?.inside?.includes(s.view));
}

export interface InsidePanelOptions {
  capabilities: BackendCapabilities | undefined;
  /** Branching from an alternative; absent where the token cannot be branched (an echoed prompt token). */
  branch?: (alternative: number) => void;
  /** Tokens the model's generation never draws (`<s>`, `<unk>`): offered without a button, saying so. */
  neverDrawn?: ReadonlySet<number>;
  /** What a branch is generated with (playground/branchSettings.ts), said under the alternatives. */
  settings?: string;
  /** After the panel is closed (its Close button, or Escape in it): the page marks no token and puts the focus back. */
  closed?: () => void;
}

/** Why a model on a server shows less: it gives its top k only, and none of its inside. */
function serverNote(): HTMLElement {
  return el(
    'p',
    { class: 'muted server-note' },
    `This model runs on a server, which gives only its top-k log-probabilities: a token's rank is known only when it is among them (else "rank > k"), ` +
      'and there is no logit lens, attention or n-gram view (they need the model here, with its hidden states, attention or counts).',
  );
}

/** Why a local model shows no inside views: they need outputs or counts it does not have. */
function noViewsNote(): HTMLElement {
  return el(
    'p',
    { class: 'muted no-inside-note' },
    'This model shows no inside views: the logit lens and attention need an ONNX export whose graph also returns its hidden states and attention ' +
      '(hidden_states.N and attentions.N outputs, as training/add_inside_outputs.py adds them), and the n-gram view a backoff n-gram model (README, "Inside the model").',
  );
}

/** The requests of the token the panel shows: cancelled when it shows another or closes (5 quick clicks ran 5 requests in turn: 59 s). */
let shown: { cancelled: boolean } | undefined;

/** Fills `panel` with the chosen token's view; sections fill in as the engine answers. */
export function showInside(panel: HTMLElement, chosen: InsideContext, options: InsidePanelOptions): void {
  if (shown) shown.cancelled = true;
  const signal = { cancelled: false };
  shown = signal;
  const ctx: InsideContext = { ...chosen, signal };
  const t = ctx.chosen.token;
  const p = (logProb: number) => formatLogProbability(logProb);
  const alternatives = t.alternatives ?? [];
  const heading = el(
    'h2',
    { id: 'inside-heading', tabindex: '-1' },
    `Inside the model: `,
    el('span', { class: 'mono' }, tokenLabel(t)),
    ` (${ctx.chosen.where})`,
  );
  const rank = t.rank ? ` · rank ${t.rank.toLocaleString('en-US')}` : t.rankAbove ? ` · rank > ${t.rankAbove.toLocaleString('en-US')}` : '';
  const facts = el('p', {}, `p = ${p(t.logProb)} · surprisal ${formatBits(surprisalBits(t.logProb))}${rank}`);
  const close = el('vscode-button', { secondary: '', class: 'inside-close', 'aria-label': 'Close the Inside the model panel (Escape)' }, 'Close');
  const hide = () => {
    signal.cancelled = true;
    panel.hidden = true;
    options.closed?.();
  };
  close.addEventListener('click', hide);
  // A property, not a listener: the panel is filled again for every chosen token.
  panel.onkeydown = (e) => {
    if (e.key !== 'Escape' || panel.hidden) return;
    e.preventDefault();
    hide();
  };
  const list = alternatives.length
    ? el(
        'table',
        { class: 'inside-alternatives' },
        el('caption', {}, options.branch ? 'Alternatives: continue the generation with one (a new branch)' : 'Alternatives'),
        el(
          'tbody',
          {},
          ...alternatives.map((a, i) => {
            const label = tokenLabel(a);
            const action = el('td', {});
            if (a.id === t.id) action.append('◀ chosen');
            else if (options.branch && options.neverDrawn?.has(a.id)) action.append('never generated: no branch');
            else if (options.branch) {
              const button = el(
                'vscode-button',
                { secondary: '', class: 'continue-with', 'data-id': String(a.id), 'aria-label': `Continue with ${label}` },
                'continue with',
              );
              button.addEventListener('click', () => options.branch!(a.id));
              action.append(button);
            }
            return el('tr', {}, el('td', {}, String(i + 1)), el('td', { class: 'mono' }, label), el('td', {}, p(a.logProb)), action);
          }),
        ),
      )
    : el('p', { class: 'muted' }, 'No alternatives: set top-k per token above 0 to see them and branch from them.');
  const offered = insideSections(options.capabilities);
  const sections = offered.map((s) => {
    const body = el('div', { class: 'inside-body', role: 'status' }, 'computing…');
    s.render(ctx).then(
      (content) => body.replaceChildren(content),
      (e: Error) => {
        body.className = 'inside-body message error';
        body.textContent = e.message;
      },
    );
    return el('section', { class: 'inside-section', 'data-view': s.view, 'aria-label': s.title }, el('h3', {}, s.title), body);
  });
  const notes = [
    ...(options.branch && options.settings && alternatives.length ? [el('p', { class: 'muted branch-settings' }, options.settings)] : []),
    ...(options.capabilities?.tokenizer === 'server' ? [serverNote()] : offered.length === 0 ? [noViewsNote()] : []),
  ];
  panel.replaceChildren(el('div', { class: 'inside-head' }, heading, close), facts, list, ...notes, ...sections);
  panel.hidden = false;
}
