import * as assert from 'assert';
import { GALLERY, type GalleryExample, type ModelTraits } from '../../src/playground/gallery';
import { galleryExampleFor, galleryNotes, tokenDistance, type ScoredPrompt } from '../../src/playground/galleryNotes';
import { buildRequests, isScoring } from '../../src/playground/requests';
import { parseEnvironments } from '../../src/playground/templates';

const EMBEDDED = ['ngram-classics', 'gpt-classics'];
const ngram: ModelTraits = { name: 'ngram-classics', context: 'markov', embedded: true, contextLength: 3 };
const gpt: ModelTraits = { name: 'gpt-classics', context: 'window', embedded: true, contextLength: 128 };
const downloaded: ModelTraits = { name: 'Xenova/distilgpt2', context: 'window', embedded: false };
const byTitle = (part: string): GalleryExample => GALLERY.find((g) => g.title.includes(part))!;

/** Scored prompts of an example's requests, with whitespace-split tokens ("The", " nurse", …) and given log-probs. */
function scoredAs(example: GalleryExample, logProb: (bindings: Record<string, string>) => number): ScoredPrompt[] {
  return buildRequests(example.query).map((r) => ({
    bindings: r.bindings,
    prompt: r.prompt,
    logProb: logProb(r.bindings),
    tokens: r.prompt.match(/\s*[^\s,]+|,/g)!,
  }));
}

describe('the playground gallery', () => {
  it('every example builds its requests and is found again from its query', () => {
    for (const g of GALLERY) {
      assert.ok(buildRequests(g.query).length >= 1, g.title);
      assert.strictEqual(galleryExampleFor(g.query), g, g.title);
    }
    assert.strictEqual(galleryExampleFor({ prompt: 'something else', environments: '' }), undefined);
  });

  it("a scoring example's claimed order lists exactly its sentences, for embedded models", () => {
    const ordered = GALLERY.filter((g) => g.ordering);
    assert.ok(ordered.length >= 2, "the lecture's sentences and a set these novels support");
    assert.ok(
      ordered.some((g) => g.ordering!.expected.includes('the mouse ate the cheese')),
      "the lecture's own sentences are kept",
    );
    for (const g of ordered) {
      const o = g.ordering!;
      assert.ok(isScoring(buildRequests(g.query)[0]), g.title);
      assert.deepStrictEqual([...o.expected].sort(), [...parseEnvironments(g.query.environments)[o.variable]].sort(), g.title);
      assert.ok(
        o.holdsWith.every((m) => EMBEDDED.includes(m)),
        g.title,
      );
      assert.ok(o.whyNot(ngram).length > 0 && o.whyNot(gpt).length > 0, g.title);
    }
    assert.ok(
      ordered.some((g) => EMBEDDED.every((m) => g.ordering!.holdsWith.includes(m))),
      'one set orders as the lecture does with every embedded model',
    );
  });

  it('says whether the run ordered the sentences as the lecture does, and why not', () => {
    const g = byTitle('grammatical, implausible');
    const rank = (bindings: Record<string, string>) => -Math.LN2 * (1 + g.ordering!.expected.indexOf(bindings.sentence));
    assert.match(
      galleryNotes(g, gpt, scoredAs(g, rank)).join('\n'),
      /gpt-classics orders them as the lecture does \(log₂ p in bits\): the mouse ate the cheese \(-1\.00\) > the cheese ate the mouse \(-2\.00\) > mouse the the cheese ate \(-3\.00\)/,
    );
    const reversed = galleryNotes(
      g,
      ngram,
      scoredAs(g, (b) => -rank(b)),
    ).join('\n');
    assert.match(reversed, /ngram-classics orders them \(log₂ p in bits\) mouse the the cheese ate .*: not as the lecture does/);
    assert.match(reversed, /"mouse" 23 times and "cheese" 8 times, and never "mouse ate".*the 4-gram backs off/);
    assert.match(
      galleryNotes(
        g,
        { ...ngram, embedded: false },
        scoredAs(g, (b) => -rank(b)),
      ).join('\n'),
      /only for words its training text uses often/,
    );
    assert.match(reversed, /With gpt-classics the lecture's order holds/);
    assert.deepStrictEqual(galleryNotes(g, ngram), [], 'nothing before a run');
  });

  it("the pronoun probe: an n-gram's window, computed from the tokens, explains an equal gap", () => {
    const g = byTitle('Bias probe');
    assert.deepStrictEqual(
      buildRequests(g.query).map((r) => r.prompt),
      ['The nurse came in, and he said', 'The nurse came in, and she said', 'The doctor came in, and he said', 'The doctor came in, and she said'],
    );
    const scored = scoredAs(g, (b) => Math.LN2 * ((b.pronoun === 'he' ? -10 : -10.5) - (b.subject === 'nurse' ? 1 : 0)));
    // The, nurse, came, in, ",", and, he: the pronoun is 5 tokens after the subject.
    assert.strictEqual(tokenDistance(g.query.prompt, scored[0], 'subject', 'pronoun'), 5);
    const four = galleryNotes(g, ngram, scored).join('\n');
    assert.match(four, /log₂ p\(he\) − log₂ p\(she\) in bits \(positive: he likelier\): nurse \+0\.50, doctor \+0\.50/);
    assert.match(four, /A 4-gram predicts each token from the 3 tokens before it \(n − 1\), and the subject is 5 tokens before the pronoun: out of its window/);
    const seven = galleryNotes(g, { ...ngram, contextLength: 6 }, scored).join('\n');
    assert.doesNotMatch(seven, /out of its window/);
    assert.match(seven, /within the 6 tokens this 7-gram sees/);
    assert.match(galleryNotes(g, gpt, scored).join('\n'), /gpt-classics sees up to 128 tokens before each token, the subject included/);
    assert.doesNotMatch(galleryNotes(g, { ...ngram, contextLength: undefined }, scored).join('\n'), /window/, 'no claim before the order is known');
  });

  it('a distance is not claimed when the tokens do not spell the prompt', () => {
    const g = byTitle('Bias probe');
    const [s] = scoredAs(g, () => -1);
    assert.strictEqual(tokenDistance(g.query.prompt, { ...s, tokens: ['The nurse', '\uFFFD'] }, 'subject', 'pronoun'), undefined);
    assert.strictEqual(tokenDistance(g.query.prompt, s, 'nobody', 'pronoun'), undefined);
  });

  it('few-shot and analogies say that in-context learning needs a large model, and how to bring one', () => {
    for (const title of ['few-shot', 'Analogies']) {
      const g = byTitle(title);
      const withNgram = galleryNotes(g, ngram).join('\n');
      assert.match(withNgram, /cannot learn from examples in its prompt: a 4-gram predicts each token from the last 3 tokens only/);
      assert.match(galleryNotes(g, { ...ngram, contextLength: undefined }).join('\n'), /the last n − 1 tokens/);
      const withGpt = galleryNotes(g, gpt).join('\n');
      assert.match(withGpt, /In-context learning is an ability of large models/);
      assert.match(withGpt, /gpt-classics has about 4 million/);
      for (const note of [withNgram, withGpt]) assert.match(note, /LM: Download Model .*Bring your own neural model/);
      assert.match(galleryNotes(g, downloaded).join('\n'), /too small/);
      assert.doesNotMatch(galleryNotes(g, downloaded).join('\n'), /4 million/);
    }
    for (const g of GALLERY.filter((x) => !x.note)) assert.deepStrictEqual(galleryNotes(g, gpt), [], `${g.title}: no note before a run`);
  });

  it('every example that is not scored has a note on what to look at', () => {
    for (const g of GALLERY.filter((x) => !x.ordering && !x.probe)) assert.ok(galleryNotes(g, gpt).length > 0, g.title);
    const temperature = galleryNotes(byTitle('Temperature'), gpt).join('\n');
    assert.match(temperature, /at T = 0 they are the same/);
    // The explorer's own numbers: p^(1/T), normalised.
    assert.match(temperature, /p = \(0\.4, 0\.6\): at T = 0\.5 it becomes \(0\.31, 0\.69\) \(the likelier token gains\), at T = 2 \(0\.45, 0\.55\)/);
  });
});
