/**
 * The playground's token tooltip: the token (whitespace drawn, with a legend), p and surprisal in
 * bits, rank, and the alternatives; placed so that it stays inside the panel.
 */
import type { GeneratedToken } from '../core/generation';
import { formatBits, formatProbability, surprisalBits, visibleToken, whitespaceLegend } from '../core/numberFormat';
import { el } from './dom';
import { placeTooltip } from './tooltipPlacement';

export function tokenTipElement(): HTMLElement {
  return el('div', { id: 'token-tip', role: 'tooltip', class: 'tip', hidden: '' });
}

/** Shows the tooltip of `tokens` (one displayed piece: several tokens when bytes split a character) at `target`. */
export function showTokenTip(tip: HTMLElement, target: HTMLElement, tokens: readonly GeneratedToken[]): void {
  const t = tokens[tokens.length - 1];
  const token = (s: string) => el('span', { class: 'mono' }, visibleToken(s));
  const alternative = (rank: string, text: string, logProb: number, chosen: boolean) =>
    el(
      'tr',
      { class: chosen ? 'chosen' : '' },
      el('td', {}, rank),
      el('td', {}, token(text)),
      el('td', {}, formatProbability(Math.exp(logProb))),
      el('td', {}, chosen ? '◀ chosen' : ''),
    );
  const rows = (t.alternatives ?? []).map((a, i) => alternative(String(i + 1), a.text, a.logProb, a.id === t.id));
  if (t.alternatives && !t.alternatives.some((a) => a.id === t.id))
    rows.push(alternative(t.rank ? t.rank.toLocaleString('en-US') : '…', t.text, t.logProb, true));
  const lp = tokens.reduce((s, x) => s + x.logProb, 0);
  const legend = whitespaceLegend([...tokens.map((x) => x.text), ...(t.alternatives ?? []).map((a) => a.text)]);
  tip.replaceChildren(
    el(
      'div',
      {},
      ...(tokens.length > 1 ? [`${tokens.length} tokens: `, ...tokens.flatMap((x, i) => (i ? [' + ', token(x.text)] : [token(x.text)]))] : [token(t.text)]),
    ),
    el(
      'div',
      {},
      `p = ${formatProbability(Math.exp(lp))} · surprisal ${formatBits(surprisalBits(lp))}${t.rank ? ` · rank ${t.rank.toLocaleString('en-US')}` : ''}`,
    ),
    ...(rows.length
      ? [
          el(
            'table',
            { class: 'alts' },
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
