/**
 * Tokenizers of the size downloads have (Qwen2.5: 151,665 entries for 151,936 rows of logits;
 * Gemma: 256,000): what is checked and built over the whole vocabulary must not take one function
 * argument per entry (a spread of 150,000 overflowed the stack when a Qwen-sized model loaded).
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { ModelFormatError } from '../../src/core/errors';
import { HuggingFaceTokenizer } from '../../src/core/neural/hfTokenizer';
import { ONNX_FIXTURES } from './helpers';

const QWEN_ROWS = 151_936;

/** The tiny Qwen2 fixture's tokenizer with entries added up to `size` (tokens no merge makes: present, never produced). */
function widened(size: number): { json: { model: { vocab: Record<string, number> }; added_tokens: { id: number; content: string }[] } } {
  const json = JSON.parse(fs.readFileSync(path.join(ONNX_FIXTURES, 'tiny-qwen2', 'tokenizer.json'), 'utf8'));
  const vocab = json.model.vocab as Record<string, number>;
  const taken = new Set<number>([...Object.values(vocab), ...json.added_tokens.map((t: { id: number }) => t.id)]);
  for (let id = 0, n = 0; taken.size < size; id++) {
    if (taken.has(id)) continue;
    vocab[`<|extra_${n++}|>`] = id;
    taken.add(id);
  }
  return { json };
}

describe('A tokenizer with a vocabulary the size of Qwen2.5', function () {
  this.timeout(60_000);

  it('is checked against a graph of 151,936 rows (no stack overflow), and encodes and decodes as before', () => {
    const { json } = widened(151_665);
    assert.strictEqual(Object.keys(json.model.vocab).length + json.added_tokens.length, 151_665);
    const tok = new HuggingFaceTokenizer(json, {}, undefined);
    tok.checkAgainstGraph(QWEN_ROWS);
    const text = 'It was a bright cold day in April, and the clocks were striking thirteen. Café ☕';
    const tokens = tok.encode(text, true);
    assert.strictEqual(tokens.map((t) => text.slice(t.start, t.start + t.length)).join(''), text);
    assert.strictEqual(
      tok.decode(
        tokens.map((t) => t.id),
        false,
      ),
      text,
    );
  });

  it('still names an entry whose id the graph has no row for', () => {
    const { json } = widened(151_665);
    json.model.vocab['<|past_the_end|>'] = QWEN_ROWS;
    const tok = new HuggingFaceTokenizer(json, {}, undefined, 'tokenizer.json');
    assert.throws(
      () => tok.checkAgainstGraph(QWEN_ROWS),
      (e: Error) => e instanceof ModelFormatError && /"<\|past_the_end\|>" has id 151936, outside the graph's vocabulary \(0 to 151935\)/.test(e.message),
    );
  });
});
