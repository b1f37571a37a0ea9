/**
 * The playground's token tooltip: the token (whitespace drawn, with a legend), the byte tokens that
 * spell it when they split a character, p and surprisal in bits, rank, and the alternatives;
 * placed so that it stays inside the panel.
 */
import type { GeneratedToken } from '../core/generation';
import { formatBits, formatProbability, surprisalBits, whitespaceLegend } from '../core/numberFormat';
import { pieceTip } from '../playground/pieceTip';
import { el } from './dom';
import { placeTooltip } from './tooltipPlacement';

export function tokenTipElement(): HTMLElement {
  return el('div', { id: 'token-tip', role: 'tooltip', class: 'tip', hidden: '' });
}

/**
 * Shows the tooltip of one displayed piece, `text`, spelled by `tokens` (several when bytes split a
 * character), at `target`.
 */
export function showTokenTip(tip: HTMLElement, target: HTMLElement, tokens: readonly GeneratedToken[], text: string): void {
  const d = pieceTip(tokens, text);
  const mono = (s: string) => el('span', { class: 'mono' }, s);
  const p = (logProb: number) => formatProbability(Math.exp(logProb));
  const rows = d.alternatives.map((a) =>
    el(
      'tr',
      { class: a.chosen ? 'chosen' : '' },
      el('td', {}, a.rank),
      el('td', {}, mono(a.label)),
      el('td', {}, p(a.logProb)),
      el('td', {}, a.chosen ? '◀ chosen' : ''),
    ),
  );
  const n = d.spelledBy.length;
  const legend = whitespaceLegend(d.texts);
  tip.replaceChildren(
    el('div', {}, mono(d.shown)),
    ...(n
      ? [
          el(
            'div',
            { class: 'spelled' },
            `spelled by ${n} ${d.byteTokens ? 'byte tokens' : 'tokens'}: `,
            ...d.spelledBy.flatMap((t, i) => [...(i ? [' + '] : []), mono(t.label), ` (p ${p(t.logProb)})`]),
          ),
        ]
      : []),
    el(
      'div',
      {},
      `p = ${p(d.logProb)}${n ? ` (the product of its ${n} tokens' p)` : ''} · surprisal ${formatBits(surprisalBits(d.logProb))}${d.rank ? ` · rank ${d.rank.toLocaleString('en-US')}` : ''}`,
    ),
    ...(rows.length
      ? [
          el(
            'table',
            { class: 'alts' },
            ...(n ? [el('caption', {}, `Alternatives to the first token, ${d.spelledBy[0].label}`)] : []),
            el('thead', {}, el('tr', {}, el('th', {}, '#'), el('th', {}, 'alternative'), el('th', {}, 'p'), el('th', {}, ''))),
            el('tbody', {}, ...rows),
          ),
        ]
      : []),
    ...(legend ? [el('div', { class: 'legend muted' }, legend)] : []),
  );
  tip.hidden = false;
  const r = target.getBoundingClientRect();
  const size = tip.getBoundingClientRect();
  const at = placeTooltip(r, size, { width: document.documentElement.clientWidth, height: document.documentElement.clientHeight });
  tip.style.left = `${at.left}px`;
  tip.style.top = `${at.top}px`;
  tip.dataset.side = at.side;
}
