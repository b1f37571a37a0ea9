/** Page of the Compare Models panel: the table and the cumulative surprisal plot (Chart.js). */
import { CategoryScale, Chart, Legend, LineController, LineElement, LinearScale, PointElement, Tooltip } from 'chart.js';
import { formatProbability, plural } from '../core/numberFormat';
import { hiddenUnder, sameCurveAs } from '../editor/cumulativeSurprisal';
import type { CompareView } from './compareMessages';
import { el, themeColor } from './dom';

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Legend, Tooltip);

const view = JSON.parse(document.getElementById('compare-data')!.textContent!) as CompareView;
const app = document.getElementById('app')!;

const fmt = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : '–');
const int = (x: number) => x.toLocaleString('en-US');

const header = ['Model', 'Bits per character', 'Bits per token', 'Perplexity (per token)', 'Tokens', 'Out of vocabulary', 'Scoring time', 'Load time'];
const oovCell = (r: { oov: number; tokens: number; oovUnknown?: boolean }) =>
  r.oovUnknown ? 'unknown (the server does not say)' : r.oov ? `${int(r.oov)} (${formatProbability(r.oov / r.tokens)})` : '0';
const withOov = view.results.filter((r) => r.oov > 0).map((r) => r.name);
const seen = view.results.filter((r) => r.trainedOnText).map((r) => r.name);
app.append(
  el(
    'p',
    { class: 'lead' },
    `${int(view.chars)} characters, scored by ${plural(view.results.length, 'model')}, best first. `,
    'Bits per character is the fair unit across tokenizers: bits per token and perplexity depend on how a model cuts the text.',
  ),
  el(
    'table',
    { id: 'results' },
    el('thead', {}, el('tr', {}, ...header.map((h) => el('th', { scope: 'col' }, h)))),
    el(
      'tbody',
      {},
      ...view.results.map((r) =>
        el(
          'tr',
          {},
          el(
            'th',
            { scope: 'row', title: r.description },
            r.name,
            r.active ? el('span', { class: 'badge' }, 'active') : '',
            r.trainedOnText ? el('span', { class: 'badge seen' }, 'trained on this text') : '',
          ),
          el('td', {}, fmt(r.bitsPerChar, 3)),
          el('td', {}, fmt(r.bitsPerToken, 3)),
          el('td', {}, fmt(r.perplexity, 1)),
          el('td', {}, int(r.tokens)),
          el('td', {}, oovCell(r)),
          el('td', {}, `${int(r.scoreMs)} ms`),
          el('td', {}, r.loadMs ? `${int(r.loadMs)} ms` : 'loaded'),
        ),
      ),
    ),
  ),
  el(
    'p',
    { class: 'theory' },
    'Why lower is better: the text was drawn from some true distribution p, and each model q pays the cross-entropy H(p, q) = −E',
    el('sub', {}, 'p'),
    "[log₂ q(x)] bits per character. Gibbs' inequality gives H(p, q) ≥ H(p), with equality only when q = p: ",
    "every model pays at least the entropy of the text's source, and a better model pays less.",
  ),
  ...(withOov.length
    ? [
        el(
          'p',
          { class: 'oov-note' },
          `${withOov.join(', ')} scored words outside ${withOov.length > 1 ? 'their vocabularies' : 'its vocabulary'} as one unknown-word token without paying for their letters, `,
          `so ${withOov.length > 1 ? 'their' : 'its'} bits per character are too low next to a byte-level model, which pays for every character. `,
          'Compare such models on text with few unknown words, or charge each unknown word for its spelling (see the gpt-classics model card).',
        ),
      ]
    : []),
  ...(seen.length
    ? [
        el(
          'p',
          { class: 'seen-note' },
          `${seen.join(', ')} learnt from this document (LM: Train N-gram Model on Workspace): `,
          `${seen.length > 1 ? 'their' : 'its'} bits per character say how well ${seen.length > 1 ? 'they remember' : 'it remembers'} this text, not how well ${seen.length > 1 ? 'they predict' : 'it predicts'} text ${seen.length > 1 ? 'they have' : 'it has'} not seen. `,
          'Compare the models on a text none of them was trained on; the figure the training gave for its held-out text (a tenth of each file long enough to spare one) is that prediction.',
        ),
      ]
    : []),
  ...(view.failures.length ? [el('p', { class: 'failures' }, `Could not score: ${view.failures.join('; ')}`)] : []),
  ...(view.notScored.length ? [el('p', { class: 'not-scored' }, `Cancelled before these were scored: ${view.notScored.join(', ')}.`)] : []),
  el('h2', {}, 'Cumulative surprisal along the text'),
  el(
    'p',
    { class: 'lead' },
    'Bits spent so far after each character. A steep stretch is text the model found surprising; the final height divided by the characters is the bits per character above.',
  ),
  el(
    'div',
    { class: 'chart' },
    el('canvas', { id: 'curve', role: 'img', 'aria-label': 'Cumulative surprisal in bits against characters, one line per model' }),
  ),
);

const palette = [
  '--vscode-charts-blue',
  '--vscode-charts-orange',
  '--vscode-charts-green',
  '--vscode-charts-purple',
  '--vscode-charts-red',
  '--vscode-charts-yellow',
];
const fallbacks = ['#3794ff', '#d18616', '#89d185', '#b180d7', '#f14c4c', '#cca700'];
const fg = themeColor('--vscode-foreground', '#888');
const same = sameCurveAs(view.results.map((r) => r.curve));
const near = hiddenUnder(view.results.map((r) => r.curve));
/** What the legend says of a dashed curve: the one it is drawn over, and how close it is. */
const dashedNote = (i: number): string => {
  const j = same[i];
  if (j !== undefined) return `, dashed: the same values as ${view.results[j].name}`;
  const n = near[i];
  return n ? `, dashed: within ${fmt(n.apartBits, 2)} bits of ${view.results[n.under].name} all along, drawn over it` : '';
};
new Chart<'line', { x: number; y: number }[], number>(document.getElementById('curve') as HTMLCanvasElement, {
  type: 'line',
  data: {
    datasets: view.results.map((r, i) => ({
      // A curve that coincides with one before (the same model on a server and here) is dashed on top of it, and says so.
      label: `${r.name} (${fmt(r.bitsPerChar, 3)} bits/char)${dashedNote(i)}`,
      data: r.curve.x.map((x, k) => ({ x, y: r.curve.y[k] })),
      borderColor: themeColor(palette[i % palette.length], fallbacks[i % fallbacks.length]),
      backgroundColor: themeColor(palette[i % palette.length], fallbacks[i % fallbacks.length]),
      pointRadius: 0,
      borderWidth: dashedNote(i) ? 2.5 : 1.5,
      borderDash: dashedNote(i) ? [6, 6] : undefined,
      // Drawn after (above) the curve it coincides with.
      order: dashedNote(i) ? 0 : 1,
    })),
  },
  options: {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    parsing: false,
    scales: {
      x: { type: 'linear', title: { display: true, text: 'characters', color: fg }, ticks: { color: fg } },
      y: { type: 'linear', title: { display: true, text: 'cumulative surprisal (bits)', color: fg }, ticks: { color: fg } },
    },
    plugins: { legend: { labels: { color: fg } } },
  },
});
