/** The playground's result cards: what a completion's line says, in bits and words, and what a card's head repeats. */
import * as assert from 'assert';
import { generate, type Completion } from '../../src/core/generation';
import type { LanguageModel } from '../../src/core/model';
import { GALLERY } from '../../src/playground/gallery';
import { galleryNotes } from '../../src/playground/galleryNotes';
import { plural } from '../../src/core/numberFormat';
import { firstTokenOfEmptyRun, logProbBits, namedToken, summarizeCompletion, typedStop } from '../../src/playground/completionSummary';
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
