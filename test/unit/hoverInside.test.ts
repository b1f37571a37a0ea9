/** The hover's share of issue 16: the n-gram line (its factors make the hover's p) and the "continue with" links. */
import * as assert from 'assert';
import { LN10 } from '../../src/core/logMath';
import MarkdownIt from 'markdown-it';
import { marked } from 'marked';
import { checkContinueWithArgs, clusterCutBy, continueWithCommandUri } from '../../src/editor/continueWithLink';
import { hoverMarkdown, type HoverFacts } from '../../src/editor/hoverContent';
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
    const readOnly = hoverMarkdown(facts, undefined, (a) => `command:x?${a.id}`, 'the document is read-only (files.readonlyInclude)');
    assert.doesNotMatch(readOnly, /command:x/);
    assert.match(readOnly, /No “continue with” here: the document is read\\?-only \\?\(files\\?\.readonlyInclude\\?\)/);
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

describe('hover: continue-with links are whole links, whatever the tokens and the file name', () => {
  // A token's text and a file name hold what a Markdown link must not see raw.
  const hostile = [
    ')',
    '(',
    '`',
    '](command:workbench.action.files.newUntitledFile)',
    '</script><img/src=x/onerror=alert(1)>',
    '[x](https://example.com)',
    '\\',
    '*',
    // Drive round 5: an unbalanced bracket inside the link's code span broke the link in VS Code's renderer.
    '3[ sortpving',
    ']',
    '[',
  ];
  const facts: HoverFacts = {
    modelName: 'm',
    text: 'b',
    id: 0,
    logProb: -1,
    rank: 1,
    vocabSize: 10,
    oov: false,
    context: { tokens: 3, whole: true },
    alternatives: [{ id: 0, text: 'b', logProb: -1 }, ...hostile.map((text, i) => ({ id: i + 1, text, logProb: -2 - i }))],
  };
  const uri = 'file:///tmp/notes%20:).txt';

  it('each alternative gives one link whose command argument is that alternative, and nothing else is a link', () => {
    const md = hoverMarkdown(facts, undefined, (a) =>
      continueWithCommandUri('lmPlayground.continueWith', { uri, version: 3, start: 2, length: 1, text: a.text }),
    );
    // Rendered by markdown-it (VS Code's Markdown preview) and by marked (its hovers' renderer).
    const links = new MarkdownIt({ html: false })
      .parseInline(md, {})
      .flatMap((t) => t.children ?? [])
      .filter((t) => t.type === 'link_open')
      .map((t) => t.attrGet('href')!);
    assert.strictEqual(links.length, hostile.length, links.join('\n'));
    const html = marked.parseInline(md, { async: false });
    const hrefs = [...html.matchAll(/<a href="([^"]*)"/g)].map((m) => m[1].replace(/&amp;/g, '&'));
    assert.strictEqual(hrefs.length, hostile.length, html);
    assert.deepStrictEqual(hrefs.map(decodeURIComponent), links.map(decodeURIComponent));
    links.forEach((href, i) => {
      const m = /^command:lmPlayground\.continueWith\?(.*)$/.exec(href);
      assert.ok(m, href);
      assert.deepStrictEqual(JSON.parse(decodeURIComponent(m[1])), [{ uri, version: 3, start: 2, length: 1, text: hostile[i] }]);
      assert.deepStrictEqual(checkContinueWithArgs(JSON.parse(decodeURIComponent(m[1]))[0]).text, hostile[i]);
    });
  });

  it('a link without its argument, or a wrong one, is refused with a message', () => {
    for (const bad of [undefined, null, 'x', {}, { uri: 'u', version: 1, start: -1, length: 1, text: 'a' }, { uri: 'u', version: 1, start: 0, length: 1 }])
      assert.throws(() => checkContinueWithArgs(bad), /this “continue with” link is malformed/);
  });

  it('a token inside a character drawn as one glyph (ZWJ emoji, flag, combining accent) is found; whole characters are not', () => {
    const text = 'The family 👨‍👩‍👧 went to the café́ and the 🏳️‍🌈 flag';
    const family = text.indexOf('👨');
    // " 👨": the space and the man, before the ZWJ that joins him to the rest of the family.
    assert.strictEqual(clusterCutBy(text, family - 1, family + 2), '👨‍👩‍👧');
    assert.strictEqual(clusterCutBy(text, family - 1, family + '👨‍👩‍👧'.length), undefined);
    const flag = text.indexOf('🏳');
    assert.strictEqual(clusterCutBy(text, flag, flag + 2), '🏳️‍🌈');
    const accent = text.indexOf('é́');
    assert.strictEqual(clusterCutBy(text, accent, accent + 1), 'é́');
    assert.strictEqual(clusterCutBy(text, 0, 3), undefined);
    // The hover says why it has no links.
    const md = hoverMarkdown(facts, undefined, () => 'command:x', 'the token is part of the character 👨‍👩‍👧');
    assert.doesNotMatch(md, /command:x/);
    assert.match(md, /No “continue with” here: the token is part of the character 👨‍👩‍👧/);
  });
});
