/** How numbers read on screen: probabilities, bits, visible whitespace, the hover's word view. */
import * as assert from 'assert';
import { formatBits, formatProbability, surprisalBits, visibleToken, whitespaceLegend } from '../../src/core/numberFormat';
import type { LanguageModel } from '../../src/core/model';
import { hoverMarkdown, type HoverFacts } from '../../src/editor/hoverContent';
import { MAX_WORD_TOKENS, scoreWord, wordAround, wordLogProb, wordTokenRange } from '../../src/editor/wordView';
import { loadModel } from '../../src/node/modelLoader';
import { metricsTooltipMarkdown } from '../../src/vscode/metricsTooltip';

describe('probabilities on screen', () => {
  it('are percentages with 3 significant digits, and powers of ten of a percentage below 0.01 %', () => {
    assert.strictEqual(formatProbability(0.452), '45.2%');
    assert.strictEqual(formatProbability(1), '100%');
    assert.strictEqual(formatProbability(0.001), '0.100%');
    assert.strictEqual(formatProbability(0.000123), '0.0123%');
    assert.strictEqual(formatProbability(1e-4), '0.0100%');
    // The issue's 4.68e-6: the same unit (%) as every other p, not a bare number.
    assert.strictEqual(formatProbability(4.68e-6), '4.68×10⁻⁴%');
    assert.strictEqual(formatProbability(3e-12), '3.00×10⁻¹⁰%');
    assert.strictEqual(formatProbability(0), '0%');
    assert.strictEqual(formatProbability(NaN), '–');
  });

  it('surprisal is −log₂ p in bits', () => {
    assert.strictEqual(surprisalBits(Math.log(0.25)), 2);
    assert.strictEqual(formatBits(surprisalBits(Math.log(0.5))), '1.00 bits');
    assert.strictEqual(formatBits(surprisalBits(-Infinity)), '∞ bits');
  });

  it('draws whitespace visibly and names the symbols used', () => {
    assert.strictEqual(visibleToken(' the\n\t'), '␣the⏎⇥');
    assert.strictEqual(visibleToken('a\u0001'), 'a\\u0001');
    assert.strictEqual(whitespaceLegend([' the', 'cat']), '␣ = space');
    assert.strictEqual(whitespaceLegend(['\n', ' x']), '␣ = space, ⏎ = line break');
    assert.strictEqual(whitespaceLegend(['cat']), '');
  });
});

describe("the status bar's tooltip", () => {
  it('gives bits per character at the status bar\'s precision (2.22, not 2.221 under "2.22 bits/char")', () => {
    const md = metricsTooltipMarkdown({
      modelName: 'gpt-classics',
      scope: 'document',
      summary: { bitsPerChar: 2.2214, bitsPerToken: 7.1234, perplexity: 139.4, tokens: 100, chars: 321 },
      elapsedMs: 3,
    });
    assert.match(md, /\| bits per character \| 2\.22 \|/);
    assert.match(md, /\| bits per token \| 7\.12 \|/);
  });
});

describe('the word view', () => {
  it('finds the word around an offset: letters, digits, apostrophes between letters', () => {
    const text = "the northern king's house, 1951.";
    assert.deepStrictEqual(wordAround(text, 6), { start: 4, end: 12 });
    assert.deepStrictEqual(wordAround(text, 14), { start: 13, end: 19 });
    assert.strictEqual(wordAround(text, 3), undefined);
    assert.deepStrictEqual(wordAround(text, 27), { start: 27, end: 31 });
    assert.deepStrictEqual(wordAround("'tis", 1), { start: 1, end: 4 });
  });

  it('takes every token overlapping the word, two or more, at most MAX_WORD_TOKENS', () => {
    // "the northern" as ["the", " nor", "th", "ern"], the text starting at document offset 100.
    const tokens = [
      { start: 100, length: 3 },
      { start: 103, length: 4 },
      { start: 107, length: 2 },
      { start: 109, length: 3 },
    ];
    assert.deepStrictEqual(wordTokenRange('the northern', 100, tokens, 108), { first: 1, last: 3, start: 104, end: 112 });
    assert.strictEqual(wordTokenRange('the northern', 100, tokens, 101), undefined, 'a one-token word has no word view');
    const long = 'x'.repeat(MAX_WORD_TOKENS + 1);
    const chars = Array.from(long, (_, i) => ({ start: i, length: 1 }));
    assert.strictEqual(wordTokenRange(long, 0, chars, 3), undefined);
    assert.ok(
      wordTokenRange(
        long.slice(1),
        0,
        chars.slice(1).map((t) => ({ ...t, start: t.start - 1 })),
        3,
      ),
    );
  });

  it("gives a sub-word token's word as the product of its tokens' conditional probabilities (gpt-classics)", async function () {
    this.timeout(60000);
    const model: LanguageModel = await loadModel('gpt-classics');
    try {
      const text = 'It was a cold night in the northern hills.';
      const tokens = model.tokenizer.encode(text, true, 0);
      const at = text.indexOf('northern') + 5;
      const word = await scoreWord(model, text, 0, tokens, at);
      assert.ok(word, 'northern is several tokens in a 4,096-token BPE');
      assert.strictEqual(word.text, 'northern');
      assert.strictEqual(
        word.parts
          .map((p) => p.text)
          .join('')
          .trim(),
        'northern',
      );
      assert.ok(word.parts.length >= 2);
      // The same numbers by the other scoring path: the whole sequence at once.
      const first = tokens.findIndex((t) => t.text === word.parts[0].text && t.start + t.length > text.indexOf('northern'));
      const ids = tokens.slice(0, first + word.parts.length).map((t) => t.id);
      const seq = await model.sequenceLogProbs(ids, first);
      word.parts.forEach((p, i) => assert.ok(Math.abs(p.logProb - seq[i]) < 1e-4, `${p.text}: ${p.logProb} vs ${seq[i]}`));
      const md = hoverMarkdown({ ...facts, text: word.parts[1].text, logProb: word.parts[1].logProb, word });
      const product = Math.exp(wordLogProb(word.parts));
      assert.ok(md.includes(`**Word** \`\` northern \`\` = ${word.parts.map((p) => `\`\` ${visibleToken(p.text)} \`\``).join(' + ')}`), md);
      assert.ok(md.includes(`= **${formatProbability(product)}**`), md);
    } finally {
      model.dispose?.();
    }
  });
});

const facts: HoverFacts = {
  id: 5,
  text: ' cheese',
  logProb: Math.log(4.68e-6),
  rank: 1234,
  vocabSize: 41038,
  entropy: Math.log(2) * 6,
  alternatives: [
    { id: 7, text: ' bread', logProb: Math.log(0.2) },
    { id: 8, text: '\n', logProb: Math.log(0.05) },
  ],
  oov: false,
  modelName: 'ngram-classics',
};

describe('the hover', () => {
  it('shows p one way, surprisal and entropy in bits, and no nats', () => {
    const md = hoverMarkdown(facts, { bucket: 'top 10000', colour: 'purple', modelName: 'ngram-classics', rank: 1234, logProb: Math.log(4.68e-6) });
    assert.ok(
      md.startsWith('**Heat-map colour: top 10000** (purple) · rank 1,234'),
      `the heat-map line first, where a scrolling hover cannot cut it off: ${md}`,
    );
    assert.ok(md.includes('p(token | text before) = **4.68×10⁻⁴%**'), md);
    assert.ok(md.includes(`surprisal −log₂ p = ${(-Math.log2(4.68e-6)).toFixed(2)} bits`), md);
    assert.ok(md.includes('entropy 6.00 bits'), md);
    assert.ok(md.includes('| 20.0% |') && md.includes('| 5.00% |'), md);
    assert.ok(!/nats|e-\d/.test(md), `no nats, no 4.68e-6 style: ${md}`);
    assert.ok(md.includes('rank 1,234 · p = 4.68×10⁻⁴%'), md);
  });

  it('draws spaces and line breaks and says what the symbols mean', () => {
    const md = hoverMarkdown(facts);
    assert.ok(md.includes('token `` ␣cheese ``'), md);
    assert.ok(md.includes('`` ⏎ ``'), md);
    assert.ok(md.includes('␣ = space, ⏎ = line break'), md);
    assert.ok(!hoverMarkdown({ ...facts, text: 'cat', alternatives: [] }).includes('= space'));
  });
});
