/** How numbers read on screen: probabilities, bits, visible whitespace, the hover's word view. */
import * as assert from 'assert';
import { formatBits, formatLogProbability, formatProbability, surprisalBits, tokenLegend, visibleToken, whitespaceLegend } from '../../src/core/numberFormat';
import { byteTokenText } from '../../src/core/tokenBytes';
import { describePosition } from '../../src/core/scoring';
import type { LanguageModel } from '../../src/core/model';
import { hoverMarkdown, type HoverFacts } from '../../src/editor/hoverContent';
import { hoverFactsAt, windowContextStart, type ScoredSequence } from '../../src/editor/hoverFacts';
import { MAX_WORD_TOKENS, wordAround, wordLogProb, wordTokenRange } from '../../src/editor/wordView';
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

  it('from ln p: the same format, also below the smallest double (a long path), never 0%', () => {
    for (const p of [0.452, 1e-4, 4.68e-6, 3e-12, 1e-299]) assert.strictEqual(formatLogProbability(Math.log(p)), formatProbability(p));
    // log₂ p = −1140.80 bits: p = 10^−343.42, a percentage of 10^−341.42 = 3.85×10⁻³⁴²%.
    assert.strictEqual(formatLogProbability(-1140.8 * Math.LN2), '3.85×10⁻³⁴²%');
    assert.strictEqual(formatLogProbability(-800 * Math.LN10), '1.00×10⁻⁷⁹⁸%');
    assert.strictEqual(formatLogProbability(-Infinity), '0%');
  });

  it('surprisal is −log₂ p in bits', () => {
    assert.strictEqual(surprisalBits(Math.log(0.25)), 2);
    assert.strictEqual(formatBits(surprisalBits(Math.log(0.5))), '1.00 bits');
    assert.strictEqual(formatBits(surprisalBits(-Infinity)), '∞ bits');
  });

  it('draws whitespace visibly and names the symbols used', () => {
    assert.strictEqual(visibleToken(' the\n\t'), '␣the⏎⇥');
    assert.strictEqual(visibleToken('a\u0001'), 'a\\x01');
    // A carriage return as an escape like the other controls: code-server's hover font drew ␍ as an empty box (drive-gguf5 Low 8).
    assert.strictEqual(visibleToken('end\r\n'), 'end\\r⏎');
    assert.strictEqual(whitespaceLegend(['\r\n']), '⏎ = line break, \\r = carriage return');
    // Byte tokens' control characters (drive-gguf3 8, 13): C0, DEL and C1 controls as \xNN, never a box; invisible marks as \uNNNN.
    assert.strictEqual(visibleToken('\u0007\u0000\u007f'), '\\x07\\x00\\x7f');
    assert.strictEqual(visibleToken('none\u0085eaK'), 'none\\x85eaK');
    assert.strictEqual(visibleToken('a\u200bb\u2028\ufeff'), 'a\\u200bb\\u2028\\ufeff');
    // A surrogate pair is one character, kept; a lone surrogate is escaped.
    assert.strictEqual(visibleToken('🌧\ud83d'), '🌧\\ud83d');
    assert.strictEqual(visibleToken('é€'), 'é€');
    assert.strictEqual(whitespaceLegend([' the', 'cat']), '␣ = space');
    assert.strictEqual(whitespaceLegend(['\n', ' x']), '␣ = space, ⏎ = line break');
    // The hover's legend also explains the escapes and byte labels its alternatives show (drive-gguf4 11).
    assert.strictEqual(
      tokenLegend(['\fWe us', '2 diff<0xD2>']),
      '␣ = space, \\x0c = an invisible or control character, by its code, <0xD2> = one byte of a character spelled by several tokens',
    );
    assert.strictEqual(tokenLegend(['the', 'cat']), '');
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
    // Tokens that stop inside the word (a selection's heat-map ending there): no word view, not part of the word as the word (hostile22 M3).
    assert.strictEqual(wordTokenRange('the northern', 100, tokens.slice(0, 3), 108), undefined);
    assert.strictEqual(wordTokenRange('the northern', 100, tokens.slice(2), 110), undefined);
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
      const window: ScoredSequence = { tokens, fromDocumentStart: true, contextStart: windowContextStart(model) };
      const word = (await hoverFactsAt(model, window, at, { text, start: 0 }, 5))?.word;
      assert.ok(word, 'northern is several tokens in a 4,096-token BPE');
      assert.strictEqual(word.text, 'northern');
      assert.strictEqual(
        word.parts
          .map((p: { text: string }) => p.text)
          .join('')
          .trim(),
        'northern',
      );
      assert.ok(word.parts.length >= 2);
      // The same numbers by the other scoring path: the whole sequence at once.
      const first = tokens.findIndex((t) => t.text === word.parts[0].text && t.start + t.length > text.indexOf('northern'));
      const ids = tokens.slice(0, first + word.parts.length).map((t) => t.id);
      const seq = await model.sequenceLogProbs(ids, first);
      word.parts.forEach((p: { text: string; logProb: number }, i: number) =>
        assert.ok(Math.abs(p.logProb - seq[i]) < 1e-4, `${p.text}: ${p.logProb} vs ${seq[i]}`),
      );
      const md = hoverMarkdown({ ...facts, text: word.parts[1].text, logProb: word.parts[1].logProb, word });
      const product = Math.exp(wordLogProb(word.parts));
      assert.ok(md.includes(`**Word** \` northern \` = ${word.parts.map((p: { text: string }) => `\` ${visibleToken(p.text)} \``).join(' + ')}`), md);
      assert.ok(md.includes(`= **${formatProbability(product)}**`), md);
    } finally {
      model.dispose?.();
    }
  });

  it("scores a word's tokens in one forward pass (spanScores), else in ascending order, each context extending the one before, so that the KV cache steps (gpt-classics)", async function () {
    this.timeout(60000);
    const model: LanguageModel = await loadModel('gpt-classics');
    try {
      const text = 'It was a cold night in the northern hills.';
      const tokens = model.tokenizer.encode(text, true, 0);
      // Hovering the word's last token: its earlier parts asked afterwards would each compute the whole context again.
      const at = text.indexOf('northern') + 'northern'.length - 1;
      const contexts: number[][] = [];
      const spans: { ids: number[]; from: number; distAt: number }[] = [];
      assert.ok(model.spanScores, 'a transformer scores spans');
      const counting: LanguageModel = Object.create(model, {
        nextLogProbs: { value: (context: readonly number[]) => (contexts.push([...context]), model.nextLogProbs(context)) },
        spanScores: {
          value: (ids: readonly number[], from: number, distAt: number) => (spans.push({ ids: [...ids], from, distAt }), model.spanScores!(ids, from, distAt)),
        },
      });
      const window: ScoredSequence = { tokens, fromDocumentStart: true, contextStart: windowContextStart(model) };
      const facts = await hoverFactsAt(counting, window, at, { text, start: 0 }, 5);
      assert.ok(facts?.word && facts.word.parts.length >= 2, 'northern is several tokens');
      assert.strictEqual(contexts.length, 0);
      assert.strictEqual(spans.length, 1, 'one request for the whole word');
      assert.strictEqual(spans[0].ids.length - spans[0].from, facts.word.parts.length, 'the span is the word');

      // Without spanScores: one distribution per token, each context extending the one before.
      const stepwise: LanguageModel = Object.create(counting, { spanScores: { value: undefined } });
      const steps = await hoverFactsAt(stepwise, window, at, { text, start: 0 }, 5);
      assert.ok(steps?.word);
      assert.strictEqual(contexts.length, facts.word.parts.length, 'one distribution per token of the word');
      for (let i = 1; i < contexts.length; i++)
        assert.deepStrictEqual(contexts[i].slice(0, contexts[i - 1].length), contexts[i - 1], `context ${i} extends context ${i - 1}`);
      assert.ok(contexts.every((c, i) => i === 0 || c.length === contexts[i - 1].length + 1));
      facts.word.parts.forEach((p, i) => assert.ok(Math.abs(p.logProb - steps.word!.parts[i].logProb) < 1e-5, `part ${i}`));
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
  context: { tokens: 40, whole: true },
};

describe('the hover', () => {
  it('shows p one way, surprisal and entropy in bits, and no nats', () => {
    const md = hoverMarkdown(facts, { bucket: 'top 10000', colour: 'purple', modelName: 'ngram-classics', rank: 1234, logProb: Math.log(4.68e-6) });
    assert.ok(
      md.startsWith('**ngram\\-classics** · token ` ␣cheese ` · **heat-map: top 10000** (purple)\n\n'),
      `the heat-map's numbers are the hover's: its colour joins the header, first: ${md}`,
    );
    assert.ok(md.includes('p = **4.68×10⁻⁴%** given the whole text before it'), md);
    assert.ok(md.includes(`surprisal −log₂ p = ${(-Math.log2(4.68e-6)).toFixed(2)} bits`), md);
    assert.ok(md.includes('entropy 6.00 bits'), md);
    assert.ok(md.includes('| alternatives | ` ␣bread ` | ` ⏎ ` |\n|---|---:|---:|\n| p (entropy 6.00 bits) | 20.0% | 5.00% |'), md);
    assert.ok(!/nats|e-\d/.test(md), `no nats, no 4.68e-6 style: ${md}`);
    assert.ok(md.includes('rank **1,234** of 41,038'), md);
  });

  it('keeps the alternatives table whole when a token holds a pipe (drive7: the table fell apart into raw Markdown)', () => {
    const md = hoverMarkdown({ ...facts, alternatives: [{ id: 7, text: ' |', logProb: Math.log(0.2) }, ...facts.alternatives.slice(1)] });
    const header = md.split('\n').find((l) => l.startsWith('| alternatives'))!;
    // Cells split at pipes not escaped: the label, two alternatives and the empty ends.
    assert.strictEqual(header.split(/(?<!\\)\|/).length, 2 + 1 + facts.alternatives.length, header);
    assert.ok(header.includes('` ␣\\| `'), header);
  });

  it("says which context it was given, and gives the heat-map's own line where its numbers differ", () => {
    const md = hoverMarkdown(
      { ...facts, context: { tokens: 97, whole: false } },
      { bucket: 'top 100', colour: 'yellow', modelName: 'ngram-classics', rank: 50, logProb: Math.log(0.01) },
    );
    assert.ok(md.includes('p = **4.68×10⁻⁴%** given the 97 tokens before it'), md);
    assert.ok(!md.includes('whole text'), md);
    assert.ok(md.includes('**Heat-map colour: top 100** (yellow), by ngram\\-classics: rank 50 · p = 1.00%'), md);
  });

  it('draws spaces and line breaks and says what the symbols mean', () => {
    const md = hoverMarkdown(facts);
    assert.ok(md.includes('token ` ␣cheese `'), md);
    assert.ok(md.includes('` ⏎ `'), md);
    assert.ok(md.includes('␣ = space, ⏎ = line break'), md);
    assert.ok(!hoverMarkdown({ ...facts, text: 'cat', alternatives: [] }).includes('= space'));
  });

  it('shows a control character among the alternatives as an escape, not a box (drive-gguf3 13)', () => {
    const alternatives = [
      { id: 9, text: '\u0007', logProb: Math.log(0.1) },
      { id: 10, text: 'g none\u0085eaK', logProb: Math.log(0.01) },
    ];
    const md = hoverMarkdown({ ...facts, alternatives });
    assert.ok(md.includes('` \\x07 `'), md);
    assert.ok(md.includes('` g␣none\\x85eaK `'), md);
    assert.ok(![...md].some((c) => (c < ' ' && c !== '\n') || (c >= '\u007f' && c <= '\u009f')), `no control character left in ${JSON.stringify(md)}`);
  });
});

describe('byte tokens that split a character (gpt-classics is byte-level BPE)', function () {
  this.timeout(60_000);
  const TEXT = 'In the café by the water an old sailor said it was déjà vu: he had seen this storm before. 🌧️ The gulls';
  let model: LanguageModel;
  before(async () => {
    model = await loadModel('gpt-classics');
  });
  after(() => model.dispose?.());

  it('shows a lone byte as its byte, never as �', () => {
    assert.strictEqual(byteTokenText(Uint8Array.from([0xc3])), '<0xC3>');
    assert.strictEqual(byteTokenText(Uint8Array.from([0x20, 0x63, 0xc3, 0xa9])), ' cé');
    assert.strictEqual(byteTokenText(Uint8Array.from([0xa9, 0x20])), '<0xA9> ');
  });

  it('gives alternatives that are lone bytes as bytes', async () => {
    const tokens = model.tokenizer.encode(TEXT, true, 0);
    // After the first byte of the é of "déjà", the likeliest tokens are bytes that end a character.
    const at = tokens.findIndex((t) => t.start === TEXT.indexOf('déjà') + 1 && t.length === 1);
    const dist = await model.nextLogProbs(tokens.slice(0, at).map((t) => t.id));
    const { alternatives } = describePosition(model, dist, tokens[at].id, 5);
    assert.ok(
      alternatives.every((a) => !a.text.includes('\ufffd')),
      JSON.stringify(alternatives),
    );
    assert.ok(
      alternatives.some((a) => a.text === '<0xA9>'),
      JSON.stringify(alternatives),
    );
  });

  it('hovers the character its byte tokens spell: p the product, rank of its first byte, the word by characters', async () => {
    const tokens = model.tokenizer.encode(TEXT, true, 0);
    const seq: ScoredSequence = { tokens, fromDocumentStart: true, contextStart: windowContextStart(model) };
    const e = TEXT.indexOf('déjà') + 1;
    const r = await hoverFactsAt(model, seq, e, { text: TEXT, start: 0 }, 5);
    assert.ok(r && r.bytes, 'é is two byte tokens');
    assert.strictEqual(r.text, 'é');
    assert.deepStrictEqual(
      r.bytes.map((b) => b.text),
      ['<0xC3>', '<0xA9>'],
    );
    // The chain rule over the bytes, as scoring the sequence whole gives them.
    const first = tokens.findIndex((t) => t.start === e && t.length === 0);
    const seqLp = await model.sequenceLogProbs(
      tokens.slice(0, first + 2).map((t) => t.id),
      first,
    );
    assert.ok(Math.abs(r.logProb - (seqLp[0] + seqLp[1])) < 1e-4, `${r.logProb} vs ${seqLp[0] + seqLp[1]}`);
    assert.deepStrictEqual(
      r.word?.parts.map((p) => p.text),
      [' d', 'é', 'j', 'à'],
    );
    assert.ok(Math.abs(r.word.parts[1].logProb - r.logProb) < 1e-9);
    const md = hoverMarkdown(r);
    assert.ok(md.includes('character ` é `'), md);
    assert.ok(md.includes('Spelled by 2 byte tokens: p = ` <0xC3> ` '), md);
    assert.ok(md.includes('alternatives for its first byte'), md);
    assert.ok(md.includes('= ` ␣d ` + ` é ` + ` j ` + ` à `:'), md);
    assert.ok(!md.includes('\ufffd') && !md.includes('````'), md);
    // The emoji: four byte tokens, one character.
    const emoji = await hoverFactsAt(model, seq, TEXT.indexOf('🌧'), { text: TEXT, start: 0 }, 5);
    assert.strictEqual(emoji?.text, '🌧');
    assert.strictEqual(emoji?.bytes?.length, 4);
  });
});

describe("the status bar's bits per character", () => {
  it('says which context its tokens were given: the document before a selection (a local model or a server), at most a window', () => {
    const summary = { bitsPerChar: 1.5, bitsPerToken: 4, perplexity: 16, tokens: 300, chars: 800 };
    const doc = metricsTooltipMarkdown({ modelName: 'gpt-classics', scope: 'document', summary, elapsedMs: 3, window: 128 });
    assert.ok(doc.includes('Each token is given the text before it, at most 127 tokens of it (the windows the heat-map scores in).'), doc);
    // A selection is scored in its document: its context said.
    const inDoc = metricsTooltipMarkdown({ modelName: 'gpt-classics', scope: 'selection', selectionContextChars: 4000, summary, elapsedMs: 3, window: 128 });
    assert.ok(
      inDoc.includes(
        "Each token is given the text before it in the document (up to 4,000 characters before the selection), as the selection's heat-map scores it, at most 127 tokens of it",
      ),
      inDoc,
    );
  });
});
