import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { ModelFormatError } from '../../src/core/errors';
import { HuggingFaceTokenizer } from '../../src/core/neural/hfTokenizer';
import { nestedRepetition } from '../../src/core/neural/tokenizerRegex';

const QWEN = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'models', 'tiny-qwen2', 'tokenizer.json');

describe("a tokenizer.json's regular expressions", () => {
  it('finds a repeated group that itself repeats, and passes the patterns real tokenizers use', () => {
    assert.strictEqual(nestedRepetition('(a+)+$'), '(a+)+');
    assert.strictEqual(nestedRepetition('(\\w+\\s?)*$'), '(\\w+\\s?)*');
    assert.strictEqual(nestedRepetition('x(?:y*z){2,}'), '(?:y*z){');
    assert.strictEqual(nestedRepetition('((ab)*c)+'), '((ab)*c)+');
    // Repetition inside a character class, or a group repeated once, is not nested repetition.
    assert.strictEqual(nestedRepetition('([+*])+'), undefined);
    assert.strictEqual(nestedRepetition('(a+)?b'), undefined);
    assert.strictEqual(nestedRepetition("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"), undefined);
    const qwen = JSON.parse(fs.readFileSync(QWEN, 'utf8')).pre_tokenizer.pretokenizers[0].pattern.Regex;
    assert.strictEqual(nestedRepetition(qwen), undefined, qwen);
  });

  it('refuses a tokenizer whose pre-tokenizer pattern could backtrack for ever, naming where it is', () => {
    const json = JSON.parse(fs.readFileSync(QWEN, 'utf8'));
    json.pre_tokenizer.pretokenizers[0].pattern.Regex = '(a+)+$';
    assert.throws(
      () => new HuggingFaceTokenizer(json, {}, undefined, 'tokenizer.json'),
      (e: unknown) =>
        e instanceof ModelFormatError && /pre_tokenizer\.pretokenizers\[0\] pattern repeats a group that itself repeats \(\(a\+\)\+\)/.test(e.message),
    );
    // The fixture itself loads.
    assert.ok(new HuggingFaceTokenizer(JSON.parse(fs.readFileSync(QWEN, 'utf8')), {}, undefined).vocabSize > 0);
  });
});
