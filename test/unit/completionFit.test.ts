/**
 * Completions that fit the text around them (seams, next word, blank lines), and a heat-map
 * that keeps its work across edits (what to score after an edit) and explains its colours.
 */
import * as assert from 'assert';
import { blankLineStop, generate } from '../../src/core/generation';
import { legendRows, type HeatmapSettings } from '../../src/editor/heatmapBuckets';
import { InlineCompletionEngine } from '../../src/editor/inlineEngine';
import { offsetAfterEdits, planRescore, rangesBefore, rangesToScore, ScopeHistory, scopeAfterEdits, scoredEnd } from '../../src/editor/rescorePlan';
import { fitCompletion } from '../../src/editor/seam';
import { loadModel } from '../../src/node/modelLoader';
import { TableModel } from './helpers';

describe('completions fit the text around them', function () {
  this.timeout(60_000);

  it('joins the whitespace at the seam once, and separates a completion from the next word', () => {
    assert.strictEqual(fitCompletion('the mouse ate the ', ' cheese', ''), 'cheese');
    assert.strictEqual(fitCompletion('the mouse ate the\t', '  cheese', ''), 'cheese');
    assert.strictEqual(fitCompletion('the mouse ate the', ' cheese', ''), ' cheese');
    // Before a word: a separating space instead of "grandfatherhas".
    assert.strictEqual(fitCompletion('and his ', ' grandfather', 'has gone'), 'grandfather ');
    assert.strictEqual(fitCompletion('and his ', ' grandfather,', 'has gone'), 'grandfather, ');
    assert.strictEqual(fitCompletion('and his ', ' grandfather.', 'Has gone'), 'grandfather. ');
    assert.strictEqual(fitCompletion('and his ', ' grandfather"', 'has gone'), 'grandfather" ');
    // What opens joins the word: "(has", "well-has".
    assert.strictEqual(fitCompletion('and his ', ' grandfather (', 'has gone'), 'grandfather (');
    assert.strictEqual(fitCompletion('and his ', ' well-', 'known'), 'well-');
    assert.strictEqual(fitCompletion('and his ', ' line\n', 'has gone'), 'line\n');
    assert.strictEqual(fitCompletion('and his ', ' grandfather ', ' has gone'), 'grandfather');
    assert.strictEqual(fitCompletion('naïve ', ' café', 'été'), 'café ');
    // Line breaks are the text's own: kept.
    assert.strictEqual(fitCompletion('end. ', '\nNext', ''), '\nNext');
    assert.strictEqual(fitCompletion('end.\n', ' indented', ''), ' indented');
    assert.strictEqual(fitCompletion('a ', '   ', 'b'), '');
  });

  it('finds where a run of blank lines ends a completion', () => {
    assert.strictEqual(blankLineStop('The end.\n\nChapter'), 8);
    assert.strictEqual(blankLineStop('The end.\n  \r\n\n\n'), 8);
    assert.strictEqual(blankLineStop('one\ntwo\nthree'), -1);
    // A paragraph break before any text is allowed; a second blank line is not.
    assert.strictEqual(blankLineStop('\n\nChapter one'), -1);
    assert.strictEqual(blankLineStop('\n\n\n'), 0);
    assert.strictEqual(blankLineStop('\n\n\n\n\n\n\n\n'), 0);
  });

  it('ends generation at a blank line after text, keeping the tokens before it', async () => {
    // A toy model that writes "ab", then blank lines for ever.
    const model = new TableModel(
      ['<s>', '</s>', 'a', 'b', '\n'],
      [
        [0, 0, 1, 0, 0],
        [0, 1, 0, 0, 0],
        [0, 0, 0, 1, 0],
        [0, 0, 0, 0, 1],
        [0, 0, 0, 0, 1],
      ],
    );
    const [plain] = await generate(model, 'a', { maxTokens: 20, temperature: 0 });
    assert.strictEqual(plain.text, 'b' + '\n'.repeat(19));
    const [stopped] = await generate(model, 'a', { maxTokens: 20, temperature: 0, stopAtBlankLine: true });
    assert.strictEqual(stopped.text, 'b');
    assert.strictEqual(stopped.finishReason, 'stop');
    // Which rule stopped it, as the quick pick says (drive20 M2: a blank line was called a stop sequence).
    assert.strictEqual(stopped.stopKind, 'blank line');
    const [bySequence] = await generate(model, 'a', { maxTokens: 20, temperature: 0, stopAtBlankLine: true, stopSequences: ['b'] });
    assert.deepStrictEqual([bySequence.text, bySequence.finishReason, bySequence.stopKind], ['', 'stop', 'stop sequence']);
    const [laterSequence] = await generate(model, 'a', { maxTokens: 20, temperature: 0, stopAtBlankLine: true, stopSequences: ['\n\n\n'] });
    assert.deepStrictEqual([laterSequence.text, laterSequence.stopKind], ['b', 'blank line']);
    assert.strictEqual(plain.stopKind, undefined);
    assert.deepStrictEqual(
      stopped.tokens.map((t) => t.text),
      ['b'],
    );
    // Blank lines only: an empty completion after the second blank line, not twenty lines.
    const [empty] = await generate(model, '\n', { maxTokens: 20, temperature: 0, stopAtBlankLine: true });
    assert.strictEqual(empty.text, '');
    assert.ok(model.calls < 40, `stopped early (${model.calls} model calls)`);
  });

  it('a model in this thread still lets a Stop in: generation gives the event loop a turn', async () => {
    const model = new TableModel(
      ['<s>', '</s>', 'a', 'b'],
      [
        [0, 0, 0.5, 0.5],
        [0, 1, 0, 0],
        [0, 0, 0.5, 0.5],
        [0, 0, 0.5, 0.5],
      ],
    );
    const signal = { cancelled: false };
    // A timer is how a Stop click reaches the extension host: it must fire during generation.
    setTimeout(() => (signal.cancelled = true), 20);
    const maxTokens = 300_000;
    await assert.rejects(generate(model, 'a', { maxTokens, temperature: 1, seed: 1 }, { signal }), /cancelled/i);
    assert.ok(model.calls < maxTokens / 2, `stopped after ${model.calls} tokens`);
  });

  it('inline suggestions after a space do not start with another space, and before a word end with one', async () => {
    const model = await loadModel('ngram-classics');
    const engine = new InlineCompletionEngine(
      async () => model,
      () => ({ debounceMs: 0, maxTokens: 16, temperature: 0, stopAtLineEnd: true, maxWords: 3, stopSequences: [] }),
    );
    const ask = (prompt: string, after: string) =>
      engine.suggest(
        { doc: prompt + '|' + after, offset: prompt.length, prompt, atStart: true, textBefore: prompt, after, manual: true },
        new AbortController().signal,
      );
    const bare = await ask('It was the best of times, it was the', '');
    assert.ok(bare && bare.text.startsWith(' '), `the model predicts the space after a word: ${JSON.stringify(bare?.text)}`);
    const spaced = await ask('It was the best of times, it was the ', '');
    assert.ok(spaced && !spaced.text.startsWith(' '), `no second space: ${JSON.stringify(spaced?.text)}`);
    const beforeWord = await ask('It was the best of times, it was the ', 'has');
    assert.ok(beforeWord && / $/.test(beforeWord.text) && /\S/.test(beforeWord.text), `a space before "has": ${JSON.stringify(beforeWord?.text)}`);
  });
});

describe('heat-map: work kept across edits, and a legend', () => {
  const tokens = (s: string) => [...s].map((c, i) => ({ id: c.charCodeAt(0), text: c, start: i, length: 1 }));

  it('after an edit scores the changed tokens and those never scored, nothing else', () => {
    // 10 000 tokens, scored up to 4 000 when a keystroke came at 9 000.
    const before = tokens('a'.repeat(9000) + 'b'.repeat(1000));
    const after = tokens('a'.repeat(9000) + 'x' + 'b'.repeat(1000));
    const plan = planRescore(before, after, 3);
    const oldScored = (i: number) => i >= 1 && i < 4000;
    // Kept scores as the heat-map copies them: before the plan, and after it with the shift.
    const scored = (i: number) => (i < plan.from ? oldScored(i) : i >= plan.to ? oldScored(i + plan.shift) : false);
    const ranges = rangesToScore(after.length, scored, plan);
    assert.deepStrictEqual(ranges, [[4000, after.length]], 'continues where the scoring stopped, and covers the edit');
    // Fully scored before: only the edit and the context after it.
    const all = rangesToScore(after.length, (i) => (i < plan.from ? true : i >= plan.to ? true : false), plan);
    assert.deepStrictEqual(all, [[plan.from, plan.to]]);
    assert.ok(plan.to - plan.from <= 4, JSON.stringify(plan));
    // A gap before the edit and one after it: both, in order, disjoint.
    const gaps = rangesToScore(after.length, (i) => !((i >= 100 && i < 200) || i >= 9500), plan);
    assert.deepStrictEqual(gaps, [
      [100, 200],
      [plan.from, plan.to],
      [9500, after.length],
    ]);
  });

  it('a heat-map the user stopped: rescoring stays before where it stopped, which moves with edits (hostile13 L5)', () => {
    assert.deepStrictEqual(
      rangesBefore(
        [
          [1, 50],
          [60, 200],
          [300, 400],
        ],
        100,
      ),
      [
        [1, 50],
        [60, 100],
      ],
    );
    assert.deepStrictEqual(rangesBefore([[1, 50]], 0), []);
    const toks = [
      { start: 0, length: 3 },
      { start: 3, length: 4 },
      { start: 7, length: 5 },
    ];
    assert.strictEqual(
      scoredEnd(toks, (i) => i < 2),
      7,
    );
    assert.strictEqual(
      scoredEnd(toks, () => false),
      0,
    );
    const edit = (rangeOffset: number, rangeLength: number, text: string) => ({ rangeOffset, rangeLength, text });
    assert.strictEqual(offsetAfterEdits(100, [edit(10, 0, 'abc')]), 103, 'an insertion before it');
    assert.strictEqual(offsetAfterEdits(100, [edit(10, 5, '')]), 95, 'a deletion before it');
    assert.strictEqual(offsetAfterEdits(100, [edit(100, 0, 'x')]), 100, 'typing where it stopped is after it');
    assert.strictEqual(offsetAfterEdits(100, [edit(150, 3, 'xy')]), 100, 'an edit after it');
    assert.strictEqual(offsetAfterEdits(100, [edit(90, 20, 'ab')]), 90, 'an edit across it: its new text is after it (hostile14 L2)');
    // The undo of that edit brings the old text back after it, not before (hostile14 M1).
    assert.strictEqual(offsetAfterEdits(offsetAfterEdits(100, [edit(90, 20, 'X')]), [edit(90, 1, 'twenty characters...')]), 90);
    // Several cursors: offsets of the text before the edits, however VS Code orders them.
    assert.strictEqual(offsetAfterEdits(100, [edit(10, 0, 'a'), edit(50, 2, ''), edit(120, 0, 'b')]), 99);
    assert.strictEqual(offsetAfterEdits(100, [edit(120, 0, 'b'), edit(50, 2, ''), edit(10, 0, 'a')]), 99);
  });

  it("a selection's heat-map scope follows the text it covered through edits", () => {
    const edit = (rangeOffset: number, rangeLength: number, text: string) => ({ rangeOffset, rangeLength, text });
    // Text 0..100, the scope [40, 60) (a selection of its characters 40-59).
    const after = (...changes: ReturnType<typeof edit>[]) => scopeAfterEdits(40, 60, changes);
    assert.deepStrictEqual(after(edit(10, 0, 'abc')), { start: 43, end: 63 }, 'typing before it moves it');
    assert.deepStrictEqual(after(edit(40, 0, 'ab')), { start: 42, end: 62 }, 'typing at its start is before it');
    assert.deepStrictEqual(after(edit(50, 5, 'x')), { start: 40, end: 56 }, 'an edit inside it');
    assert.deepStrictEqual(after(edit(60, 0, 'xy')), { start: 40, end: 62 }, 'typing at its end extends it');
    assert.deepStrictEqual(after(edit(70, 5, '')), { start: 40, end: 60 }, 'an edit after it');
    // Deleting after it, from its end, leaves it whole (it used to shrink by the deletion's length).
    assert.deepStrictEqual(after(edit(60, 10, '')), { start: 40, end: 60 });
    // Deleting across its start: what is left of the selection starts where the deletion began (hostile22).
    assert.deepStrictEqual(after(edit(30, 15, '')), { start: 30, end: 45 });
    assert.deepStrictEqual(after(edit(30, 15, 'new')), { start: 30, end: 48 }, 'the text typed over its start is in it');
    assert.deepStrictEqual(after(edit(55, 15, 'z')), { start: 40, end: 56 }, 'across its end: up to the new text');
    assert.deepStrictEqual(after(edit(30, 40, 'all')), { start: 30, end: 33 }, 'over all of it: the new text');
    assert.deepStrictEqual(after(edit(30, 40, '')), { start: 30, end: 30 });
    // Several cursors, in either order VS Code lists them.
    assert.deepStrictEqual(after(edit(10, 0, 'a'), edit(45, 2, ''), edit(80, 0, 'b')), { start: 41, end: 59 });
    assert.deepStrictEqual(after(edit(80, 0, 'b'), edit(45, 2, ''), edit(10, 0, 'a')), { start: 41, end: 59 });
  });

  it("a selection's heat-map scope comes back with the text an undo or redo brings back (hostile23 M2, hostile24 M1)", () => {
    type Change = { rangeOffset: number; rangeLength: number; text: string };
    const edit = (rangeOffset: number, rangeLength: number, text: string): Change => ({ rangeOffset, rangeLength, text });
    /** A document with a selection heat-map on [4, 20) ("garden was quiet"), edited as VS Code reports it. */
    const start = () => {
      let text = 'The garden was quiet. He sat down on the bench.';
      let scope = { start: 4, end: 20 };
      const history = new ScopeHistory(scope, text);
      return (changes: Change[], reason?: 'undo' | 'redo') => {
        // Offsets of the text before the changes: applied from the end.
        for (const c of [...changes].sort((a, b) => b.rangeOffset - a.rangeOffset))
          text = text.slice(0, c.rangeOffset) + c.text + text.slice(c.rangeOffset + c.rangeLength);
        scope = history.apply(scope, changes, text, reason);
        return text.slice(scope.start, scope.end);
      };
    };
    // Delete "et. He" across its end, undo, redo, undo: "garden was quiet", never "... quiet. He".
    let doc = start();
    assert.strictEqual(doc([edit(18, 6, '')]), 'garden was qui');
    assert.strictEqual(doc([edit(18, 0, 'et. He')], 'undo'), 'garden was quiet');
    assert.strictEqual(doc([edit(18, 6, '')], 'redo'), 'garden was qui');
    assert.strictEqual(doc([edit(18, 0, 'et. He')], 'undo'), 'garden was quiet');
    // Delete "The gard" across its start and undo: from "garden" again, not from "en".
    assert.strictEqual(doc([edit(0, 8, '')]), 'en was quiet');
    assert.strictEqual(doc([edit(0, 0, 'The gard')], 'undo'), 'garden was quiet');
    // Typing over its start then puts the typed text in it, as on a fresh heat-map.
    assert.strictEqual(doc([edit(0, 8, 'XY')]), 'XYen was quiet');
    // "QR" typed over "et. He" one key at a time, undone as one step (hostile24 M1).
    doc = start();
    assert.strictEqual(doc([edit(18, 6, 'Q')]), 'garden was quiQ');
    assert.strictEqual(doc([edit(19, 0, 'R')]), 'garden was quiQR');
    assert.strictEqual(doc([edit(18, 2, 'et. He')], 'undo'), 'garden was quiet');
    assert.strictEqual(doc([edit(18, 6, 'QR')], 'redo'), 'garden was quiQR');
    // Several undos in a row: a deletion across its end, then "xy" typed inside.
    doc = start();
    doc([edit(18, 6, '')]);
    doc([edit(10, 0, 'x')]);
    assert.strictEqual(doc([edit(11, 0, 'y')]), 'gardenxy was qui');
    assert.strictEqual(doc([edit(10, 2, '')], 'undo'), 'garden was qui');
    assert.strictEqual(doc([edit(18, 0, 'et. He')], 'undo'), 'garden was quiet');
    // Two cursors, one at its end, and the undo of both.
    doc = start();
    assert.strictEqual(doc([edit(12, 0, 'Q'), edit(20, 0, 'Q')]), 'garden wQas quietQ');
    assert.strictEqual(doc([edit(12, 1, ''), edit(21, 1, '')], 'undo'), 'garden was quiet');
    // An undo to a text it never saw follows the edge rules.
    doc = start();
    assert.strictEqual(doc([edit(25, 3, '')], 'undo'), 'garden was quiet');
  });

  it('a transformer scored in windows keeps the scores of tokens a window past the edit', () => {
    const before = tokens('a'.repeat(5000));
    const after = tokens('a'.repeat(100) + 'x' + 'a'.repeat(4900));
    const plan = planRescore(before, after, 128);
    assert.deepStrictEqual([plan.from, plan.to], [100, 101 + 128]);
  });

  it('the legend says what each colour means with the current thresholds and mode', () => {
    const s: HeatmapSettings = { mode: 'rank', rankThresholds: [5, 50, 500], probabilityThresholds: [0.2, 0.02, 0.002] };
    const rows = legendRows(s);
    assert.deepStrictEqual(
      rows.map((r) => r.colour),
      ['green', 'yellow', 'red', 'purple'],
    );
    assert.match(rows[0].range, /^rank 1 to 5\b/);
    assert.strictEqual(rows[1].range, 'rank 6 to 50');
    assert.strictEqual(rows[2].range, 'rank 51 to 500');
    assert.match(rows[3].range, /^rank above 500/);
    const p = legendRows({ ...s, mode: 'probability' });
    assert.deepStrictEqual(
      p.map((r) => r.range.split(':')[0]),
      ['p ≥ 0.2', '0.02 ≤ p < 0.2', '0.002 ≤ p < 0.02', 'p < 0.002'],
    );
  });
});
