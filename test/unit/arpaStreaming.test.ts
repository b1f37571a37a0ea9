import * as assert from 'assert';
import { xxh32, Xxh32 } from '../../src/core/checksum';
import { parseAsciiDecimal } from '../../src/core/ngram/asciiDecimal';
import { arpaText } from '../../src/core/ngram/arpaWriter';
import { ArpaReader, readArpa, readArpaBytes } from '../../src/core/ngram/arpaReader';
import { DEFAULT_FALLBACK_DISCOUNTS, KneserNeyTrainer } from '../../src/core/ngram/kneserNey';
import type { NgramModel } from '../../src/core/ngram/ngramModel';
import { addTextToTrainer } from '../../src/core/ngram/textTraining';

/** Words of one, two, three and four UTF-8 bytes per character, so that cuts fall inside characters. */
const TEXT = [
  'the café sat on the naïve mat',
  'a 日本 cat and a dog 🐕 sat',
  'the dog sat on the café mat',
  'Ελληνικά words on the mat 🐕',
  'the cat ate the naïve dog',
].join('\n');

function trained(order: number): NgramModel {
  const t = new KneserNeyTrainer({ order, discountFallback: DEFAULT_FALLBACK_DISCOUNTS });
  addTextToTrainer(t, TEXT + '\n', 'whitespace');
  return t.build().model;
}

const arpaOf = (m: NgramModel) => arpaText(m);

/** The ARPA with each section's entries in KenLM's order (by last word, then the word before, ...) instead of trie order. */
function suffixOrdered(arpa: string, vocab: readonly string[]): string {
  const rank = new Map(vocab.map((w, i) => [w, i]));
  return arpa.replace(/(\\(\d)-grams:\n)([^\\]*?)(\n\n|\n(?=\\))/g, (_all, head: string, k: string, body: string, tail: string) => {
    if (k === '1') return head + body + tail;
    const lines = body.split('\n');
    const key = (line: string) =>
      line
        .split('\t')[1]
        .split(' ')
        .reverse()
        .map((w) => rank.get(w)!);
    lines.sort((a, b) => {
      const x = key(a);
      const y = key(b);
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] - y[i];
      return 0;
    });
    return head + lines.join('\n') + tail;
  });
}

function pushAll(chunks: Iterable<Uint8Array>, name = 'm.arpa'): NgramModel {
  const reader = new ArpaReader(name);
  for (const c of chunks) reader.push(c);
  return reader.end();
}

describe('ARPA reader: streaming bytes', () => {
  const model = trained(4);
  const arpa = arpaOf(model);
  const bytes = new TextEncoder().encode(arpa);

  it('reads the same model whatever the cut between two chunks (inside lines, inside UTF-8 characters)', () => {
    let insideCharacter = 0;
    for (let cut = 0; cut <= bytes.length; cut++) {
      if ((bytes[cut] & 0xc0) === 0x80) insideCharacter++;
      const m = pushAll([bytes.subarray(0, cut), bytes.subarray(cut)]);
      assert.strictEqual(arpaOf(m), arpa, `cut at byte ${cut}`);
    }
    assert.ok(insideCharacter > 10, `${insideCharacter} cuts inside a character`);
  });

  it('reads the same model from chunks of 1 to 13 bytes, and with every chunk a reused buffer', () => {
    for (let size = 1; size <= 13; size++) {
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
      assert.strictEqual(arpaOf(pushAll(chunks)), arpa, `chunks of ${size}`);
    }
    // A source that reads into one buffer: the reader must copy what it keeps of a chunk.
    const reader = new ArpaReader('m.arpa');
    const buffer = new Uint8Array(7);
    for (let at = 0; at < bytes.length; at += buffer.length) {
      const n = Math.min(buffer.length, bytes.length - at);
      buffer.set(bytes.subarray(at, at + n));
      reader.push(buffer.subarray(0, n));
      buffer.fill(0x41);
    }
    assert.strictEqual(arpaOf(reader.end()), arpa);
  });

  it('reads CRLF line ends, trailing spaces and tabs, and no final line feed', () => {
    assert.strictEqual(arpaOf(readArpa(arpa.replace(/\n/g, '\r\n'))), arpa);
    assert.strictEqual(arpaOf(readArpa(arpa.replace(/\n/g, ' \t\r\n'))), arpa);
    assert.strictEqual(arpaOf(readArpa(arpa.replace(/\n$/, ''))), arpa);
    // Each CRLF cut between its CR and its LF.
    const crlf = new TextEncoder().encode(arpa.replace(/\n/g, '\r\n'));
    const chunks: Uint8Array[] = [];
    let from = 0;
    for (let i = 0; i < crlf.length; i++) {
      if (crlf[i] === 0x0d) {
        chunks.push(crlf.subarray(from, i + 1));
        from = i + 1;
      }
    }
    chunks.push(crlf.subarray(from));
    assert.strictEqual(arpaOf(pushAll(chunks)), arpa);
  });

  it('trims white space beyond ASCII at a line end as the line-by-line rules do', () => {
    // U+00A0 and U+3000 after the last word of a highest-order line are not part of the word.
    const spaced = arpa.replace(/(\n-[\d.]+\t\S+ \S+ \S+ \S+)\n/, '$1\u00a0\u3000\n');
    assert.notStrictEqual(spaced, arpa);
    assert.strictEqual(arpaOf(readArpa(spaced)), arpa);
  });

  it("sorts sections in KenLM's suffix order into trie order, and names both lines of a repeat there", () => {
    const kenlm = suffixOrdered(arpa, model.vocab.allWords());
    assert.notStrictEqual(kenlm, arpa);
    assert.strictEqual(arpaOf(readArpa(kenlm)), arpa);
    // A repeated 3-gram far from its first line: found when the section is sorted, both lines named.
    const lines = kenlm.split('\n');
    const start = lines.indexOf('\\3-grams:') + 1;
    const first = lines[start];
    const end = lines.indexOf('', start);
    const repeated = [...lines.slice(0, end), first.replace(/^\S+/, '-0.5'), ...lines.slice(end)]
      .join('\n')
      .replace(/ngram 3=(\d+)/, (_, c) => `ngram 3=${Number(c) + 1}`);
    assert.throws(
      () => readArpa(repeated, 'r.arpa'),
      (e: Error) => e.message === `r.arpa:${end + 1}: duplicate 3-gram (also on line ${start + 1})`,
    );
  });

  it('sorts sections in any other order into trie order: children of a parent out of order, a repeat among them', () => {
    // Each section above the unigrams reversed: every parent's children come in descending order.
    const reversed = arpa.replace(
      /(\\([2-9])-grams:\n)([^\\]*?)(\n\n|\n(?=\\))/g,
      (_all, head: string, _k: string, body: string, tail: string) => head + body.split('\n').reverse().join('\n') + tail,
    );
    assert.notStrictEqual(reversed, arpa);
    assert.strictEqual(arpaOf(readArpa(reversed)), arpa);
    const lines = reversed.split('\n');
    const start = lines.indexOf('\\2-grams:') + 1;
    const end = lines.indexOf('', start);
    const repeated = [...lines.slice(0, end), lines[start].replace(/^\S+/, '-0.5'), ...lines.slice(end)]
      .join('\n')
      .replace(/ngram 2=(\d+)/, (_, c) => `ngram 2=${Number(c) + 1}`);
    assert.throws(
      () => readArpa(repeated, 'r.arpa'),
      (e: Error) => e.message === `r.arpa:${end + 1}: duplicate 2-gram (also on line ${start + 1})`,
    );
  });

  it('reads numbers as Number() does, whatever their form', () => {
    const forms = [
      '-0.6518771',
      '-99',
      '0',
      '-0',
      '+0',
      '-1e-3',
      '-1E-3',
      '-.5',
      '-5.',
      '-1.2345678e-05',
      '-0.12345678901234567',
      '-1e-30',
      '-123456789012345678',
    ];
    for (const f of forms) {
      const b = new TextEncoder().encode(f);
      const fast = parseAsciiDecimal(b, 0, b.length);
      assert.ok(Number.isNaN(fast) || Object.is(fast, Number(f)), `${f}: ${fast} vs ${Number(f)}`);
      const m = readArpa(arpa.replace(/\n-[\d.]+(\tcat\t)/, `\n${f}$1`));
      assert.strictEqual(m.orders[0].logProb[m.vocab.id('cat')!], Math.fround(Number(f)), f);
    }
    for (const f of ['-', '.', 'e5', '-1e', '1x', '--1', '0x10']) {
      const b = new TextEncoder().encode(f);
      assert.ok(Number.isNaN(parseAsciiDecimal(b, 0, b.length)), f);
    }
  });

  it('reads a file of tens of megabytes made on the fly, in suffix order, a chunk at a time', () => {
    // Two orders: every word but </s> followed by FANOUT others, in KenLM's order (by last word, then the first).
    const V = 20000;
    const FANOUT = 60;
    const name = (i: number) => (i < 3 ? ['<unk>', '<s>', '</s>'][i] : `w${i}é`);
    const next = (i: number, j: number) => 3 + ((i + j) % (V - 3));
    const bigrams = (V - 1) * FANOUT;
    const enc = new TextEncoder();
    let bytes = 0;
    function* chunks(): Generator<Uint8Array> {
      let text = `\\data\\\nngram 1=${V}\nngram 2=${bigrams}\n\n\\1-grams:\n-2\t<unk>\t0\n-99\t<s>\t-0.5\n-1\t</s>\n`;
      for (let i = 3; i < V; i++) text += `-4.25\t${name(i)}\t-0.25\n`;
      yield enc.encode(text + '\n\\2-grams:\n');
      const byLast: number[][] = Array.from({ length: V }, () => []);
      for (let i = 0; i < V; i++) if (i !== 2) for (let j = 0; j < FANOUT; j++) byLast[next(i, j)].push(i);
      let out = '';
      for (let last = 0; last < V; last++) {
        for (const first of byLast[last]) out += `-1.5\t${name(first)} ${name(last)}\n`;
        if (out.length > 1 << 16) {
          yield enc.encode(out);
          out = '';
        }
      }
      yield enc.encode(out + '\n\\end\\\n');
    }
    const reader = new ArpaReader('big.arpa');
    for (const c of chunks()) {
      bytes += c.length;
      reader.push(c);
    }
    const m = reader.end();
    assert.ok(bytes > 20e6, `${bytes} bytes`);
    assert.deepStrictEqual(m.counts, [V, bigrams]);
    const v = m.vocab;
    const w5 = v.id(name(5))!;
    assert.strictEqual(m.logProb10([w5], v.id(name(next(5, 7)))!), Math.fround(-1.5));
    // An absent bigram backs off: the context's backoff plus the unigram.
    const absent = v.id(name(next(5, FANOUT)))!;
    assert.strictEqual(m.find([w5, absent], 0, 2), -1);
    assert.strictEqual(m.logProb10([w5], absent), Math.fround(-0.25) + Math.fround(-4.25));
  });

  it('reads bytes handed over at once, a megabyte at a time', () => {
    assert.strictEqual(arpaOf(readArpaBytes(bytes)), arpa);
  });
});

describe('XXH32 in pieces', () => {
  it("gives xxHash's published values (seed 0), whole and in pieces", () => {
    // The empty input and "a" / "abc" from the xxHash test vectors; the sentence from python-xxhash's documentation.
    const known: [string, number][] = [
      ['', 0x02cc5d05],
      ['a', 0x550d7456],
      ['abc', 0x32d153ff],
      ['Nobody inspects the spammish repetition', 0xe2293b2f],
    ];
    for (const [text, value] of known) {
      const bytes = new TextEncoder().encode(text);
      assert.strictEqual(xxh32(bytes), value, JSON.stringify(text));
      const h = new Xxh32();
      for (let at = 0; at < bytes.length; at += 5) h.update(bytes.subarray(at, at + 5));
      assert.strictEqual(h.digest(), value, `${JSON.stringify(text)} in pieces of 5`);
    }
  });

  it('gives xxh32 of the whole, however the bytes are cut', () => {
    const bytes = new Uint8Array(1000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
    for (const length of [0, 1, 3, 15, 16, 17, 31, 64, 999, 1000]) {
      const whole = xxh32(bytes.subarray(0, length));
      for (const piece of [1, 3, 4, 5, 16, 17, 100]) {
        const h = new Xxh32();
        // Odd offsets too: unaligned pieces.
        for (let at = 0; at < length; at += piece) h.update(bytes.subarray(at, Math.min(length, at + piece)));
        assert.strictEqual(h.digest(), whole, `${length} bytes in pieces of ${piece}`);
      }
    }
  });
});
