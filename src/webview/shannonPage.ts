/**
 * Page of the Shannon game panel: shows the game the extension sends and sends back the keys the
 * player types. UI from @vscode-elements/elements (follows the editor's theme), chart by Chart.js.
 */
import { PlayClock } from './playClock';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-label/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';
import { plural } from '../core/numberFormat';
import { boundsText, estimatesNote, type BoundsReading } from '../core/shannon/bounds';
import type { FromPanel, ShannonView, ToPanel } from './shannonMessages';
import { el, themeColor } from './dom';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

interface VsCodeApi {
  postMessage(message: FromPanel): void;
}
declare function acquireVsCodeApi(): VsCodeApi;
const vscode = acquireVsCodeApi();

type ValueElement = HTMLElement & { value: string };

const show = (ch: string) => (ch === ' ' ? '␣' : ch === '\n' ? '⏎' : ch === '\t' ? '⇥' : ch);
const bits = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(2));
/** A bound's value; an estimate that is not yet a bound is starred (the note says why). */
const bound = (r: BoundsReading | undefined, which: 'lower' | 'upper') => (r === undefined ? '–' : `${bits(r[which])}${r.kind === 'estimates' ? ' *' : ''}`);
const ALPHABET_LABELS = { shannon27: "Shannon's 27 symbols (a–z and space)", all: 'All characters of the text' } as const;

// The layout is built once: re-rendering replaces only the parts that change, so focus stays put.
const app = document.getElementById('app')!;
app.replaceChildren();

const sourceSelect = el<ValueElement>('vscode-single-select', { id: 'source', 'aria-label': 'Text to play' });
const alphabetSelect = el<ValueElement>('vscode-single-select', { id: 'alphabet', 'aria-label': 'Alphabet' });
for (const [value, label] of Object.entries(ALPHABET_LABELS)) alphabetSelect.append(el('vscode-option', { value }, label));
const windowField = el<ValueElement>('vscode-textfield', { id: 'window', type: 'number', min: '0', value: '0', 'aria-label': 'Letters shown (0 shows all)' });
const newButton = el('vscode-button', { id: 'new-game' }, 'New game');
const exportButton = el('vscode-button', { id: 'export-csv', secondary: '' }, 'Export CSV');
const resetButton = el('vscode-button', { id: 'reset', secondary: '' }, 'Reset results');
const field = (id: string, label: string, control: HTMLElement) => el('div', { class: 'field' }, el('vscode-label', { for: id }, label), control);

const title = el('p', { id: 'game-title', class: 'subtitle' });
const textBox = el('div', { id: 'text', class: 'text', 'aria-label': 'The text so far' });
const wrongLine = el('div', { id: 'wrong', class: 'wrong' });
const guessField = el<ValueElement>('vscode-textfield', {
  id: 'guess',
  placeholder: 'Type your guess for the next character',
  'aria-label': 'Your guess for the next character',
});
const feedback = el('p', { id: 'feedback', role: 'status' });
const summary = el('table', { id: 'summary', class: 'summary' });
const progress = el('p', { id: 'model-progress', class: 'muted' });
const pooled = el('p', { id: 'pooled', class: 'muted' });
const canvas = el<HTMLCanvasElement>('canvas', { id: 'q-chart', role: 'img', 'aria-label': 'Distribution of the number of guesses' });
const recent = el('table', { id: 'recent', class: 'recent' });
const sub = (i: string) => el('sub', {}, i);
/** What each bound means (Shannon 1951, "Prediction and Entropy of Printed English"). */
const explained = el(
  'div',
  { id: 'bounds-explained', class: 'muted' },
  el(
    'p',
    {},
    'q',
    sub('i'),
    ' is the fraction of characters guessed right at the i-th guess. Shannon (1951) bounds the entropy per character of the text, for a player who guesses in order of probability:',
  ),
  el(
    'ul',
    {},
    el(
      'li',
      {},
      el('strong', {}, 'Upper bound'),
      ' −Σ q',
      sub('i'),
      ' log₂ q',
      sub('i'),
      ': the entropy of the guess count. The guess counts determine the text (an identical twin who guesses the same way can read it back from them), so the text cannot hold more information than the guess counts.',
    ),
    el(
      'li',
      {},
      el('strong', {}, 'Lower bound'),
      ' Σ i (q',
      sub('i'),
      ' − q',
      sub('i+1'),
      ') log₂ i',
      ': from the sorted frequencies (q',
      sub('1'),
      ' ≥ q',
      sub('2'),
      ' ≥ …). The least uncertain predictions with these guess frequencies are mixtures of "one of i equally likely characters", whose entropy this is.',
    ),
  ),
  el(
    'p',
    {},
    "The model's guess count is the rank of the true character in its next-character distribution; its cross-entropy is the average of −log₂ p(true character), which is never below the true entropy.",
  ),
);
/** Shown while a column's estimates are not yet bounds. */
const boundsNote = el('p', { id: 'bounds-note', class: 'note', role: 'note', hidden: '' });

app.append(
  el('header', {}, el('h1', {}, 'The Shannon game'), title),
  el(
    'section',
    { class: 'controls', 'aria-label': 'New game' },
    field('source', 'Text', sourceSelect),
    field('alphabet', 'Alphabet', alphabetSelect),
    field('window', 'Letters shown (0: all)', windowField),
    el('div', { class: 'buttons' }, newButton, exportButton, resetButton),
  ),
  el('section', { class: 'play', 'aria-label': 'Play' }, textBox, wrongLine, guessField, feedback),
  el(
    'section',
    { class: 'stats', 'aria-label': 'Statistics' },
    summary,
    boundsNote,
    progress,
    pooled,
    el('div', { class: 'chart' }, canvas),
    recent,
    explained,
  ),
);

const chart = new Chart<'bar', number[], string>(canvas, {
  type: 'bar',
  data: { labels: [], datasets: [] },
  options: {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    scales: {
      x: { title: { display: true, text: 'guess number i' }, ticks: { color: themeColor('--vscode-foreground', '#888') } },
      y: { title: { display: true, text: 'q_i' }, min: 0, max: 1, ticks: { color: themeColor('--vscode-foreground', '#888') } },
    },
    plugins: { legend: { labels: { color: themeColor('--vscode-foreground', '#888') } } },
  },
});

function send(m: FromPanel): void {
  vscode.postMessage(m);
}

newButton.addEventListener('click', () => {
  const window = Number(windowField.value || '0');
  send({ type: 'newGame', source: sourceSelect.value, alphabet: alphabetSelect.value === 'all' ? 'all' : 'shannon27', window });
  guessField.focus();
});
exportButton.addEventListener('click', () => send({ type: 'exportCsv' }));
resetButton.addEventListener('click', () => send({ type: 'reset' }));

/** Every printable key is a guess; Enter guesses a line break where the alphabet has one. */
guessField.addEventListener('keydown', (e: KeyboardEvent) => {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  let ch: string | undefined;
  if (e.key === 'Enter') ch = '\n';
  else if (e.key === 'Tab') return;
  else if ([...e.key].length === 1) ch = e.key;
  if (ch === undefined) return;
  e.preventDefault();
  guessField.value = '';
  send({ type: 'guess', char: ch });
});

/** The game whose text the Text list was last set to: set once per game, so that a choice made for the next game stays. */
let sourceShownFor: string | undefined;

function renderSources(view: ShannonView): void {
  if (sourceSelect.childElementCount !== view.sources.length) {
    sourceSelect.replaceChildren(...view.sources.map((s) => el('vscode-option', { value: s.id }, s.label)));
    sourceSelect.value = view.sources[Math.min(1, view.sources.length - 1)].id;
  }
  // The list names the text being played (drive7: it showed the first passage during a game on a selection).
  if (view.game && view.game.id !== sourceShownFor) {
    sourceSelect.value = view.game.source;
    sourceShownFor = view.game.id;
  }
}

/** How long the model's play has left, from its speed so far in this game. */
const playClock = new PlayClock();

function render(view: ShannonView): void {
  renderSources(view);
  const g = view.game;
  const s = view.stats;
  title.textContent = g
    ? `${g.title} · ${ALPHABET_LABELS[g.alphabet]} · ${g.window > 0 ? `the last ${g.window} letters shown` : 'all the text so far shown'} · character ${Math.min(g.position + 1, g.length)} of ${g.length}`
    : 'No game yet.';
  if (g && document.activeElement !== alphabetSelect) alphabetSelect.value = g.alphabet;
  if (g && document.activeElement !== windowField) windowField.value = String(g.window);

  textBox.replaceChildren(
    ...(g
      ? [g.window > 0 && g.position > g.window ? '…' : '', g.visible, el('span', { class: 'cursor', 'aria-label': 'next character' }, g.finished ? ' ■' : '▁')]
      : []),
  );
  textBox.scrollTop = textBox.scrollHeight;
  wrongLine.replaceChildren(...(g && g.pending.length > 0 ? ['Wrong here: ', ...g.pending.map((c) => el('span', { class: 'chip' }, show(c)))] : []));
  feedback.textContent = view.feedback?.text ?? '';
  feedback.className = view.feedback ? `feedback ${view.feedback.kind}` : 'feedback';

  const model = s?.model;
  const row = (label: string, you: string, it: string) => el('tr', {}, el('th', { scope: 'row' }, label), el('td', {}, you), el('td', {}, it));
  summary.replaceChildren(
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        el('th', {}, ''),
        el('th', { scope: 'col' }, 'You'),
        el('th', { scope: 'col' }, `Model: ${view.model.name ?? '…'}${view.model.error ? ' (cannot play)' : ''}`),
      ),
    ),
    el(
      'tbody',
      {},
      row('Characters played', String(s?.played ?? 0), String(model?.played ?? 0)),
      row(
        'Upper bound (bits/char)',
        bound(s && s.played ? s.person.bounds : undefined, 'upper'),
        bound(model && model.played ? model.bounds : undefined, 'upper'),
      ),
      row(
        'Lower bound (bits/char)',
        bound(s && s.played ? s.person.bounds : undefined, 'lower'),
        bound(model && model.played ? model.bounds : undefined, 'lower'),
      ),
      row('Cross-entropy (bits/char)', '–', bits(model?.bitsPerChar)),
      row(
        'Right at the first guess',
        s && s.played ? `${Math.round(s.person.q[0] * 100)}%` : '–',
        model && model.played ? `${Math.round(model.q[0] * 100)}%` : '–',
      ),
    ),
  );
  renderBoundsNote(s && s.played ? s.person.bounds : undefined, model && model.played ? model.bounds : undefined, s?.played ?? 0);
  progress.textContent = view.model.error
    ? `The model could not play: ${view.model.error}`
    : view.model.total > 0
      ? `The model has played ${view.model.computed} of ${view.model.total} characters${view.model.computed < view.model.total ? '…' : '.'}${playClock.timeLeft(view.model.computed, view.model.total)} ` +
        `Its cross-entropy over them: ${bits(view.model.bitsPerChar)} bits/char.${s && s.played ? ' The columns compare the characters you have played.' : ''}`
      : '';
  pooled.textContent = view.pooled.length
    ? 'All your saved games: ' +
      view.pooled
        .map((p) => `${ALPHABET_LABELS[p.alphabet]}: ${plural(p.played, 'character')} in ${plural(p.games, 'game')}, ${boundsText(p.bounds)}`)
        .join('; ')
    : '';

  // q_i up to the largest guess count seen (at least 5), for the person and the model.
  const k = s ? s.person.q.reduce((m, q, i) => (q > 0 || (model?.q[i] ?? 0) > 0 ? Math.max(m, i + 1) : m), 5) : 5;
  chart.data.labels = Array.from({ length: k }, (_, i) => String(i + 1));
  chart.data.datasets = [
    { label: 'You', data: s ? s.person.q.slice(0, k) : [], backgroundColor: themeColor('--vscode-charts-blue', '#3794ff') },
    { label: `Model (${view.model.name ?? '…'})`, data: model ? model.q.slice(0, k) : [], backgroundColor: themeColor('--vscode-charts-orange', '#d18616') },
  ];
  chart.update();
  canvas.setAttribute(
    'aria-label',
    s
      ? `q_i for guesses 1 to ${k}: you ${s.person.q
          .slice(0, k)
          .map((x) => x.toFixed(2))
          .join(', ')}`
      : 'no guesses yet',
  );

  recent.replaceChildren(
    el('caption', {}, 'Character by character (newest first)'),
    el(
      'thead',
      {},
      el('tr', {}, ...['#', 'Character', 'Your guesses', 'Wrong guesses', 'Model guesses', 'Model bits'].map((h) => el('th', { scope: 'col' }, h))),
    ),
    el(
      'tbody',
      {},
      ...view.recent.map((r) =>
        el(
          'tr',
          {},
          el('td', {}, String(r.position)),
          el('td', { class: 'char' }, show(r.char)),
          el('td', {}, String(r.guesses)),
          el('td', { class: 'char' }, [...r.wrong].map(show).join(' ')),
          el('td', {}, r.modelRank === undefined ? '…' : String(r.modelRank)),
          el('td', {}, bits(r.modelBits)),
        ),
      ),
    ),
  );
}

/** Why starred estimates are not bounds yet, and when they will be. */
function renderBoundsNote(you: BoundsReading | undefined, model: BoundsReading | undefined, played: number): void {
  const pending = (
    [
      ['you', you],
      ['the model', model],
    ] as const
  ).flatMap(([who, reading]) => (reading?.kind === 'estimates' ? [{ who, reading }] : []));
  boundsNote.hidden = pending.length === 0;
  if (pending.length === 0) return;
  boundsNote.textContent = estimatesNote(pending, played);
}

window.addEventListener('message', (e: MessageEvent<ToPanel>) => {
  if (e.data?.type === 'view') render(e.data.view);
});
send({ type: 'ready' });
guessField.focus();
