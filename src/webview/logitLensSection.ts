/**
 * The inside panel's logit lens: what each layer of a transformer would predict at the chosen
 * token if the model stopped there (the final norm and output layer applied to its residual
 * stream), as a table and a chart of the chosen token's p and rank through the layers.
 */
import { CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, LogarithmicScale, PointElement, Tooltip } from 'chart.js';
import { formatProbability } from '../core/numberFormat';
import { lensRows, settlesAt, tokenText } from '../playground/insideViews';
import { el, themeColor } from './dom';
import type { InsideSection } from './insidePanel';
import { insideResult, LENS_TOP } from './insideRequest';

Chart.register(LineController, LineElement, PointElement, CategoryScale, LinearScale, LogarithmicScale, Legend, Tooltip);

export const logitLensSection: InsideSection = {
  view: 'logit-lens',
  title: 'Logit lens: what each layer predicts',
  async render(ctx) {
    const r = await insideResult(ctx);
    const rows = lensRows(r);
    const ids = r.inside.ids;
    const reading = tokenText(r, ids[ids.length - 1]);
    const chosen = tokenText(r, r.inside.actual);
    const settled = settlesAt(r);
    const table = el(
      'table',
      { class: 'numbers lens-table', id: 'logit-lens-table' },
      el('caption', {}, `After ‘${reading}’: each layer's top ${LENS_TOP}, and the chosen ‘${chosen}’`),
      el('thead', {}, el('tr', {}, ...['layer', `top ${LENS_TOP} (p)`, `p(${chosen})`, 'rank', 'entropy'].map((h) => el('th', { scope: 'col' }, h)))),
      el(
        'tbody',
        {},
        ...rows.map((row) =>
          el(
            'tr',
            {},
            el('th', { scope: 'row' }, row.layer),
            el(
              'td',
              { class: 'lens-top' },
              ...row.top.flatMap((t, i) => [
                ...(i ? [' · '] : []),
                el('span', { class: `mono${t.token === chosen ? ' lens-chosen' : ''}` }, t.token),
                ` ${t.p}`,
              ]),
            ),
            el('td', {}, formatProbability(row.actualP)),
            el('td', {}, row.actualRank.toLocaleString('en-US')),
            el('td', {}, row.entropy),
          ),
        ),
      ),
    );
    const canvas = el<HTMLCanvasElement>('canvas', { id: 'logit-lens-chart', role: 'img', 'aria-label': `p of ‘${chosen}’ at each layer` });
    const chart = el('div', { class: 'lens-chart' }, canvas);
    const fg = themeColor('--vscode-foreground', '#888');
    // Drawn once the section is in the page (Chart.js measures its container).
    requestAnimationFrame(
      () =>
        new Chart<'line', number[], string>(canvas, {
          type: 'line',
          data: {
            labels: rows.map((row) => row.layer),
            datasets: [
              { label: `p(${chosen})`, data: rows.map((row) => row.actualP), borderColor: themeColor('--vscode-charts-blue', '#3794ff'), yAxisID: 'p' },
              {
                label: `rank of ${chosen}`,
                data: rows.map((row) => row.actualRank),
                borderColor: themeColor('--vscode-charts-orange', '#d18616'),
                yAxisID: 'rank',
              },
            ],
          },
          options: {
            animation: false,
            // Points on the edges (p = 100 %, rank 1) are drawn whole, not cut at the chart's border.
            clip: false,
            layout: { padding: { top: 8, bottom: 4 } },
            responsive: true,
            maintainAspectRatio: false,
            scales: {
              x: { ticks: { color: fg } },
              // Logarithmic: an early layer's p of the token is often below a millionth.
              p: {
                type: 'logarithmic',
                position: 'left',
                max: 1,
                title: { display: true, text: 'p (log scale)', color: fg },
                ticks: { color: fg, callback: (v) => formatProbability(Number(v)) },
              },
              rank: {
                type: 'logarithmic',
                position: 'right',
                reverse: true,
                min: 1,
                title: { display: true, text: 'rank (1 at the top)', color: fg },
                ticks: { color: fg },
              },
            },
            plugins: { legend: { labels: { color: fg } } },
          },
        }),
    );
    const note =
      settled === undefined
        ? `‘${chosen}’ is not the model's first choice here.`
        : settled === 0
          ? `‘${chosen}’ is the first choice from the embeddings on.`
          : `‘${chosen}’ becomes the first choice ${rows[settled].layer.replace(' = output', '')} and stays it.`;
    return el(
      'div',
      { class: 'logit-lens' },
      el(
        'p',
        { class: 'muted' },
        `The model's final layer norm and output layer applied to the residual stream after each block, as if the model stopped there; the last row is the model's own prediction. ${note}`,
      ),
      ...(r.inside.dropped
        ? [
            el(
              'p',
              { class: 'muted' },
              `The model read the last ${ids.length} tokens of the context (its window); ${r.inside.dropped.toLocaleString('en-US')} before them are not seen.`,
            ),
          ]
        : []),
      table,
      chart,
    );
  },
};
