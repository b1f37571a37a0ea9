/**
 * The inside panel's attention: as the model reads the token before the chosen one (the position
 * whose output predicts it), how much each head of a layer attends to each context token: a
 * heads × tokens heat-map with the heads' mean on top, a layer selector, and a head selector
 * (the mean or one head) whose weights shade the context's text.
 */
import { formatProbability } from '../core/numberFormat';
import { attentionHeatRows, mostAttended, tokenText } from '../playground/insideViews';
import { el, themeColor } from './dom';
import type { InsideSection } from './insidePanel';
import { insideResult } from './insideRequest';

/**
 * A cell or token shaded by its weight relative to `max` (the largest shown beside it, at full
 * colour: attention over a few tokens is rarely far from uniform). Set through the CSSOM: the
 * webview's content security policy refuses style attributes.
 */
function shaded<T extends HTMLElement>(e: T, weight: number, max: number, color: string): T {
  const share = max > 0 ? Math.max(0, Math.min(1, weight / max)) : 0;
  e.style.backgroundColor = `color-mix(in srgb, ${color} ${Math.round(100 * share)}%, transparent)`;
  return e;
}

const largest = (rows: readonly ArrayLike<number>[]) => Math.max(0, ...rows.flatMap((r) => Array.from(r)));

function selector(id: string, label: string, options: string[]): HTMLSelectElement {
  const select = el<HTMLSelectElement>('select', { id, 'aria-label': label }, ...options.map((o, i) => el('option', { value: String(i) }, o)));
  return select;
}

export const attentionSection: InsideSection = {
  view: 'attention',
  title: 'Attention: where each head looks',
  async render(ctx) {
    const r = await insideResult(ctx);
    const layers = r.inside.attention?.length ?? 0;
    const heads = r.inside.attention?.[0]?.length ?? 0;
    const ids = r.inside.ids;
    const labels = ids.map((id) => tokenText(r, id));
    const reading = labels[labels.length - 1];
    const color = themeColor('--vscode-charts-blue', '#3794ff');
    const layerSelect = selector(
      'attention-layer',
      'Layer',
      Array.from({ length: layers }, (_, l) => `block ${l + 1}`),
    );
    layerSelect.value = String(layers - 1);
    const headSelect = selector('attention-head', 'Head', [`mean of ${heads} heads`, ...Array.from({ length: heads }, (_, h) => `head ${h + 1}`)]);
    const grid = el('div', { class: 'attention-grid-scroll' });
    const text = el('div', { class: 'attention-text', id: 'attention-text' });
    const top = el('p', { class: 'attention-top' });
    const legend = el('div', { class: 'attention-legend', id: 'attention-legend' });
    // The chosen row's weights for the keyboard and screen readers: the map's cells are many and mouse-only.
    const values = el('tbody', {});
    const valuesTable = el(
      'details',
      { class: 'attention-values' },
      el('summary', {}, 'The chosen row’s weights as a table'),
      el(
        'table',
        { class: 'numbers', id: 'attention-values' },
        el('thead', {}, el('tr', {}, ...['token', 'position', 'weight'].map((h) => el('th', { scope: 'col' }, h)))),
        values,
      ),
    );

    const draw = () => {
      const rows = attentionHeatRows(r, Number(layerSelect.value));
      const chosenRow = Number(headSelect.value);
      grid.replaceChildren(heatMap(rows, labels, chosenRow, color, (row) => ((headSelect.value = String(row)), draw())));
      const weights = rows[chosenRow].weights;
      legend.replaceChildren(
        el('span', {}, 'colour: '),
        shaded(el('span', { class: 'attention-swatch' }), 0, 1, color),
        el('span', {}, ' 0% … '),
        shaded(el('span', { class: 'attention-swatch' }), 1, 1, color),
        el(
          'span',
          {},
          ` the row's largest weight (its value in the “max” column); the text below: the chosen row's, ${formatProbability(largest([weights]))} at full colour`,
        ),
      );
      values.replaceChildren(
        ...labels.map((label, j) => el('tr', {}, el('td', { class: 'mono' }, label), el('td', {}, String(j + 1)), el('td', {}, formatProbability(weights[j])))),
      );
      text.replaceChildren(
        ...labels.map((label, j) =>
          shaded(
            el('span', { class: 'mono attention-token', title: `${label}: ${formatProbability(weights[j])}` }, label),
            weights[j],
            largest([weights]),
            color,
          ),
        ),
      );
      top.textContent = `${rows[chosenRow].label}, block ${Number(layerSelect.value) + 1}: most attended ${mostAttended(r, weights, 3)
        .map((t) => `‘${t.token}’ (token ${t.position + 1}) ${t.weight}`)
        .join(', ')}`;
    };
    layerSelect.addEventListener('change', draw);
    headSelect.addEventListener('change', draw);
    draw();
    // The query token and the recent ones are at the map's right end: show them first (once in the page, when it has a width).
    requestAnimationFrame(() => (grid.scrollLeft = grid.scrollWidth));
    return el(
      'div',
      { class: 'attention' },
      el(
        'p',
        { class: 'muted' },
        `Attention of ‘${reading}’ — the last token read, whose output predicts ‘${tokenText(r, r.inside.actual)}’ — over the ${ids.length} context tokens; each row sums to 100%.` +
          (r.inside.dropped ? ` The model read its window's ${ids.length} tokens; ${r.inside.dropped.toLocaleString('en-US')} before them are not seen.` : ''),
      ),
      el('div', { class: 'attention-controls' }, el('label', {}, 'Layer ', layerSelect), el('label', {}, 'Head ', headSelect)),
      legend,
      grid,
      top,
      text,
      valuesTable,
    );
  },
};

/**
 * Heads × tokens: one row per head (the mean first), a cell per context token, each row shaded
 * against its own largest weight (shown in its last column), so that a spread-out row such as the
 * heads' mean is as readable as a sharp one; a row's label selects it.
 */
function heatMap(rows: ReturnType<typeof attentionHeatRows>, labels: string[], chosen: number, color: string, select: (row: number) => void): HTMLElement {
  return el(
    'table',
    { class: 'attention-heatmap', id: 'attention-heatmap' },
    el(
      'thead',
      {},
      el('tr', {}, el('th', { scope: 'col' }, 'head'), ...labels.map((l) => el('th', { scope: 'col', class: 'mono' }, l)), el('th', { scope: 'col' }, 'max')),
    ),
    el(
      'tbody',
      {},
      ...rows.map((row, i) => {
        const button = el('button', { class: 'attention-row-label', type: 'button', 'aria-pressed': String(i === chosen) }, row.label);
        button.addEventListener('click', () => select(i));
        const max = largest([row.weights]);
        return el(
          'tr',
          { class: i === chosen ? 'chosen' : '' },
          el('th', { scope: 'row' }, button),
          ...Array.from(row.weights, (w, j) =>
            shaded(el('td', { title: `${row.label} → ${labels[j]}: ${formatProbability(w)}`, 'data-weight': String(w) }), w, max, color),
          ),
          el('td', { class: 'attention-row-max' }, formatProbability(max)),
        );
      }),
    ),
  );
}
