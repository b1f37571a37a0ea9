import * as assert from 'assert';
import { ModelFormatError } from '../../src/core/errors';
import { readArpa } from '../../src/core/ngram/arpaReader';
import { arpaText, writeNumber } from '../../src/core/ngram/arpaWriter';
import { xxh32 } from '../../src/core/checksum';
import { readNgramBinary, writeNgramBinary } from '../../src/core/ngram/binaryFormat';
import { DEFAULT_FALLBACK_DISCOUNTS, KneserNeyTrainer } from '../../src/core/ngram/kneserNey';
import { addTextToTrainer } from '../../src/core/ngram/textTraining';
import { NgramLanguageModel } from '../../src/core/ngram/ngramLanguageModel';
import { loadModel } from '../../src/node/modelLoader';

const GOOD = `some preamble kenlm writes

\\data\\
ngram 1=5
ngram 2=3

\\1-grams:
-1.0\t<unk>\t0
-99\t<s>\t-0.30103
-0.69897\t</s>
-0.5\tcat\t-0.2
-0.6\tsat

\\2-grams:
-0.1\t<s> cat
-0.2\tcat sat
-0.05\tsat </s>

\\end\\
`;

/** A binary model file with its checksum recomputed after an edit, as a forger would. */
function resealed(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  new DataView(out.buffer).setUint32(out.length - 4, xxh32(out.subarray(0, out.length - 4)), true);
  return out;
}

function arpaError(text: string): ModelFormatError {
  try {
    readArpa(text, 'm.arpa');
  } catch (e) {
    assert.ok(e instanceof ModelFormatError, `expected ModelFormatError, got ${e}`);
    return e;
  }
  assert.fail('expected an error');
}

describe('ARPA files', () => {
  it('reads KenLM-style ARPA and applies backoff as query does', () => {
    const m = readArpa(GOOD);
    const v = m.vocab;
    const id = (w: string) => v.id(w)!;
    assert.deepStrictEqual(m.counts, [5, 3]);
    assert.ok(Math.abs(m.logProb10([id('<s>')], id('cat')) - -0.1) < 1e-6);
    // "<s> sat" is absent: backoff(<s>) + p(sat)
    assert.ok(Math.abs(m.logProb10([id('<s>')], id('sat')) - (-0.30103 - 0.6)) < 1e-6);
    // "sat cat" absent and sat has no backoff (0)
    assert.ok(Math.abs(m.logProb10([id('sat')], id('cat')) - -0.5) < 1e-6);
  });

  it('adds a missing <unk> with log10 p = -100 as KenLM does', () => {
    const m = readArpa(GOOD.replace('ngram 1=5', 'ngram 1=4').replace('-1.0\t<unk>\t0\n', ''));
    assert.ok(Math.abs(m.logProb10([], m.vocab.unkId!) - -100) < 1e-3);
  });

  it('names the line of every malformed input', () => {
    const cases: [string, RegExp, number][] = [
      [GOOD.replace('-0.5\tcat\t-0.2', '-x\tcat\t-0.2'), /bad log-probability/, 11],
      [GOOD.replace('-0.5\tcat\t-0.2', '-0.5\tcat\t-0.2\textra'), /fields/, 11],
      [GOOD.replace('-0.2\tcat sat', '-0.2\tcat dog'), /"dog" is not among the unigrams/, 16],
      [GOOD.replace('ngram 2=3', 'ngram 2=4').replace('-0.05\tsat </s>', '-0.05\tsat </s>\n-0.07\tsat </s>'), /duplicate 2-gram \(also on line 17\)/, 18],
      [GOOD.replace('ngram 2=3', 'ngram 2=4'), /header says 4 2-grams, the section has 3/, 18],
      [GOOD.replace('-0.2\tcat sat', '-0.2\tsat cat sat'), /bad backoff "sat"/, 16],
      [GOOD.replace('\\2-grams:', '\\3-grams:'), /expected "\\2-grams:"/, 14],
      [GOOD.replace('\\end\\', ''), /expected \\end\\/, 19],
      // The line quoted as the file holds it, one backslash each (hostile L4).
      [GOOD.replace('\\end\\', '\\2-grams:\n\\end\\'), /expected \\end\\, got "\\2-grams:"$/, 19],
      // An empty last field is a cut line, not a backoff of 0 (hostile L6); with CRLF too, and at the end of a highest-order line.
      [GOOD.replace('-0.6\tsat', '-0.6\tsat\t'), /line ends with a tab and nothing after it: an empty field/, 12],
      [GOOD.replace('-0.6\tsat', '-0.6\tsat\t\r'), /an empty field/, 12],
      [GOOD.replace('-0.2\tcat sat', '-0.2\tcat sat\t '), /an empty field/, 16],
      [GOOD.replace('-0.5\tcat\t-0.2', '-0.5\tcat\t-0.2\t'), /an empty field/, 11],
      ['hello\nworld\n', /no \\data\\ section/, 2],
      [GOOD.replace('-0.6\tsat', '0.6\tsat'), /positive/, 12],
      // Both lines of a repeated unigram (hostile11 Low 1).
      [GOOD.replace('-0.6\tsat', '-0.6\tcat'), /duplicate unigram "cat" \(also on line 11\)$/, 12],
      // A file that stops inside an entry line is said to end there (hostile11 Low 2).
      [
        GOOD.slice(0, GOOD.indexOf('-0.2\tcat sat') + '-0.2\tcat'.length),
        /got 2 fields; the file ends in this line, without a line break: is it cut short\?$/,
        16,
      ],
      [GOOD.replace('-99\t<s>\t-0.30103\n', '').replace('ngram 1=5', 'ngram 1=4'), /no <s> unigram/, 12],
    ];
    for (const [text, message, line] of cases) {
      const e = arpaError(text);
      assert.match(e.message, message);
      assert.strictEqual(e.line, line, `${e.message}`);
      assert.match(e.message, new RegExp(`^m\\.arpa:${line}: `));
    }
  });

  it('writes what it reads (a trained model survives ARPA and binary round trips)', () => {
    const t = new KneserNeyTrainer({ order: 3, discountFallback: DEFAULT_FALLBACK_DISCOUNTS });
    addTextToTrainer(t, 'the cat sat on the mat\nthe dog sat on the log\na cat and a dog\n', 'whitespace');
    const { model } = t.build();
    const text = arpaText(model);
    assert.match(text, /^\\data\\\nngram 1=\d+\nngram 2=\d+\nngram 3=\d+\n/);
    const back = readArpa(text);
    assert.strictEqual(arpaText(back), text);
    const words = ['the', 'cat', 'sat', 'on', 'dog', '</s>', '<unk>'].map((w) => model.vocab.id(w)!);
    for (const a of words)
      for (const b of words)
        for (const c of words) {
          assert.ok(Math.abs(back.logProb10([a, b], c) - model.logProb10([a, b], c)) < 1e-6);
        }
    const bin = writeNgramBinary(model, { name: 'tiny', tokenizer: 'whitespace' });
    const fromBin = readNgramBinary(bin);
    assert.strictEqual(fromBin.metadata.name, 'tiny');
    assert.strictEqual(arpaText(fromBin.model), text);
  });

  it('writes numbers as Number(x.toPrecision(7)).toString() does, for float32 values of every magnitude', () => {
    const buf = new Uint8Array(64);
    const decoder = new TextDecoder();
    const f = new Float32Array(1);
    const bits = new Uint32Array(f.buffer);
    // A fixed generator, so that a failure repeats: xorshift32.
    let state = 0x9e3779b9;
    const next = () => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return state >>> 0;
    };
    const values = [0, -0, 1, -1, 10, -10, 100, 1e6, 1e7, 9999999, 9999999.5, 0.1, -0.1, 1e-6, -1e-6, 1e-7, 1e15, 1e16, -99, 0.5, -0.30103, 123456.7];
    for (let i = 0; i < 100_000; i++) {
      bits[0] = next(); // any float32: every exponent, the fast path's and the string's
      if (Number.isFinite(f[0])) values.push(f[0]);
      f[0] = -(next() / 2 ** 32) * 8; // log10 probabilities
      values.push(f[0]);
      f[0] = -(next() / 2 ** 32) * (next() / 2 ** 32); // backoffs, small ones included
      values.push(f[0]);
    }
    for (const x of values) {
      const end = writeNumber(buf, 0, x);
      assert.strictEqual(decoder.decode(buf.subarray(0, end)), Number(x.toPrecision(7)).toString(), `${x}`);
    }
  });

  it('rejects truncated or foreign binary files', () => {
    const t = new KneserNeyTrainer({ order: 2, discountFallback: DEFAULT_FALLBACK_DISCOUNTS });
    addTextToTrainer(t, 'a b c\n', 'whitespace');
    const bin = writeNgramBinary(t.build().model, { name: 'x', tokenizer: 'whitespace' });
    assert.throws(() => readNgramBinary(bin.subarray(0, bin.length - 8), 'x.ngram'), /x\.ngram: file is truncated/);
    assert.throws(() => readNgramBinary(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), 'y'), /bad magic/);
    const badHeader = bin.slice();
    badHeader[24] = 0x7b;
    badHeader[20] = 0x5d;
    assert.throws(() => readNgramBinary(badHeader, 'z'), /z: the file is damaged: its checksum does not match/);
    assert.throws(() => readNgramBinary(resealed(badHeader), 'z'), /z: the header is not valid JSON/);
  });
});

describe('a non-normalised ARPA model (hostile H12)', () => {
  /** KenLM's layout: <s> written with p = 1 (log10 0), as lmplz writes it, never predicted. */
  const arpa = (unigrams: [number, string][]) =>
    `\\data\\\nngram 1=${unigrams.length}\n\n\\1-grams:\n${unigrams.map(([p, w]) => `${Math.log10(p)}\t${w}`).join('\n')}\n\n\\end\\\n`;
  const load = (text: string) => new NgramLanguageModel(readArpa(text, 'm.arpa'), 'whitespace', 'm');

  it('a model whose 1-grams (but <s>) sum to 1.24 warns that its numbers are scores, and which way sums are off', () => {
    const m = load(
      arpa([
        [0.04, '<unk>'],
        [1, '<s>'],
        [0.2, '</s>'],
        [0.5, 'a'],
        [0.5, 'b'],
      ]),
    );
    assert.match(m.info.warning ?? '', /1-gram probabilities sum to 1\.24, not 1: it is not a probability distribution/);
    assert.match(m.info.warning!, /alternatives can sum to more than 100 %.*perplexity .* lower/);
    const under = load(
      arpa([
        [0.1, '<unk>'],
        [1, '<s>'],
        [0.2, '</s>'],
        [0.2, 'a'],
      ]),
    );
    assert.match(under.info.warning ?? '', /sum to 0\.500.*less than 100 %.*higher/);
  });

  it('a normalised model has no warning: KenLM layout (<s> at p = 1), a model trained here, ngram-classics', async () => {
    assert.strictEqual((await loadModel('ngram-classics')).info.warning, undefined);
    assert.strictEqual(
      load(
        arpa([
          [0.1, '<unk>'],
          [1, '<s>'],
          [0.3, '</s>'],
          [0.3, 'a'],
          [0.3, 'b'],
        ]),
      ).info.warning,
      undefined,
    );
    const trainer = new KneserNeyTrainer({ order: 3, discountFallback: DEFAULT_FALLBACK_DISCOUNTS });
    addTextToTrainer(trainer, 'the cat sat on the mat\nthe dog sat on the log\n', 'whitespace');
    assert.strictEqual(load(arpaText(trainer.build().model)).info.warning, undefined);
  });
});
