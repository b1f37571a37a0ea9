/** Byte tokens that split a character, as the playground shows them: merged spans, their tooltip, lone bytes. */
import * as assert from 'assert';
import { generate } from '../../src/core/generation';
import type { LanguageModel } from '../../src/core/model';
import { invisibleEscape } from '../../src/core/numberFormat';
import { byteLabel, splitsCharacter, utf8Segments, visibleTokenBytes, wholeCharacters } from '../../src/core/tokenBytes';
import { pieceTip, tokenLabel } from '../../src/playground/pieceTip';
import { mergeUtf8 } from '../../src/playground/utf8Merge';
import { loadModel } from '../../src/node/modelLoader';

const utf8 = (s: string) => [...new TextEncoder().encode(s)];

describe("a byte token's bytes on screen", () => {
  it('shows whole characters as text and the bytes of a split character as bytes', () => {
    assert.deepStrictEqual(utf8Segments(utf8(' café')), [{ text: ' café' }]);
    assert.deepStrictEqual(utf8Segments(utf8(' café').slice(0, 5)), [{ text: ' caf' }, { bytes: [0xc3] }]);
    assert.deepStrictEqual(utf8Segments([0xa9, ...utf8(' by')]), [{ bytes: [0xa9] }, { text: ' by' }]);
    assert.strictEqual(visibleTokenBytes(utf8(' café').slice(0, 5)), '␣caf + <0xC3>');
    assert.strictEqual(visibleTokenBytes(utf8('🌧').slice(0, 2)), '<0xF0><0x9F>');
    // An overlong form and a lone surrogate's bytes are not characters.
    assert.strictEqual(visibleTokenBytes([0xc0, 0x80]), '<0xC0><0x80>');
    assert.strictEqual(visibleTokenBytes([0xed, 0xa0, 0x80]), '<0xED><0xA0><0x80>');
    assert.strictEqual(byteLabel([0xc3]), '<0xC3>');
    assert.ok(splitsCharacter([0xc3]));
    assert.ok(!splitsCharacter(utf8('é')));
    assert.ok(!splitsCharacter([]));
  });
});

describe('whole characters only into the document (drive-gguf3 8: Complete Selection inserted U+FFFD)', () => {
  // Token 0 = "caf", 1 = the first byte of "é", 2 = its second byte, 3 = a token that holds a real "�".
  const bytes = [[0x63, 0x61, 0x66], [0xc3], [0xa9], [0xef, 0xbf, 0xbd]];
  const tokenizer = { tokenBytes: (id: number) => Uint8Array.from(bytes[id]) };
  const decode = (ids: number[]) => new TextDecoder().decode(Uint8Array.from(ids.flatMap((id) => bytes[id])));

  it('holds back a character whose bytes have not all come, and keeps it once they have', () => {
    assert.deepStrictEqual(wholeCharacters(tokenizer, [0, 1], decode([0, 1])), { text: 'caf', dropped: 1 });
    assert.deepStrictEqual(wholeCharacters(tokenizer, [0, 1, 2], decode([0, 1, 2])), { text: 'café', dropped: 0 });
    // A stray byte inside (its character never completed) is left out too.
    assert.deepStrictEqual(wholeCharacters(tokenizer, [1, 0, 1], decode([1, 0, 1])), { text: 'caf', dropped: 2 });
  });

  it('keeps a "�" that a token really holds, and text from a tokenizer without bytes', () => {
    assert.deepStrictEqual(wholeCharacters(tokenizer, [3, 1], decode([3, 1])), { text: '��', dropped: 0 });
    assert.deepStrictEqual(wholeCharacters({}, [0], 'a�'), { text: 'a�', dropped: 0 });
  });

  it('marks control and invisible characters by escapes, and nothing else', () => {
    assert.strictEqual(invisibleEscape('\u0007'), '\\x07');
    assert.strictEqual(invisibleEscape('\u0085'), '\\x85');
    assert.strictEqual(invisibleEscape('\u200b'), '\\u200b');
    for (const ch of [' ', '\t', '\n', '\r', 'a', 'é', '🌧']) assert.strictEqual(invisibleEscape(ch), undefined, JSON.stringify(ch));
  });
});

describe('merging byte tokens for display', () => {
  it("takes a prompt's tokens as the tokenizer's offsets spell them: empty ones before the one holding the last byte", () => {
    const e = utf8('é');
    const tokens = [
      { bytes: utf8(' d'), text: ' d' },
      { bytes: [e[0]], text: '' },
      { bytes: [e[1]], text: 'é' },
      { bytes: utf8('j'), text: 'j' },
    ];
    assert.deepStrictEqual(mergeUtf8(tokens), [
      { first: 0, last: 0, text: ' d' },
      { first: 1, last: 2, text: 'é' },
      { first: 3, last: 3, text: 'j' },
    ]);
  });

  it('joins the characters of a split emoji and its variation selector, each as one piece', () => {
    const rain = utf8('🌧');
    const selector = utf8('\uFE0F');
    const tokens = [
      ...rain.map((b, i) => ({ bytes: [b], text: i === 3 ? '🌧' : '' })),
      ...selector.map((b, i) => ({ bytes: [b], text: i === 2 ? '\uFE0F' : '' })),
    ];
    assert.deepStrictEqual(mergeUtf8(tokens), [
      { first: 0, last: 3, text: '🌧' },
      { first: 4, last: 6, text: '\uFE0F' },
    ]);
  });
});

describe('the playground tooltip of a character spelled by byte tokens (gpt-classics)', function () {
  this.timeout(120_000);
  let model: LanguageModel;
  before(async () => {
    model = await loadModel('gpt-classics');
  });
  after(() => model?.dispose?.());

  it('scores "déjà vu at the café 🌧️": every piece shows text, a character\'s p is the product of its bytes\' p, lone bytes show as bytes', async () => {
    const prompt = 'It was déjà vu at the café 🌧️ by the harbour.';
    const [c] = await generate(model, prompt, { echoPrompt: true, maxTokens: 0, topKPerToken: 5, temperature: 0 });
    const tokens = c.promptTokens!;
    const pieces = mergeUtf8(tokens);
    assert.strictEqual(pieces.map((p) => p.text).join(''), prompt);
    assert.deepStrictEqual(
      pieces.filter((p) => p.text === ''),
      [],
      'no empty span',
    );
    const e = pieces.find((p) => p.text === 'é')!;
    assert.ok(e, pieces.map((p) => p.text).join('|'));
    const group = tokens.slice(e.first, e.last + 1);
    assert.ok(group.length >= 2, 'gpt-classics spells é in bytes here');
    const tip = pieceTip(group, e.text);
    assert.strictEqual(tip.shown, 'é');
    assert.ok(tip.byteTokens);
    assert.deepStrictEqual(
      tip.spelledBy.map((t) => t.label),
      ['<0xC3>', '<0xA9>'],
    );
    assert.strictEqual(tip.logProb, group[0].logProb + group[1].logProb);
    assert.ok(tip.logProb < group[1].logProb, "the character's p is below its last byte's");
    assert.strictEqual(tip.rank, undefined, 'no rank for a character of several tokens');
    // Alternatives where the character starts: lone lead bytes among them, shown as bytes.
    for (const a of tip.alternatives) assert.ok(!a.label.includes('\uFFFD'), a.label);
    assert.ok(
      tip.alternatives.some((a) => /^<0x[0-9A-F]{2}>$/.test(a.label)),
      tip.alternatives.map((a) => a.label).join(', '),
    );
    assert.strictEqual(tip.alternatives.find((a) => a.chosen)!.label, '<0xC3>');
    // The emoji: four byte tokens, then its variation selector's three.
    const rain = pieces.find((p) => p.text === '🌧')!;
    assert.strictEqual(rain.last - rain.first + 1, 4);
    assert.strictEqual(
      pieceTip(tokens.slice(rain.first, rain.last + 1), rain.text)
        .spelledBy.map((t) => t.label)
        .join(' + '),
      '<0xF0> + <0x9F> + <0x8C> + <0xA7>',
    );
  });

  it('labels a whole token by its text and a generated byte token by its byte', () => {
    assert.strictEqual(tokenLabel({ text: ' the' }), '␣the');
    assert.strictEqual(tokenLabel({ text: '\uFFFD', bytes: [0xc3] }), '<0xC3>');
    assert.strictEqual(tokenLabel({ text: 'é', bytes: utf8('é') }), 'é');
  });
});
