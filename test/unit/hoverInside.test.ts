/** The hover's share of issue 16: the n-gram line (its factors make the hover's p) and the "continue with" links. */
import * as assert from 'assert';
import { LN10 } from '../../src/core/logMath';
import { hoverMarkdown } from '../../src/editor/hoverContent';
import { hoverFactsAt, windowContextStart, type ScoredSequence } from '../../src/editor/hoverFacts';
import { loadModel } from '../../src/node/modelLoader';

describe('hover: n-gram line and continue-with links', () => {
  it('ngram-classics: the n-gram line’s trace gives the hover’s p; a link per alternative but the token itself', async function () {
    this.timeout(60_000);
    const model = await loadModel('ngram-classics');
    const text = 'the mouse ate the cheese';
    const seq: ScoredSequence = { tokens: model.tokenizer.encode(text, true, 0), fromDocumentStart: true, contextStart: windowContextStart(model) };
    const facts = (await hoverFactsAt(model, seq, text.lastIndexOf('the') + 1, { text, start: 0 }, 5))!;
    assert.ok(facts.ngram, 'an n-gram model explains its p');
    assert.ok(Math.abs(facts.ngram.log10Total * LN10 - facts.logProb) < 1e-9, `${facts.ngram.log10Total * LN10} vs ${facts.logProb}`);
    const asked: number[] = [];
    const md = hoverMarkdown(facts, undefined, (a) => {
      asked.push(a.id);
      return `command:x?${a.id}`;
    });
    assert.match(md, /\*\*n-gram\*\*: \d\\-gram of a 4\\-gram model/);
    const others = facts.alternatives.filter((a) => a.id !== facts.id);
    assert.deepStrictEqual(
      asked,
      others.map((a) => a.id),
    );
    for (const a of others) assert.ok(md.includes(`](command:x?${a.id})`), `a link for ${a.text}`);
    assert.ok(!md.includes(`command:x?${facts.id})`), 'no link to the token already there');
    // No links where none are asked for (and none for a character of byte tokens).
    assert.doesNotMatch(hoverMarkdown(facts), /Continue with/);
    assert.doesNotMatch(
      hoverMarkdown(
        {
          ...facts,
          bytes: [
            { text: 'a', logProb: -1 },
            { text: 'b', logProb: -1 },
          ],
        },
        undefined,
        () => 'command:x',
      ),
      /Continue with/,
    );
    // A read-only document: no links, and the hover says why before anything is generated.
    const readOnly = hoverMarkdown(facts, undefined, (a) => `command:x?${a.id}`, 'files.readonlyInclude');
    assert.doesNotMatch(readOnly, /command:x/);
    assert.match(readOnly, /No “continue with” here: the document is read-only \(files\\?\.readonlyInclude\)/);
  });

  it('a neural model has no n-gram line', async function () {
    this.timeout(60_000);
    const model = await loadModel('gpt-classics');
    try {
      const text = 'the mouse ate the cheese';
      const seq: ScoredSequence = { tokens: model.tokenizer.encode(text, true, 0), fromDocumentStart: true, contextStart: windowContextStart(model) };
      const facts = (await hoverFactsAt(model, seq, text.lastIndexOf('cheese') + 1, { text, start: 0 }, 5))!;
      assert.strictEqual(facts.ngram, undefined);
      assert.doesNotMatch(hoverMarkdown(facts), /n-gram/);
    } finally {
      model.dispose?.();
    }
  });
});
