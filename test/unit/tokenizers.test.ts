import * as assert from 'assert';
import { contextWindow, looksBinary, textWindowAt } from '../../src/core/contextWindow';
import { detokenize, editorPieces, whitespacePieces } from '../../src/core/tokenizers/pretokenizers';

describe('editor pre-tokenizer', () => {
  const samples = [
    'the mouse ate the cheese',
    "  Don't  stop—now!\r\n\ttabs\tand   spaces  \n\n\nend",
    'naïve café, 東京 and emoji 😀😀 ok',
    '',
    '   ',
    '\n',
    'a\u0301 combining',
  ];

  it('gives back the exact text', () => {
    for (const s of samples)
      assert.strictEqual(
        editorPieces(s)
          .map((p) => p.text)
          .join(''),
        s,
      );
  });

  it('keeps words with their leading space, punctuation, whitespace and newlines as tokens', () => {
    assert.deepStrictEqual(
      editorPieces("Hi,  there's\n\ncake.").map((p) => p.text),
      ['Hi', ',', ' ', " there's", '\n', '\n', 'cake', '.'],
    );
    assert.deepStrictEqual(
      editorPieces('a\r\nb').map((p) => p.text),
      ['a', '\r\n', 'b'],
    );
  });

  it('gives offsets into the text (plus a base offset)', () => {
    for (const p of editorPieces('one two  three', 100)) assert.strictEqual('one two  three'.slice(p.start - 100, p.start - 100 + p.length), p.text);
  });
});

describe('whitespace (KenLM) pre-tokenizer', () => {
  it('splits words on whitespace, one </s> per line break, <s> before each line', () => {
    const pieces = whitespacePieces('the cat\n\n  sat down \nno newline');
    assert.deepStrictEqual(
      pieces.map((p) => p.text),
      ['<s>', 'the', 'cat', '</s>', '<s>', '</s>', '<s>', 'sat', 'down', '</s>', '<s>', 'no', 'newline'],
    );
    const text = 'a b\n';
    assert.deepStrictEqual(
      whitespacePieces(text).map((p) => p.text),
      ['<s>', 'a', 'b', '</s>'],
    );
  });

  it('detokenizes words with spaces and </s> as a line break', () => {
    assert.strictEqual(detokenize('whitespace', ['ate', 'the', '</s>', 'cat'], true), ' ate the\ncat');
    assert.strictEqual(detokenize('editor', [' ate', ' the', '<unk>', '\n'], true), ' ate the\n');
  });
});

describe('context window', () => {
  const tok = { sentencePerLine: false };

  it('stays bounded on huge texts and starts at a clean boundary', () => {
    const huge = 'word '.repeat(2_000_000);
    const offset = huge.length - 3;
    const w = contextWindow(huge, offset, 4000, tok);
    assert.ok(offset - w.start <= 4000);
    assert.strictEqual(huge[w.start], ' ');
    assert.strictEqual(w.atStart, false);
  });

  it('starts after a line break when one is in reach, and at the text start when it fits', () => {
    const text = 'x'.repeat(50) + '\nhello there';
    assert.deepStrictEqual(contextWindow(text, text.length, 20, tok), { start: 51, atStart: false });
    assert.deepStrictEqual(contextWindow(text, text.length, 1000, tok), { start: 0, atStart: true });
    assert.deepStrictEqual(contextWindow(text, text.length, 20, { sentencePerLine: true }), { start: 51, atStart: true });
  });

  it('gives positions near one another the same start (a model reuses what it cached for one), read whole or in pieces (drive10)', () => {
    // Hard-wrapped prose: a line break every 70 characters or so.
    const text = Array.from({ length: 400 }, (_, i) => `line ${i} ` + 'word '.repeat(12 + (i % 3))).join('\n');
    const read = (a: number, b: number) => text.slice(a, b);
    const starts = new Set<number>();
    for (let offset = 10_000; offset < 12_000; offset += 37) {
      const whole = contextWindow(text, offset, 4000, tok);
      const piece = textWindowAt(read, offset, 4000, tok);
      assert.strictEqual(piece.startOffset, whole.start, `the same window read in pieces at ${offset}`);
      assert.strictEqual(piece.text, text.slice(whole.start, offset));
      assert.ok(offset - whole.start <= 4000 && offset - whole.start >= 2000 - 80, `a window of ${offset - whole.start} characters at ${offset}`);
      assert.strictEqual(text[whole.start - 1], '\n', 'after a line break');
      starts.add(whole.start);
    }
    // 2,000 characters of positions (about 30 lines), each its own start before: one or two now.
    assert.ok(starts.size <= 2, `${starts.size} starts`);
  });

  it('after a line longer than a quarter of the window, does not start at a line start that would leave a few characters (hostile28 H1)', () => {
    // Paragraphs a line, of about 2,600 and 250 characters in turn.
    const text = Array.from({ length: 60 }, (_, i) => `para ${i} ` + 'words and more '.repeat(i % 2 ? 16 : 173)).join('\n');
    const read = (a: number, b: number) => text.slice(a, b);
    let atLineStart = 0;
    for (let offset = 8_000; offset < text.length; offset += 53) {
      const w = textWindowAt(read, offset, 4000, tok);
      const chars = offset - w.startOffset;
      assert.ok(chars >= 1000 && chars <= 4000, `a window of ${chars} characters at ${offset}`);
      assert.ok(text[w.startOffset - 1] === '\n' || /\s/.test(text[w.startOffset]), `a clean start at ${w.startOffset}`);
      if (text[w.startOffset - 1] === '\n') atLineStart++;
    }
    assert.ok(atLineStart > 0, 'line starts are still taken where they leave enough');
    // Lines without spaces (CJK as surrogate pairs too, base64): the window starts inside them, not between a character's halves (hostile29 1).
    const spaceless = Array.from({ length: 20 }, (_, i) => 'a line of prose\n' + (i % 2 ? '𝒜中'.repeat(1_100) : 'QUJD'.repeat(800))).join('\n');
    for (let offset = 8_000; offset < spaceless.length; offset += 97) {
      const w = textWindowAt((a, b) => spaceless.slice(a, b), offset, 4000, tok);
      assert.ok(offset - w.startOffset >= 1000 && offset - w.startOffset <= 4000, `a window of ${offset - w.startOffset} characters at ${offset}`);
      assert.ok(!/[\uDC00-\uDFFF]/.test(spaceless[w.startOffset]), `not inside a character at ${w.startOffset}`);
    }
  });

  it('recognises binary text by many NUL characters, not by one typed into a text (hostile13 L8)', () => {
    assert.ok(!looksBinary('plain text'));
    assert.ok(!looksBinary('abc\0def'), 'one NUL typed into a text');
    assert.ok(!looksBinary('a text with a few stray NULs \0\0 here and \0 there'.repeat(2)));
    assert.ok(looksBinary('\0\0\0\0\0\0\0\0ELF'), 'a short binary header');
    // Random bytes as the editor reads them: a NUL in every 256 characters on average.
    let bytes = '';
    let x = 7;
    for (let i = 0; i < 100_000; i++) bytes += String.fromCharCode((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24);
    assert.ok(looksBinary(bytes), 'random bytes');
    // Seven NULs in a novel are a few typed ones.
    const novel = 'It was a dark and stormy night. '.repeat(40_000);
    assert.ok(!looksBinary(novel.slice(0, 500_000) + '\0'.repeat(7) + novel.slice(500_000)));
  });
});
