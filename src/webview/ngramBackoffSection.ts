/**
 * The inside panel's section for a backoff n-gram model: which order gave the chosen token's p,
 * the backoff weights paid on the way down, and that the factors multiply to p.
 */
import { formatProbability } from '../core/numberFormat';
import { NO_COUNTS_NOTE, estimateLines, orderPhrase, traceRows } from '../playground/ngramTraceView';
import { el } from './dom';
import type { InsideSection } from './insidePanel';

const factor = (log10: number) => formatProbability(10 ** log10);

export const ngramBackoffSection: InsideSection = {
  view: 'ngram-backoff',
  title: 'n-gram: order used and backoff',
  async render(ctx) {
    const { prompt, before, token } = ctx.chosen;
    const { trace } = await (await ctx.engine()).request({ op: 'ngramTrace', prompt, before, token: token.id }, ctx.signal);
    const rows = traceRows(trace);
    return el(
      'div',
      { class: 'ngram-trace' },
      el('p', {}, `Order used: ${orderPhrase(trace)}.`),
      el(
        'table',
        { class: 'numbers', id: 'ngram-trace-table' },
        el('caption', {}, 'From the longest context down; the factors multiply to p'),
        el('thead', {}, el('tr', {}, ...['order', 'n-gram looked for', 'outcome', 'factor', 'log₁₀', 'why'].map((h) => el('th', { scope: 'col' }, h)))),
        el(
          'tbody',
          {},
          ...rows.map((r) =>
            el(
              'tr',
              { class: r.outcome === 'used' ? 'used' : '' },
              el('td', {}, `${r.order}-gram`),
              el('td', { class: 'mono' }, r.ngram),
              el('td', {}, r.outcome),
              el('td', {}, r.outcome === 'unseen context' ? '×1' : `×${factor(r.log10Factor)}`),
              el('td', {}, r.log10Factor.toFixed(4)),
              el('td', {}, r.explanation),
            ),
          ),
        ),
        el(
          'tfoot',
          {},
          el(
            'tr',
            {},
            el('td', { colspan: '3' }, 'product = p'),
            el('td', { class: 'product' }, factor(trace.log10Total)),
            el('td', {}, trace.log10Total.toFixed(4)),
            el('td', {}, `the token's p as generated: ${formatProbability(Math.exp(token.logProb))}`),
          ),
        ),
      ),
      ...(trace.estimate
        ? [
            el('h4', {}, `Counts behind the ${trace.usedOrder}-gram’s p (interpolated Kneser-Ney)`),
            ...estimateLines(trace).map((l) => el('p', { class: 'estimate' }, l)),
          ]
        : [el('p', { class: 'muted' }, NO_COUNTS_NOTE)]),
    );
  },
};
