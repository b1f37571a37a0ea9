/** The playground's result cards: what a completion's line says, in bits and words, and what a card's head repeats. */
import * as assert from 'assert';
import { generate, type Completion } from '../../src/core/generation';
import type { LanguageModel } from '../../src/core/model';
import { GALLERY } from '../../src/playground/gallery';
import { galleryNotes } from '../../src/playground/galleryNotes';
import { plural } from '../../src/core/numberFormat';
import {
  completionRankLogProb,
  firstTokenOfEmptyRun,
  logProbBits,
  namedToken,
  rankedWith,
  summarizeCompletion,
  typedStop,
} from '../../src/playground/completionSummary';
import { buildRequests, isScoring } from '../../src/playground/requests';
import { cardHead } from '../../src/playground/resultCard';
import { loadModel } from '../../src/node/modelLoader';

const byTitle = (part: string) => GALLERY.find((g) => g.title.includes(part))!;

describe('a completion that stops before its first token (Analogies, stop sequence \\n)', function () {
  this.timeout(120_000);
  for (const name of ['ngram-classics', 'gpt-classics']) {
    let model: LanguageModel;
    before(async () => {
      model = await loadModel(name);
    });
    after(() => model?.dispose?.());

    it(`${name}: says the first token was a line break the stop sequence ends, with the model's top first tokens`, async () => {
      const g = byTitle('Analogies');
      const [request] = buildRequests(g.query);
      const completions = await generate(model, request.prompt, request.options);
      const [c] = completions;
      assert.deepStrictEqual([c.tokens.length, c.finishReason, c.text], [0, 'stop', '']);
      assert.strictEqual(c.stoppedBy?.text, '\n');
      const summary = summarizeCompletion(c, { scoring: false, numCompletions: 1, stopSequences: request.options.stopSequences! });
      assert.match(
        summary.stoppedAtOnce!,
        /^Stopped at once: the model's first token was ⏎ \(a line break\) \(p = [\d.]+%\), which the stop sequence \\n ends\. Its most probable first tokens: ⏎ [\d.]+%, .+\.$/,
      );
      assert.strictEqual(c.stoppedBy!.alternatives!.length, 5);
      assert.match(summary.meta, /^log₂ p\(completion\) = 0\.00 bits · 0 tokens · ended by a stop sequence · seed 0$/);
      // The gallery's note says why nothing appears.
      const first = firstTokenOfEmptyRun(completions);
      assert.strictEqual(first, '⏎ (a line break)');
      const notes = galleryNotes(g, { name, context: model.info.capabilities.context, embedded: true }, [], first).join('\n');
      assert.match(notes, new RegExp(`Nothing appears: ${name}'s first token is ⏎ \\(a line break\\), and the stop sequence ends the completion there`));
      assert.doesNotMatch(notes, /continues the text the way those novels would/);
      // Complete Selection's quick pick ranks it by the line break that ended it, not as p = 1.
      assert.strictEqual(completionRankLogProb(c), c.stoppedBy!.logProb);
      assert.ok(completionRankLogProb(c) < 0);
      assert.strictEqual(rankedWith(c), 'counting the ⏎ that ended it');
    });
  }
});

describe('the line under a completion', () => {
  const completion = (over: Partial<Completion>): Completion => ({ text: '', tokens: [], logProb: 0, finishReason: 'length', seed: 7, index: 0, ...over });
  const token = (text: string, logProb: number) => ({ id: 1, text, logProb });

  it('a scoring run says it scored, in bits, with no seed and no "0 tokens · finish: length"', () => {
    const c = completion({ promptTokens: [token('The', -Math.LN2 * 3), token(' end', -Math.LN2 * 2.5)] });
    const { meta, stoppedAtOnce } = summarizeCompletion(c, { scoring: true, numCompletions: 1, stopSequences: [] });
    assert.strictEqual(meta, 'log₂ p(prompt) = −5.50 bits · 2 prompt tokens scored, no tokens generated');
    assert.strictEqual(stoppedAtOnce, undefined);
  });

  it('says which completion of how many, and the seed, in words; one token is singular', () => {
    const c = completion({ tokens: [token(' dark', -Math.LN2)], logProb: -Math.LN2, index: 1, finishReason: 'length' });
    assert.strictEqual(
      summarizeCompletion(c, { scoring: false, numCompletions: 2, stopSequences: [] }).meta,
      'log₂ p(completion) = −1.00 bits · 1 token · reached max tokens · completion 2 of 2 · seed 7 gives it as 1 completion',
    );
    assert.strictEqual(plural(1, 'guess', 'guesses'), '1 guess');
    assert.strictEqual(plural(2, 'guess', 'guesses'), '2 guesses');
    assert.strictEqual(plural(1234, 'token'), '1,234 tokens');
  });

  it('names invisible first tokens and shows stop sequences as typed', () => {
    assert.strictEqual(namedToken({ text: '\n\n' }), '⏎⏎ (2 line breaks)');
    assert.strictEqual(namedToken({ text: ' \n' }), '␣⏎ (space and line break)');
    assert.strictEqual(namedToken({ text: ' green' }), '␣green');
    assert.strictEqual(namedToken({ text: '\uFFFD', bytes: [0xc3] }), '<0xC3>');
    assert.strictEqual(typedStop('\n'), '\\n');
    assert.strictEqual(logProbBits(-Math.LN2 * 35.031), '−35.03 bits');
  });

  it("Complete Selection's quick pick ranks a completion with the token that ended it (hostile22 L1)", () => {
    const lp = (bits: number) => -bits * Math.LN2;
    // An empty completion the model's first token (a comma, 5 bits) stopped, against 8 tokens of 48 bits ended by a comma of 1 bit,
    // and 12 tokens of 61 bits cut at max tokens: the comma's 5 bits rank the empty one, no longer 0 bits on top.
    const empty = completion({ finishReason: 'stop', stopKind: 'stop sequence', stoppedBy: token(',', lp(5)) });
    const stopped = completion({ tokens: [token(' after', lp(48))], logProb: lp(48), finishReason: 'stop', stoppedBy: token(',', lp(1)) });
    const cut = completion({ tokens: [token(' to', lp(61))], logProb: lp(61), finishReason: 'length' });
    const ended = completion({ tokens: [token(' end', lp(2))], logProb: lp(2), finishReason: 'eos', stoppedBy: token('</s>', lp(0.5)) });
    const bits = (c: Completion) => Math.round((-completionRankLogProb(c) / Math.LN2) * 100) / 100;
    assert.deepStrictEqual([empty, stopped, cut, ended].map(bits), [5, 49, 61, 2.5]);
    assert.deepStrictEqual([rankedWith(empty), rankedWith(cut), rankedWith(ended)], ['counting the , that ended it', undefined, 'counting its end of text']);
    // A remote completion with no stopping token, or no log-probs: its own.
    assert.strictEqual(completionRankLogProb(completion({ logProb: lp(3), finishReason: 'stop' })), lp(3));
    assert.ok(Number.isNaN(completionRankLogProb(completion({ logProb: NaN, finishReason: 'stop' }))));
  });

  it('an end of text as the first token is said so', () => {
    const c = completion({ finishReason: 'eos', stoppedBy: token('</s>', Math.log(0.25)) });
    assert.strictEqual(
      summarizeCompletion(c, { scoring: false, numCompletions: 1, stopSequences: [] }).stoppedAtOnce,
      "Stopped at once: the model's first token was its end of text (p = 25.0%). (Set top-k per token above 0 to see what else it ranked first.)",
    );
  });
});

describe("a result card's head", () => {
  it('shows a sentence once: no heading that is the prompt, no grey prompt over its echoed token row', () => {
    const g = byTitle('Sequence scoring: grammatical');
    const requests = buildRequests(g.query);
    assert.ok(requests.every(isScoring));
    const head = cardHead(requests[0], ['sentence']);
    assert.deepStrictEqual(head, { heading: undefined, prompt: undefined, label: 'the mouse ate the cheese' });
  });

  it('keeps the variables that are not the prompt, and the prompt when it is not echoed', () => {
    const probe = buildRequests(byTitle('Bias probe').query)[0];
    assert.deepStrictEqual(cardHead(probe, ['subject', 'pronoun']), {
      heading: 'subject = nurse, pronoun = he',
      prompt: undefined,
      label: 'subject = nurse, pronoun = he',
    });
    const temperature = buildRequests(byTitle('Temperature').query)[1];
    assert.deepStrictEqual(cardHead(temperature, ['t']), { heading: 't = 0.5', prompt: 'It was a dark and stormy', label: 't = 0.5' });
    const single = buildRequests(byTitle('Analogies').query)[0];
    assert.deepStrictEqual(cardHead(single, []), { heading: 'Result', prompt: 'sky : blue :: grass :', label: 'Result' });
  });
});
