/**
 * What a built tokenizer keeps of its tokenizer.json. The library (@huggingface/tokenizers) keeps
 * the object it is given, whose merge list alone is about 100,000 arrays and 200,000 strings for
 * a 49,152-token vocabulary: a model's decoding thread, which holds the tokenizer, then spent a
 * fifth of its CPU time marking them again at every collection (docs/BENCHMARKS.md).
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { Tokenizer as LibraryTokenizer } from '@huggingface/tokenizers';
import { HuggingFaceTokenizer } from '../../src/core/neural/hfTokenizer';
import { collectGarbage } from '../../src/node/collectGarbage';
import { ONNX_FIXTURES } from './helpers';

const QWEN2 = path.join(ONNX_FIXTURES, 'tiny-qwen2', 'tokenizer.json');

function readJson(): { model: { vocab: object; merges: unknown[] } } {
  return JSON.parse(fs.readFileSync(QWEN2, 'utf8'));
}

/** The tokenizer, and weak references to the parsed file's vocabulary and merges, which nothing else holds. */
function built(): { tok: HuggingFaceTokenizer; vocab: WeakRef<object>; merges: WeakRef<object> } {
  const json = readJson();
  assert.ok(json.model.merges.length > 100, 'the fixture has merges');
  return { tok: new HuggingFaceTokenizer(json, {}, undefined), vocab: new WeakRef(json.model.vocab), merges: new WeakRef(json.model.merges) };
}

const TEXT = [
  'It was a bright cold day in April, and the clocks were striking thirteen.',
  'Café, naïve, coöperate — “quoted” and ‘single’; 東京 and Москва; emoji ☕🙂👩‍👩‍👧.',
  '    indented code() { return x_1 + y2; }\n\n\tTabbed line\r\nCRLF line',
  'Numbers 3.14159, 1,000,000 and 2026-12-04; URLs like https://example.org/a?b=c#d.',
].join('\n');

describe('A Hugging Face tokenizer, once built', function () {
  this.timeout(60_000);

  it('keeps neither the parsed vocabulary nor the merge list: both are collected while it lives', async () => {
    const { tok, vocab, merges } = built();
    // A WeakRef holds its target until the job that made it ends.
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
    collectGarbage();
    assert.strictEqual(merges.deref(), undefined, 'the merge list is still held');
    assert.strictEqual(vocab.deref(), undefined, 'the vocabulary object is still held');
    // And it still works, checks included.
    tok.checkAgainstGraph(tok.vocabSize);
    const ids = tok.encode(TEXT, false).map((t) => t.id);
    assert.strictEqual(tok.decode(ids, false), TEXT);
  });

  it('encodes as the library does with everything it was given', () => {
    const { tok } = built();
    const library = new LibraryTokenizer(readJson(), {});
    const long = Array.from({ length: 40 }, (_, i) => `${i}: ${TEXT}`).join('\n');
    const ours = tok.encode(long, false);
    assert.deepStrictEqual(
      ours.map((t) => t.id),
      library.encode(long, { add_special_tokens: false }).ids,
    );
    assert.strictEqual(ours.map((t) => long.slice(t.start, t.start + t.length)).join(''), long);
  });
});
