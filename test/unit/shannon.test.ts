import * as assert from 'assert';
import type { LanguageModel, ModelInfo, SequenceScores, Token, Tokenizer } from '../../src/core/model';
import { foldToShannon27, makeAlphabet } from '../../src/core/shannon/alphabet';
import { boundsFromGuesses, boundsReading, boundsText, estimatesNote, guessFrequencies, readBounds, shannonBounds } from '../../src/core/shannon/bounds';
import { alphabetOf, gameStats, gamesToCsv, guess, isFinished, modelPrefix, newGame, visibleText } from '../../src/core/shannon/game';
import { playModel } from '../../src/core/shannon/modelPlayer';
import { NextCharPredictor, guessRank } from '../../src/core/shannon/nextCharDistribution';
import { loadModel } from '../../src/node/modelLoader';
import { WINDOW_TEST_MODEL } from './helpers';

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} ≠ ${b}`);

describe('Shannon bounds', () => {
  it('read lower first on one line; crossed estimates are named, never a range that reads backwards (drive7)', () => {
    assert.strictEqual(boundsText(boundsReading(1.92, 2.28, 300, 27)), '1.92–2.28 bits/char');
    assert.strictEqual(boundsText(boundsReading(1.2, 2.4, 10, 27)), '1.20–2.40 bits/char (estimates, not yet bounds)');
    assert.strictEqual(boundsText(boundsReading(2.28, 1.92, 300, 27)), 'lower 2.28, upper 1.92 bits/char (estimates, not yet bounds)');
    assert.strictEqual(boundsText(boundsReading(2.28, 1.92, 10, 27)), 'lower 2.28, upper 1.92 bits/char (estimates, not yet bounds)');
  });

  it('are 0 and 0 when every character is guessed right first time (Shannon)', () => {
    const b = boundsFromGuesses([1, 1, 1, 1], 27);
    assert.strictEqual(b.lower, 0);
    assert.strictEqual(b.upper, 0);
  });

  it('match hand-computed cases', () => {
    // q = (1/2, 1/2): upper = 1; lower = 1·(1/2 − 1/2)·0 + 2·(1/2 − 0)·1 = 1.
    let b = boundsFromGuesses([1, 2], 27);
    close(b.upper, 1);
    close(b.lower, 1);
    // q = (1/2, 1/4, 1/4): upper = 1.5; lower = 1·(1/4)·0 + 2·0·1 + 3·(1/4)·log2 3 = 0.75·log2 3.
    b = boundsFromGuesses([1, 1, 2, 3], 27);
    close(b.upper, 1.5);
    close(b.lower, 0.75 * Math.log2(3));
    // Always the K-th guess (the last term uses q_{K+1} = 0): lower = 2·(0 − 1)·1 + 3·1·log2 3.
    b = shannonBounds([0, 0, 1]);
    close(b.lower, 3 * Math.log2(3) - 2);
    close(b.upper, 0);
  });

  it('keep lower ≤ upper when q decreases (an ideal predictor), and q sums to 1', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let trial = 0; trial < 200; trial++) {
      const counts = Array.from({ length: 1 + Math.floor(rand() * 50) }, () => 1 + Math.floor(rand() ** 3 * 27));
      const q = guessFrequencies(counts, 27);
      close(
        q.reduce((a, b) => a + b, 0),
        1,
        1e-12,
      );
      const b = shannonBounds([...q].sort((x, y) => y - x));
      assert.ok(b.lower <= b.upper + 1e-12, `${JSON.stringify(counts)}: ${b.lower} > ${b.upper}`);
    }
  });

  it('are estimates, not bounds, below K characters, even when ordered', () => {
    // q = (1/2, 1/2) from 26 characters, K = 27: lower = upper = 1, but 26 < 27.
    const half = (n: number) => Array.from({ length: n }, (_, i) => 1 + (i % 2));
    const few = readBounds(half(26), 27);
    assert.deepStrictEqual(few, { kind: 'estimates', lower: 1, upper: 1, reason: 'few-characters', minCharacters: 27 });
    // From K characters on (27 here: q = (14/27, 13/27), still decreasing) they are bounds.
    const enough = readBounds(half(27), 27);
    assert.strictEqual(enough.kind, 'bounds');
    close(enough.upper, -(14 / 27) * Math.log2(14 / 27) - (13 / 27) * Math.log2(13 / 27));
    close(enough.lower, 2 * (13 / 27));
    assert.strictEqual(readBounds(half(28), 27).kind, 'bounds');
  });

  it('the note gives the reason that applies: too few characters when they are ordered, crossed ones only when crossed', () => {
    // 12 characters, lower 1.77 ≤ upper 1.96 (the drive's game): the reason is the alphabet's size alone.
    const twelve = { kind: 'estimates', lower: 1.77, upper: 1.96, reason: 'few-characters', minCharacters: 27 } as const;
    const note = estimatesNote([{ who: 'you', reading: twelve }], 12);
    assert.match(
      note,
      /^\* Estimates, not yet bounds: 12 characters played, fewer than the alphabet's 27 symbols\. .*below the 4\.75 bits of random text.*from 27 characters on\.$/,
    );
    assert.doesNotMatch(note, /ordered|above the upper/);
    assert.match(estimatesNote([{ who: 'you', reading: twelve }], 1), /1 character played/);
    // 27 characters, crossed for you: that reason alone.
    const crossed = { kind: 'estimates', lower: 1.04, upper: 1, reason: 'crossed', minCharacters: 27 } as const;
    const both = estimatesNote([{ who: 'you', reading: crossed }], 27);
    assert.strictEqual(
      both,
      "* Estimates, not bounds: for you the lower estimate (1.04 bits) is above the upper (1.00 bits): the guess frequencies are not yet in decreasing order, which Shannon's bounds assume; keep playing.",
    );
    // Too few and crossed for the model: both, each once.
    const fewCrossed = { ...twelve, lower: 2.1 };
    const two = estimatesNote(
      [
        { who: 'you', reading: twelve },
        { who: 'the model', reading: fewCrossed },
      ],
      12,
    );
    assert.match(two, /fewer than the alphabet's 27 symbols.* For the model the lower estimate \(2\.10 bits\) is above the upper \(1\.96 bits\)/);
    assert.doesNotMatch(two, /for you the lower/i);
  });

  it('are estimates when the lower one comes out above the upper one (frequencies not decreasing)', () => {
    // Guesses 2, 2, 1 with K = 2: q = (1/3, 2/3); upper = H(1/3, 2/3) = 0.918…;
    // lower = 1·(1/3 − 2/3)·log2 1 + 2·(2/3 − 0)·log2 2 = 4/3 > upper.
    const r = readBounds([2, 2, 1], 2);
    assert.strictEqual(r.kind, 'estimates');
    assert.strictEqual(r.kind === 'estimates' && r.reason, 'crossed');
    close(r.lower, 4 / 3);
    close(r.upper, Math.log2(3) - 2 / 3);
    // The same frequencies sorted (1, 1, 2) are ordered: lower = 2·(1/3)·1 = 2/3 ≤ upper.
    const sorted = readBounds([1, 1, 2], 2);
    assert.strictEqual(sorted.kind, 'bounds');
    close(sorted.lower, 2 / 3);
  });

  it('reject guess counts outside 1..K', () => {
    assert.throws(() => guessFrequencies([0], 27), /between 1 and 27/);
    assert.throws(() => guessFrequencies([28], 27), /between 1 and 27/);
  });
});

describe('Shannon game', () => {
  it('folds text to 27 symbols: case, accents and punctuation', () => {
    assert.strictEqual(foldToShannon27('Café,  NOËL!\nIt’s 1951.'), 'cafe noel it s');
    assert.deepStrictEqual(makeAlphabet('shannon27', '').symbols.length, 27);
    assert.deepStrictEqual(makeAlphabet('all', 'baab\n').symbols, ['\n', 'a', 'b']);
  });

  it('a character no key types (a tab) is found once every other symbol was tried, at guess K, never beyond', () => {
    const g = newGame('tabbed', 'a\tb', 'all', 0, 'id');
    assert.strictEqual(guess(g, 'a'), 'right');
    assert.strictEqual(guess(g, 'a'), 'wrong');
    assert.strictEqual(guess(g, 'b'), 'forced');
    assert.deepStrictEqual(g.guesses, [1, 3]);
    assert.deepStrictEqual(g.wrong, [[], ['a', 'b']]);
    assert.strictEqual(guess(g, 'b'), 'right');
    assert.ok(isFinished(g));
    assert.strictEqual(gameStats(g).person.bounds.kind, 'bounds');
  });

  it('counts guesses, refuses repeats and symbols outside the alphabet, and moves on when right', () => {
    const g = newGame('t', 'The cat.', 'shannon27', 0, 'g1');
    assert.strictEqual(g.text, 'the cat');
    assert.strictEqual(guess(g, 'T'), 'right');
    assert.strictEqual(guess(g, 'a'), 'wrong');
    assert.strictEqual(guess(g, 'A'), 'repeated');
    assert.strictEqual(guess(g, '!'), 'outside');
    assert.strictEqual(guess(g, 'h'), 'right');
    assert.deepStrictEqual(g.guesses, [1, 2]);
    assert.deepStrictEqual(g.wrong, [[], ['a']]);
    assert.strictEqual(visibleText(g), 'th');
    for (const ch of 'e cat') guess(g, ch);
    assert.strictEqual(guess(g, 'x'), 'finished');
    const s = gameStats(g);
    assert.strictEqual(s.played, 7);
    close(s.person.q[0], 6 / 7);
  });

  it('shows and conditions on only the last N letters under the N-gram condition', () => {
    const g = newGame('t', 'abcdef', 'shannon27', 2, 'g2');
    for (const ch of 'abcd') guess(g, ch);
    assert.strictEqual(visibleText(g), 'cd');
    assert.deepStrictEqual(modelPrefix(g, 4), { prefix: 'cd', atStart: false });
    assert.deepStrictEqual(modelPrefix(g, 1), { prefix: 'a', atStart: true });
  });

  it('rejects texts without letters and bad conditions', () => {
    assert.throws(() => newGame('numbers', '1234 ...', 'shannon27', 0, 'x'), /no letters/);
    assert.throws(() => newGame('t', 'abc', 'shannon27', -1, 'x'), /whole number/);
  });

  it('exports every played character as CSV, quoting where needed', () => {
    const g = newGame('a "quoted", title', 'ab', 'shannon27', 0, 'g3');
    guess(g, 'b');
    guess(g, 'a');
    g.modelPlay = { model: 'm', ranks: [2], bits: [1.5] };
    const csv = gamesToCsv([g]).trim().split('\n');
    assert.strictEqual(csv[0], 'game,title,alphabet,letters_shown,position,character,guesses,wrong_guesses,model,model_guesses,model_bits');
    assert.strictEqual(csv[1], 'g3,"a ""quoted"", title",shannon27,all,1,a,2,b,m,2,1.5000');
  });
});

/**
 * A toy model over a small vocabulary whose tokens overlap ("a", "ab", "b", ...), with next-token
 * probabilities that depend on the whole context: the character marginalisation must agree with
 * brute-force enumeration of token sequences.
 */
class OverlappingModel implements LanguageModel {
  readonly info: ModelInfo = { name: 'toy', ...WINDOW_TEST_MODEL, description: 'toy', contextLength: 64 };
  readonly bosId = undefined;
  readonly eosId = 0;
  readonly unkId = undefined;
  readonly unsampleableIds = [];
  readonly vocab = ['<eos>', 'a', 'b', 'c', ' ', 'ab', 'ba', ' a', 'abc', 'ca'];
  readonly tokenizer: Tokenizer;

  constructor() {
    const vocab = this.vocab;
    this.tokenizer = {
      vocabSize: vocab.length,
      sentencePerLine: false,
      // Greedy longest match.
      encode(text: string, _atStart: boolean, offset = 0): Token[] {
        const out: Token[] = [];
        let at = 0;
        while (at < text.length) {
          let best = -1;
          for (let id = 1; id < vocab.length; id++) if (text.startsWith(vocab[id], at) && (best < 0 || vocab[id].length > vocab[best].length)) best = id;
          if (best < 0) throw new Error(`cannot tokenize ${text.slice(at)}`);
          out.push({ id: best, text: vocab[best], start: offset + at, length: vocab[best].length });
          at += vocab[best].length;
        }
        return out;
      },
      decode: (ids) => ids.map((i) => (i === 0 ? '' : vocab[i])).join(''),
      tokenText: (id) => vocab[id],
      continuation: (_previous, id) => ({ text: vocab[id] }),
    };
  }

  get vocabSize(): number {
    return this.vocab.length;
  }

  async nextLogProbs(context: readonly number[]): Promise<Float64Array> {
    let h = 2166136261;
    for (const id of context) h = Math.imul(h ^ (id + 1), 16777619) >>> 0;
    const w = this.vocab.map((_, i) => 0.2 + (Math.imul(h ^ (i * 2654435761), 2246822519) >>> 0) / 2 ** 32);
    const z = w.reduce((a, b) => a + b, 0);
    return Float64Array.from(w, (x) => Math.log(x / z));
  }

  async sequenceLogProbs(): Promise<Float64Array> {
    throw new Error('not used');
  }

  async sequenceScores(): Promise<SequenceScores> {
    throw new Error('not used');
  }
}

/** P(next character | the context tokens, then text r): every token sequence enumerated. */
async function bruteForce(model: OverlappingModel, context: number[], r: string, symbols: readonly string[]): Promise<number[]> {
  const mass = new Array(symbols.length).fill(0);
  const walk = async (ctx: number[], spelled: string, p: number, depth: number): Promise<void> => {
    if (depth > r.length + 1) return;
    const lp = await model.nextLogProbs(ctx);
    for (let id = 1; id < model.vocab.length; id++) {
      const s = spelled + model.vocab[id];
      const q = p * Math.exp(lp[id]);
      if (s.length <= r.length) {
        if (r.startsWith(s)) await walk([...ctx, id], s, q, depth + 1);
      } else if (s.startsWith(r)) {
        const k = symbols.indexOf(s[r.length]);
        if (k >= 0) mass[k] += q;
      }
    }
  };
  await walk(context, '', 1, 0);
  const z = mass.reduce((a, b) => a + b, 0);
  return mass.map((m) => m / z);
}

describe('next-character distribution of a token-level model', () => {
  const model = new OverlappingModel();
  const alphabet = makeAlphabet('all', 'abc ');

  for (const prefix of ['', 'ab', 'c a', 'abca', 'b', 'ab ab']) {
    it(`equals brute-force enumeration after ${JSON.stringify(prefix)}`, async () => {
      const predictor = new NextCharPredictor(model, alphabet, { maxModelCalls: Infinity, minPathProbability: 0 });
      const got = await predictor.distribution(prefix, true);
      const tokens = model.tokenizer.encode(prefix, true);
      const context = tokens.slice(0, -1).map((t) => t.id);
      const r = tokens.length > 0 ? tokens[tokens.length - 1].text : '';
      const want = await bruteForce(model, context, r, alphabet.symbols);
      alphabet.symbols.forEach((s, i) => close(got[i], want[i], 1e-12));
    });
  }

  it('follows a complete last token one step: "c" then a token starting with "a", or the token "ca"', async () => {
    const predictor = new NextCharPredictor(model, alphabet);
    const got = await predictor.distribution('c', true);
    const p = Array.from(await model.nextLogProbs([]), Math.exp);
    const after = Array.from(await model.nextLogProbs([3]), Math.exp);
    // Every token but <eos> starts with a symbol of the alphabet.
    const massA = p[9] + p[3] * (after[1] + after[5] + after[8]);
    const total = p[9] + p[3] * (1 - after[0]);
    close(got[alphabet.symbols.indexOf('a')], massA / total);
  });

  it('follows a character split between byte tokens: gpt-classics gives "é" after "caf" a probability', async function () {
    this.timeout(60_000);
    const gpt = await loadModel('gpt-classics');
    try {
      const alphabet = makeAlphabet('all', 'café ou cafe');
      const p = await new NextCharPredictor(gpt, alphabet).distribution('Un caf', true);
      const e = p[alphabet.symbols.indexOf('é')];
      assert.ok(e > 1e-6, `p(é | "Un caf") = ${e}`);
      close(
        p.reduce((a, b) => a + b, 0),
        1,
        1e-9,
      );
      // The model plays a whole accented line with a finite cross-entropy.
      const game = newGame('t', 'Un café, déjà.', 'all', 0, 'g');
      const bits: number[] = [];
      await playModel(new NextCharPredictor(gpt, alphabetOf(game)), game, 0, Infinity, (g) => bits.push(g.bits));
      assert.ok(bits.every(Number.isFinite), `bits per character: ${bits.map((b) => b.toFixed(1)).join(', ')}`);
    } finally {
      await gpt.dispose?.();
    }
  });

  it('gives a rare 3–4-byte character (an emoji after English text) a probability once the search budget is spent', async function () {
    this.timeout(60_000);
    const gpt = await loadModel('gpt-classics');
    try {
      const game = newGame('t', 'It’s done 🙂 now.', 'all', 0, 'g');
      const bits: number[] = [];
      await playModel(new NextCharPredictor(gpt, alphabetOf(game)), game, 0, Infinity, (g) => bits.push(g.bits));
      assert.ok(bits.every(Number.isFinite), `bits per character: ${bits.map((b) => b.toFixed(1)).join(', ')}`);
      // The emoji is spelled by 4 byte tokens, far below the best-first search's 12 calls: followed on after them.
      assert.ok(bits[Array.from(game.text).indexOf('🙂')] > 20);
    } finally {
      await gpt.dispose?.();
    }
  });

  it('ranks guesses by probability with ties in alphabet order', () => {
    assert.strictEqual(guessRank([0.1, 0.5, 0.4], 2), 2);
    assert.strictEqual(guessRank([0.3, 0.3, 0.4], 1), 3);
    assert.strictEqual(guessRank([0.3, 0.3, 0.4], 0), 2);
  });

  it('lets the embedded n-gram model play: mid-word letters are predicted, not spaces', async function () {
    this.timeout(60_000);
    const ngram = await loadModel('ngram-classics');
    const game = newGame('t', 'It is a truth universally acknowledged, that a single man', 'shannon27', 0, 'g');
    const predictor = new NextCharPredictor(ngram, makeAlphabet('shannon27', ''));
    const p = await predictor.distribution('it is a tru', true);
    close(
      p.reduce((a, b) => a + b, 0),
      1,
      1e-9,
    );
    const best = makeAlphabet('shannon27', '').symbols[p.indexOf(Math.max(...p))];
    assert.ok(['e', 's', 't'].includes(best), `after "it is a tru" the model's first guess is ${JSON.stringify(best)}`);
    const ranks: number[] = [];
    const bits: number[] = [];
    await playModel(predictor, game, 0, game.text.length, (g) => {
      ranks.push(g.rank);
      bits.push(g.bits);
    });
    assert.strictEqual(ranks.length, game.text.length);
    const bpc = bits.reduce((a, b) => a + b, 0) / bits.length;
    // Uniform guessing over 27 symbols costs log2 27 = 4.75 bits; a word model on a famous opening does far better.
    assert.ok(bpc > 0.3 && bpc < 3.5, `model bits per character ${bpc}`);
    game.guesses = ranks;
    game.wrong = ranks.map(() => []);
    game.modelPlay = { model: 'ngram', ranks, bits };
    const stats = gameStats(game);
    assert.strictEqual(stats.model!.played, game.text.length);
    close(stats.model!.bitsPerChar, bpc);
    assert.ok(stats.model!.bounds.upper > 0 && stats.model!.bounds.upper < Math.log2(27));
  });
});
