/**
 * Where a text window's tokens are not given the whole document's windows (past the counted
 * characters, or a window not found among the document's tokens), the hover, a selection's
 * heat-map and the status bar say so (hostile30 1: one token far into a 10 MB file had three
 * numbers and nothing said why).
 */
import * as assert from 'assert';
import type { LanguageModel } from '../../src/core/model';
import { MAX_COUNTED_CHARS } from '../../src/core/documentTokenIndex';
import { hoverMarkdown, type HoverFacts } from '../../src/editor/hoverContent';
import { HOVER_GIVEN, SCOPE_GIVEN, unplacedNote } from '../../src/editor/unplacedNote';
import { metricsTooltipMarkdown } from '../../src/vscode/metricsTooltip';
import { loadModel } from '../../src/node/modelLoader';

describe("a text window not in the document's windows is said to be so (hostile30 1)", function () {
  this.timeout(120_000);
  let neural: LanguageModel;
  let ngram: LanguageModel;
  before(async () => {
    neural = await loadModel('gpt-classics');
    ngram = await loadModel('ngram-classics');
  });
  after(async () => {
    await neural?.dispose?.();
    await ngram?.dispose?.();
  });

  const far = { startOffset: MAX_COUNTED_CHARS + 12_345, atStart: false };
  const near = { startOffset: 40_000, atStart: false };

  it('past the counted characters: why, from which line, and that lmp score can differ', () => {
    const note = unplacedNote(far, { line: 197_051, column: 1 }, neural, undefined, HOVER_GIVEN);
    assert.ok(note, 'a note');
    assert.match(note, /past the document's first 2,000,000 characters its tokens are not counted/);
    assert.match(note, /as many of the tokens before it as the model's window holds, read from line 197,051 on/);
    assert.match(note, /lmp score of the file.*can give other numbers/);
    assert.match(
      unplacedNote(far, { line: 197_051, column: 1 }, neural, undefined, SCOPE_GIVEN) ?? '',
      /its tokens are scored in windows counted from line 197,051 on/,
    );
  });

  it('a window that starts inside a long line names its column too (hostile31 F1)', () => {
    const note = unplacedNote(far, { line: 37_028, column: 98_301 }, neural, undefined, HOVER_GIVEN) ?? '';
    assert.match(note, /read from line 37,028, column 98,301 on/);
    assert.match(
      unplacedNote(near, { line: 37_028, column: 98_301 }, neural, undefined, SCOPE_GIVEN) ?? '',
      /^the text from line 37,028, column 98,301 was not found/,
    );
  });

  it('a window within them that was not placed says that instead', () => {
    assert.match(
      unplacedNote(near, { line: 812, column: 1 }, neural, undefined, SCOPE_GIVEN) ?? '',
      /^the text from line 812 was not found among the document's tokens, so/,
    );
  });

  it("nothing where the windows are the document's, or where it makes no difference", () => {
    assert.strictEqual(unplacedNote(far, { line: 9, column: 1 }, neural, { head: [], skip: 0, before: 500_000 }, HOVER_GIVEN), undefined, 'placed');
    assert.strictEqual(
      unplacedNote({ startOffset: 0, atStart: true }, { line: 1, column: 1 }, neural, undefined, HOVER_GIVEN),
      undefined,
      "the document's start",
    );
    // An n-gram model's numbers do not depend on where windows start.
    assert.strictEqual(unplacedNote(far, { line: 9, column: 1 }, ngram, undefined, HOVER_GIVEN), undefined, 'an n-gram model');
  });

  it('the hover and the status bar show it', () => {
    const note = unplacedNote(far, { line: 197_051, column: 1 }, neural, undefined, HOVER_GIVEN)!;
    const facts: HoverFacts = {
      id: 3,
      text: ' brother',
      logProb: Math.log(0.00125),
      rank: 152,
      vocabSize: 4096,
      alternatives: [],
      oov: false,
      modelName: 'gpt-classics',
      context: { tokens: 127, whole: false },
      contextNote: note,
    };
    // As it is drawn: without Markdown's escapes.
    const md = hoverMarkdown(facts).replace(/\\(.)/g, '$1');
    assert.ok(md.includes("**Not the document's windows**: past the document's first 2,000,000 characters"), md);
    assert.ok(md.indexOf('Not the document') > md.indexOf('given the 127 tokens before it'), 'after the numbers it is about');
    assert.ok(!hoverMarkdown({ ...facts, contextNote: undefined }).includes('Not the document'));
    const tooltip = metricsTooltipMarkdown({
      modelName: 'gpt-classics',
      scope: 'selection',
      summary: { bitsPerChar: 1.35, bitsPerToken: 4.8, perplexity: 27.9, tokens: 524, chars: 1875 },
      elapsedMs: 630,
      note: unplacedNote(far, { line: 197_051, column: 1 }, neural, undefined, SCOPE_GIVEN),
    }).replace(/\\(.)/g, '$1');
    assert.match(tooltip, /\*\*Not the document's windows\*\*: past the document's first 2,000,000 characters .*windows counted from line 197,051 on/);
  });
});
