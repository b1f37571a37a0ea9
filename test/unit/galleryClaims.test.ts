/**
 * The gallery's claims checked with the real embedded models, scored as the playground's worker
 * scores them (echo, max tokens 0): a retrained model that breaks a claim fails here.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import { generate } from '../../src/core/generation';
import type { LanguageModel } from '../../src/core/model';
import { GALLERY, type GalleryExample, type ModelTraits } from '../../src/playground/gallery';
import { galleryNotes, probeGaps, type ScoredPrompt } from '../../src/playground/galleryNotes';
import { buildRequests } from '../../src/playground/requests';
import { loadModel } from '../../src/node/modelLoader';
import { corpusFiles } from './helpers';

async function score(lm: LanguageModel, example: GalleryExample): Promise<ScoredPrompt[]> {
  const out: ScoredPrompt[] = [];
  for (const r of buildRequests(example.query)) {
    const [c] = await generate(lm, r.prompt, r.options);
    const tokens = c.promptTokens!;
    out.push({ bindings: r.bindings, prompt: r.prompt, logProb: tokens.reduce((s, t) => s + t.logProb, 0), tokens: tokens.map((t) => t.text) });
  }
  return out;
}

for (const name of ['ngram-classics', 'gpt-classics']) {
  describe(`the gallery's claims with ${name}`, function () {
    this.timeout(120000);
    let lm: LanguageModel;
    let traits: ModelTraits;
    before(async () => {
      lm = await loadModel(name);
      traits = { name, context: lm.info.capabilities.context, embedded: true, contextLength: lm.info.contextLength };
    });
    after(() => (lm as { dispose?: () => void }).dispose?.());

    for (const example of GALLERY.filter((g) => g.ordering)) {
      const o = example.ordering!;
      const holds = o.holdsWith.includes(name);
      it(`${example.title}: ${holds ? "the lecture's order" : "not the lecture's order, and the page says why"}`, async () => {
        const scored = await score(lm, example);
        const observed = [...scored].sort((a, b) => b.logProb - a.logProb).map((s) => s.bindings[o.variable]);
        const listing = scored.map((s) => `${s.prompt}: ${s.logProb.toFixed(2)}`).join(', ');
        if (holds) assert.deepStrictEqual(observed, o.expected, listing);
        else assert.notDeepStrictEqual(observed, o.expected, `${listing}: the order now holds, update holdsWith`);
        const notes = galleryNotes(example, traits, scored).join('\n');
        assert.match(notes, holds ? /orders them as the lecture does/ : /not as the lecture does/, notes);
      });
    }

    it('the pronoun probe: the gap depends on the subject only when the model can see it', async () => {
      const example = GALLERY.find((g) => g.probe)!;
      const scored = await score(lm, example);
      const [a, b] = probeGaps(example, scored);
      const notes = galleryNotes(example, traits, scored).join('\n');
      if (lm.info.capabilities.context === 'markov') {
        assert.ok(Math.abs(a.gap - b.gap) < 1e-9, `${a.subject} ${a.gap}, ${b.subject} ${b.gap}`);
        assert.match(notes, /out of its window/, notes);
      } else {
        // gpt-classics: nurse −0.50 (she likelier), doctor −0.04 nats when measured.
        assert.ok(Math.abs(a.gap - b.gap) > 0.2, `${a.subject} ${a.gap}, ${b.subject} ${b.gap}`);
        assert.match(notes, /the gap depends on the subject/, notes);
      }
    });
  });
}

describe("the gallery's word counts in the embedded models' training text", () => {
  it('"mouse" 23 times, "cheese" 8 times, never "mouse ate" or "ate the cheese"', () => {
    const text = corpusFiles('train')
      .map((f) => fs.readFileSync(f, 'utf8'))
      .join('\n')
      .replace(/\s+/g, ' ');
    const count = (re: RegExp) => (text.match(re) ?? []).length;
    assert.strictEqual(count(/\bmouse\b/gi), 23);
    assert.strictEqual(count(/\bcheese\b/gi), 8);
    assert.strictEqual(count(/\bmouse ate\b|\bate the cheese\b/gi), 0);
    const why = GALLERY[0].ordering!.whyNot({ name: 'ngram-classics', context: 'markov', embedded: true, contextLength: 3 });
    assert.match(why, /"mouse" 23 times and "cheese" 8 times, and never "mouse ate" or "ate the cheese"/);
  });
});
