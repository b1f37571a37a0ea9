/**
 * The playground's temperature explorer: p and p_T ∝ p^(1/T) of a few tokens as bars (an axis
 * that shows small values: linear up to the largest bar, or log), a table, H(p_T) against T, and
 * sampling at T. Two sources (the next token after the prompt, or the lecture's p = (0.4, 0.6)):
 * the source buttons and the axis button show which mode is on.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LineController,
  LineElement,
  LinearScale,
  LogarithmicScale,
  PointElement,
  Tooltip,
} from 'chart.js';
import { entropyNats, rankOf, temperedProbabilities } from '../core/distribution';
import { formatBits, formatProbability, visibleToken, whitespaceLegend } from '../core/numberFormat';
import { Xoshiro128, randomSeed } from '../core/random';
import { sampleIndex } from '../core/sampling';
import { barAxis, type AxisScale } from '../playground/barAxis';
import { tokenLabel } from '../playground/pieceTip';
import type { SampledToken } from '../playground/sampledToken';
import { formatTemperature, parseTemperature } from '../playground/temperature';
import { el, themeColor } from './dom';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LogarithmicScale, LineController, LineElement, PointElement, Legend, Tooltip);

export interface Explored {
  labels: string[];
  logProbs: Float64Array;
  ids: number[];
  source: string;
  /** A server's top k only (this many): p is renormalised over them. */
  topOnly?: number;
  /** Any token of the distribution, with its text (from the engine when it is not among `ids`). */
  token(id: number): Promise<SampledToken>;
}

export type ExplorerSource = 'next' | 'lecture';

export interface ExplorerDeps {
  /** The top tokens after the playground's prompt, from its engine. */
  nextTokens(): Promise<Explored>;
  error(message: string): void;
}

type Field = HTMLElement & { value: string; checked?: boolean };

const LECTURE_LABELS = ['A', 'B'];
/** The lecture's example: two tokens, p = (0.4, 0.6). */
const LECTURE_LOG_PROBS = Float64Array.from([0.4, 0.6], Math.log);
const LECTURE: Explored = {
  labels: LECTURE_LABELS,
  logProbs: LECTURE_LOG_PROBS,
  // Listed by id, not by p: the table reads as the lecture writes it.
  ids: [0, 1],
  source: 'Lecture example: p = (0.4, 0.6)',
  token: (id) => Promise.resolve({ id, text: LECTURE_LABELS[id], rank: rankOf(LECTURE_LOG_PROBS, id) }),
};

const SOURCE_BUTTONS: Record<ExplorerSource, string> = { next: 'explore-next', lecture: 'explore-lecture' };
const AXIS_LABELS: Record<AxisScale, string> = { linear: 'Axis: linear, 0 to the largest bar', log: 'Axis: log scale' };

export function explorerLayout(): HTMLElement {
  return el(
    'div',
    { class: 'explorer' },
    el('p', { class: 'muted' }, "p_T(x) ∝ p(x)^(1/T): T = 0 is the argmax, T = 1 the model's distribution, T → ∞ uniform."),
    el(
      'div',
      { class: 'buttons', role: 'group', 'aria-label': 'Distribution to explore' },
      el('vscode-button', { id: 'explore-next', secondary: '', 'aria-pressed': 'false' }, 'Next token after the prompt'),
      el('vscode-button', { id: 'explore-lecture', secondary: '', 'aria-pressed': 'false' }, 'Lecture example p = (0.4, 0.6)'),
      el('vscode-button', { id: 'temp-scale', secondary: '', 'aria-pressed': 'false', title: 'Switch between a linear and a log axis' }, AXIS_LABELS.linear),
    ),
    el(
      'div',
      { class: 'temp-row' },
      el('label', { for: 'temp-slider' }, 'T'),
      el('input', { id: 'temp-slider', type: 'range', min: '0', max: '500', value: '100', 'aria-label': 'Temperature' }),
      el('vscode-textfield', { id: 'temp-value', value: '1', 'aria-label': 'Temperature value (∞ allowed)' }),
      el('vscode-checkbox', { id: 'temp-infinite', label: '∞' }),
      el('vscode-button', { id: 'temp-sample', secondary: '' }, 'Sample at T'),
    ),
    el('p', { id: 'explorer-status', class: 'muted', role: 'status' }),
    el('div', { class: 'chart' }, el('canvas', { id: 'temp-bars', role: 'img', 'aria-label': 'Top tokens under p and p_T' })),
    el('table', { id: 'temp-table', class: 'numbers' }),
    el('p', { id: 'temp-legend', class: 'muted' }),
    el('div', { class: 'chart small' }, el('canvas', { id: 'temp-entropy', role: 'img', 'aria-label': 'Entropy of p_T against T' })),
  );
}

/** Wires the explorer once its layout is in the page. */
export function startTemperatureExplorer(deps: ExplorerDeps): void {
  const byId = <T extends HTMLElement = Field>(id: string) => document.getElementById(id) as T;
  let explored: Explored | undefined;
  let source: ExplorerSource | undefined;
  let scale: AxisScale = 'linear';
  /** The last finite T, shown again when ∞ is unticked. */
  let finiteT = 1;
  const fg = themeColor('--vscode-foreground', '#888');
  const bars = new Chart<'bar', number[], string>(byId<HTMLCanvasElement>('temp-bars'), {
    type: 'bar',
    data: { labels: [], datasets: [] },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      scales: { x: { ticks: { color: fg } }, y: { type: 'linear', min: 0, max: 1, ticks: { color: fg } } },
      plugins: { legend: { labels: { color: fg } } },
    },
  });
  const entropyChart = new Chart<'line', { x: number; y: number }[], number>(byId<HTMLCanvasElement>('temp-entropy'), {
    type: 'line',
    data: { datasets: [] },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      parsing: false,
      scales: {
        x: { type: 'linear', min: 0, max: 5, title: { display: true, text: 'T', color: fg }, ticks: { color: fg } },
        y: { type: 'linear', min: 0, title: { display: true, text: 'entropy of p_T (bits)', color: fg }, ticks: { color: fg } },
      },
      plugins: { legend: { labels: { color: fg } } },
    },
  });

  const infinite = () => !!byId('temp-infinite').checked;
  const currentT = () => (infinite() ? Infinity : finiteT);

  /** Buttons say which mode is on: the source shown (pressed, primary) and the axis. */
  function renderModes(): void {
    for (const [s, id] of Object.entries(SOURCE_BUTTONS)) {
      const b = byId(id);
      b.setAttribute('aria-pressed', String(s === source));
      if (s === source) b.removeAttribute('secondary');
      else b.setAttribute('secondary', '');
    }
    const axis = byId('temp-scale');
    axis.textContent = AXIS_LABELS[scale];
    axis.setAttribute('aria-pressed', String(scale === 'log'));
    byId('temp-value').value = formatTemperature(currentT());
    byId<HTMLInputElement>('temp-slider').value = String(Math.round(Math.min(finiteT, 5) * 100));
  }

  function render(): void {
    renderModes();
    if (!explored) return;
    const e = explored;
    const T = currentT();
    const p = temperedProbabilities(e.logProbs, 1);
    const pT = temperedProbabilities(e.logProbs, T);
    const labels = e.ids.map((id, i) => e.labels[i] ?? String(id));
    const shownP = e.ids.map((id) => p[id]);
    const shownPT = e.ids.map((id) => pT[id]);
    const axis = barAxis([...shownP, ...shownPT], scale);
    bars.options.scales!.y = {
      type: axis.type,
      min: axis.min,
      max: axis.max,
      ticks: { color: fg },
      title: { display: true, text: scale === 'log' ? 'probability (log scale)' : 'probability', color: fg },
    };
    bars.data.labels = labels.map(visibleToken);
    bars.data.datasets = [
      { label: 'p (T = 1)', data: shownP, backgroundColor: themeColor('--vscode-charts-blue', '#3794ff') },
      { label: `p_T (T = ${formatTemperature(T)})`, data: shownPT, backgroundColor: themeColor('--vscode-charts-orange', '#d18616') },
    ];
    bars.update();
    byId('temp-bars').setAttribute('aria-label', `Top tokens under p and p_T, ${scale === 'log' ? 'log' : 'linear'} axis from ${axis.min} to ${axis.max}`);
    byId('temp-bars').dataset.axis = `${axis.type}:${axis.min}:${axis.max}`;
    byId<HTMLElement>('temp-table').replaceChildren(
      el('thead', {}, el('tr', {}, el('th', {}, 'token'), el('th', {}, 'p'), el('th', {}, `p_T at T = ${formatTemperature(T)}`))),
      el(
        'tbody',
        {},
        ...e.ids.map((_, i) =>
          el(
            'tr',
            {},
            el('td', { class: 'mono' }, visibleToken(labels[i])),
            el('td', {}, formatProbability(shownP[i])),
            el('td', {}, formatProbability(shownPT[i])),
          ),
        ),
      ),
    );
    byId('temp-legend').textContent = whitespaceLegend(labels);
    const points: { x: number; y: number }[] = [];
    for (let k = 0; k <= 100; k++) {
      const t = k / 20;
      const q = temperedProbabilities(e.logProbs, t);
      points.push({ x: t, y: entropyNats(Float64Array.from(q, (x) => Math.log(x))) / Math.LN2 });
    }
    const uniform = entropyNats(Float64Array.from(temperedProbabilities(e.logProbs, Infinity), (x) => Math.log(x))) / Math.LN2;
    const here = entropyNats(Float64Array.from(pT, (x) => Math.log(x))) / Math.LN2;
    entropyChart.data.datasets = [
      { label: 'H(p_T)', data: points, borderColor: themeColor('--vscode-charts-purple', '#b180d7'), pointRadius: 0 },
      {
        label: `T → ∞: ${formatBits(uniform)}`,
        data: [
          { x: 0, y: uniform },
          { x: 5, y: uniform },
        ],
        borderColor: themeColor('--vscode-charts-yellow', '#cca700'),
        borderDash: [4, 4],
        pointRadius: 0,
      },
      {
        label: `now: ${formatBits(here)}`,
        data: [{ x: Math.min(T, 5), y: here }],
        borderColor: themeColor('--vscode-charts-red', '#f14c4c'),
        backgroundColor: themeColor('--vscode-charts-red', '#f14c4c'),
        pointRadius: 5,
        showLine: false,
      },
    ];
    entropyChart.update();
    byId('explorer-status').textContent = `${e.source} · entropy of p_T at T = ${formatTemperature(T)}: ${formatBits(here)}`;
  }

  const explore = (s: ExplorerSource, x: Explored) => {
    source = s;
    explored = x;
    render();
  };
  byId('explore-lecture').addEventListener('click', () => explore('lecture', LECTURE));
  byId('explore-next').addEventListener('click', () => {
    deps.nextTokens().then(
      (x) => explore('next', x),
      (err: Error) => deps.error(err.message),
    );
  });
  byId('temp-scale').addEventListener('click', () => {
    scale = scale === 'linear' ? 'log' : 'linear';
    render();
  });
  byId('temp-slider').addEventListener('input', () => {
    byId('temp-infinite').checked = false;
    finiteT = Number(byId<HTMLInputElement>('temp-slider').value) / 100;
    render();
  });
  byId('temp-value').addEventListener('change', () => {
    const T = parseTemperature(byId('temp-value').value);
    if (T === undefined) deps.error(`The temperature must be a number ≥ 0 or ∞, not "${byId('temp-value').value}".`);
    else if (T === Infinity) byId('temp-infinite').checked = true;
    else {
      byId('temp-infinite').checked = false;
      finiteT = T;
    }
    render();
  });
  byId('temp-infinite').addEventListener('change', () => render());
  byId('temp-sample').addEventListener('click', () => {
    if (!explored) return;
    const e = explored;
    const T = currentT();
    const pT = temperedProbabilities(e.logProbs, T);
    const id = sampleIndex(pT, new Xoshiro128(randomSeed(), 0));
    const i = e.ids.indexOf(id);
    const token = i >= 0 ? Promise.resolve({ id, text: e.labels[i], rank: rankOf(e.logProbs, id) }) : e.token(id);
    token.then(
      (t) => {
        if (explored !== e) return;
        byId('explorer-status').textContent =
          `Sampled ${tokenLabel(t)} at T = ${formatTemperature(T)}: rank ${t.rank.toLocaleString('en-US')} of ${e.logProbs.length.toLocaleString('en-US')} (p = ${formatProbability(Math.exp(e.logProbs[id]))}, p_T = ${formatProbability(pT[id])})`;
      },
      (err: Error) => deps.error(err.message),
    );
  });
  // Something to look at from the start: the lecture's example, until the prompt's is asked for.
  explore('lecture', LECTURE);
}
