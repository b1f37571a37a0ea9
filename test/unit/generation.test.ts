import * as fs from 'fs';
import * as path from 'path';
import * as assert from 'assert';
import { CancelledError, LmError } from '../../src/core/errors';
import { generate } from '../../src/core/generation';
import { scoreText } from '../../src/core/scoring';
import type { LanguageModel, Token } from '../../src/core/model';
import type { OnnxCausalLm } from '../../src/core/neural/onnxCausalLm';
import { loadModel } from '../../src/node/modelLoader';
import { loadHuggingFaceFolder } from '../../src/node/neuralLoader';
import { CORPUS, ONNX_FIXTURES, REPO, TEST_LOAD_SPEC, TableModel } from './helpers';
import { EngineConnection } from '../../src/core/engine/engineClient';
import { EngineServer } from '../../src/core/engine/engineServer';
import { DEFAULT_FALLBACK_DISCOUNTS, KneserNeyTrainer } from '../../src/core/ngram/kneserNey';
import { addTextToTrainer } from '../../src/core/ngram/textTraining';
import { NgramLanguageModel } from '../../src/core/ngram/ngramLanguageModel';

// Symbols: <s>, </s>, x, y, z. From <s>: x; x → y (0.7) or z (0.3); y → z; z → x (0.6) or </s> (0.4).
const toy = () =>
  new TableModel(
    ['<s>', '</s>', 'x', 'y', 'z'],
    [
      [0, 0, 1, 0, 0],
      [0, 0, 1, 0, 0],
      [0, 0, 0, 0.7, 0.3],
      [0, 0, 0, 0, 1],
      [0, 0.4, 0.6, 0, 0],
    ],
  );

describe('generation', () => {
  it('greedy (T=0) is deterministic and follows the argmax chain', async () => {
    const [c] = await generate(toy(), 'x', { maxTokens: 4, temperature: 0 });
    assert.strictEqual(c.text, 'yzxy');
    assert.strictEqual(c.finishReason, 'length');
    assert.deepStrictEqual(
      c.tokens.map((t) => t.text),
      ['y', 'z', 'x', 'y'],
    );
    assert.ok(Math.abs(c.logProb - (Math.log(0.7) + Math.log(1) + Math.log(0.6) + Math.log(0.7))) < 1e-12);
  });

  it('stops at a stop sequence that spans token boundaries, without including it', async () => {
    const [c] = await generate(toy(), 'x', { maxTokens: 10, temperature: 0, stopSequences: ['zx'] });
    assert.strictEqual(c.text, 'y');
    assert.strictEqual(c.finishReason, 'stop');
    assert.deepStrictEqual(
      c.tokens.map((t) => t.text),
      ['y'],
    );
  });

  it('ends at the end-of-sequence token, and never draws <s> although the model gives it mass', async () => {
    const model = toy();
    const completions = await generate(model, 'x', { maxTokens: 50, temperature: 1, numCompletions: 8, seed: 11 });
    assert.ok(completions.some((c) => c.finishReason === 'eos'));
    // From x this model gives <s> (id 0) the most mass: greedy must take y, and no draw may take <s>.
    const bosAfterX = new TableModel(
      ['<s>', '</s>', 'x', 'y', 'z'],
      [
        [0, 0, 1, 0, 0],
        [0, 0, 1, 0, 0],
        [0.5, 0, 0, 0.3, 0.2],
        [0.4, 0, 0.3, 0, 0.3],
        [0.4, 0.3, 0.3, 0, 0],
      ],
    );
    const [greedy] = await generate(bosAfterX, 'x', { maxTokens: 1, temperature: 0 });
    assert.deepStrictEqual(
      greedy.tokens.map((t) => t.text),
      ['y'],
    );
    const drawn = await generate(bosAfterX, 'x', { maxTokens: 20, temperature: 1, numCompletions: 16, seed: 5 });
    const ids = drawn.flatMap((c) => c.tokens.map((t) => t.id));
    assert.ok(ids.length > 50, `${ids.length} tokens drawn`);
    assert.ok(!ids.includes(bosAfterX.bosId), 'a token <s> was drawn');
  });

  it('reproduces completions from a seed; completion i does not depend on how many were asked', async () => {
    const opts = { maxTokens: 12, temperature: 1, seed: 99 };
    const a = await generate(toy(), 'x', { ...opts, numCompletions: 4 });
    const b = await generate(toy(), 'x', { ...opts, numCompletions: 4 });
    const c = await generate(toy(), 'x', { ...opts, numCompletions: 2 });
    assert.deepStrictEqual(
      a.map((x) => x.text),
      b.map((x) => x.text),
    );
    assert.deepStrictEqual(
      a.slice(0, 2).map((x) => x.text),
      c.map((x) => x.text),
    );
    assert.strictEqual(a[0].seed, 99);
    assert.ok(new Set(a.map((x) => x.text)).size > 1, 'different completions from one seed');
  });

  it("each completion's stated seed gives that completion when asked for alone (the playground card's seed)", async () => {
    const model = await loadModel(path.join(REPO, 'models/ngram-classics'));
    for (const seed of [1, 0, -7, 2 ** 32 - 1]) {
      const run = await generate(model, 'the mouse ate the', { maxTokens: 12, temperature: 1.2, numCompletions: 4, seed, stopAtBlankLine: true });
      assert.strictEqual(run[0].seed, seed);
      assert.ok(new Set(run.map((c) => c.seed)).size === 4, `seeds repeat: ${run.map((c) => c.seed)}`);
      for (const c of run) {
        assert.ok(Number.isInteger(c.seed) && c.seed >= -(2 ** 31) && c.seed < 2 ** 32, `seed ${c.seed} is not one a seed box takes`);
        const [alone] = await generate(model, 'the mouse ate the', { maxTokens: 12, temperature: 1.2, numCompletions: 1, seed: c.seed, stopAtBlankLine: true });
        assert.deepStrictEqual(
          alone.tokens.map((t) => t.id),
          c.tokens.map((t) => t.id),
          `completion ${c.index + 1} of seed ${seed}: seed ${c.seed} alone gave ${JSON.stringify(alone.text)}, the card showed ${JSON.stringify(c.text)}`,
        );
        assert.strictEqual(alone.text, c.text);
      }
    }
  });

  it('echoes and scores the prompt; max tokens 0 scores the prompt only', async () => {
    const [c] = await generate(toy(), 'xyz', { maxTokens: 0, temperature: 1, echoPrompt: true, topKPerToken: 2 });
    assert.strictEqual(c.text, 'xyz');
    assert.deepStrictEqual(c.tokens, []);
    assert.deepStrictEqual(
      c.promptTokens!.map((t) => t.text),
      ['x', 'y', 'z'],
    );
    assert.ok(Math.abs(c.promptTokens![1].logProb - Math.log(0.7)) < 1e-12);
    assert.deepStrictEqual(
      c.promptTokens![1].alternatives!.map((a) => a.text),
      ['y', 'z'],
    );
  });

  it('reports the top-k alternatives and rank of each generated token, even when it is not among them', async () => {
    const [c] = await generate(toy(), 'x', { maxTokens: 1, temperature: 1, topK: 1, topKPerToken: 1, seed: 1 });
    assert.strictEqual(c.tokens[0].text, 'y');
    assert.strictEqual(c.tokens[0].rank, 1);
    // At T = ∞, y and z are equally likely after x; seed 2 draws z, which is not the top-1 alternative.
    const [d] = await generate(toy(), 'x', { maxTokens: 1, temperature: Infinity, topKPerToken: 1, seed: 2 });
    assert.strictEqual(d.tokens[0].text, 'z');
    assert.strictEqual(d.tokens[0].logProb, Math.log(0.3));
    assert.strictEqual(d.tokens[0].rank, 2);
    assert.deepStrictEqual(
      d.tokens[0].alternatives!.map((a) => [a.text, a.logProb]),
      [['y', Math.log(0.7)]],
    );
  });

  it("a model that joins words with spaces (KenLM's whitespace kind): the echoed and generated tokens spell the text, separators included", async () => {
    const trainer = new KneserNeyTrainer({ order: 3, discountFallback: DEFAULT_FALLBACK_DISCOUNTS });
    addTextToTrainer(trainer, 'the cat sat on the mat\nthe dog sat on the cat\na cat and a dog\n', 'whitespace');
    const model = new NgramLanguageModel(trainer.build().model, 'whitespace', 'words');
    const prompt = 'the cat  sat\nthe dog';
    for (const seed of [1, 2, 3]) {
      const [c] = await generate(model, prompt, { maxTokens: 12, temperature: 1, seed, echoPrompt: true });
      assert.strictEqual(c.promptTokens!.map((t) => t.text).join(''), prompt, 'the echoed prompt');
      assert.strictEqual(c.tokens.map((t) => t.text).join(''), c.text.slice(prompt.length), `seed ${seed}: ${JSON.stringify(c.text)}`);
      assert.ok(
        c.tokens.some((t) => t.text.startsWith(' ')),
        'words after words carry their space',
      );
    }
  });

  it("any tokenizer that puts text between tokens: the generated tokens spell the text through the tokenizer's continuation, not its sentencePerLine", async () => {
    // Words joined by "-" (a tokenizer not of KenLM's whitespace kind): decode puts the separator, tokenText does not.
    const model = toy();
    const sep = (ids: readonly number[]) => ids.filter((i) => i > 1).map((i) => model.symbols[i]);
    model.tokenizer = {
      ...model.tokenizer,
      decode: (ids, precededByText) => (precededByText && sep(ids).length > 0 ? '-' : '') + sep(ids).join('-'),
      continuation(previous, id, precededByText) {
        return { text: this.decode([...previous, id], precededByText).slice(this.decode(previous, precededByText).length) };
      },
    };
    for (const prompt of ['', 'x']) {
      const [c] = await generate(model, prompt, { maxTokens: 6, temperature: 1, seed: 3 });
      assert.ok(c.tokens.length > 1, JSON.stringify(c));
      assert.strictEqual(c.tokens.map((t) => t.text).join(''), c.text, `prompt ${JSON.stringify(prompt)}: ${JSON.stringify(c.tokens.map((t) => t.text))}`);
      assert.ok(c.text.includes('-'), c.text);
    }
  });

  it('echo: a tokenizer whose tokens leave text between them (spaces it drops): the echoed tokens spell the prompt, each at its position', async () => {
    const model = toy();
    const table = model.tokenizer;
    model.tokenizer = {
      ...table,
      encode: (text, atStart, offset = 0) => {
        const out: Token[] = atStart ? [{ id: 0, text: '', start: offset, length: 0 }] : [];
        for (const m of text.matchAll(/\S/g)) out.push({ id: model.symbols.indexOf(m[0]), text: m[0], start: offset + m.index, length: 1 });
        return out;
      },
    };
    const prompt = 'x y  z\nx';
    const [c] = await generate(model, prompt, { maxTokens: 0, temperature: 1, echoPrompt: true });
    assert.deepStrictEqual(
      c.promptTokens!.map((t) => t.text),
      ['x', ' y', '  z', '\nx'],
    );
    assert.deepStrictEqual(
      c.promptTokens!.map((t) => t.position),
      [1, 2, 3, 4],
    );
  });

  it('can be cancelled', async () => {
    const signal = { cancelled: false };
    const model = toy();
    await assert.rejects(generate(model, 'x', { maxTokens: 100, temperature: 1 }, { signal, onToken: () => (signal.cancelled = true) }), CancelledError);
    assert.ok(model.calls < 5);
  });

  it('rejects bad settings with clear messages', async () => {
    await assert.rejects(generate(toy(), 'x', { maxTokens: -1, temperature: 1 }), /max tokens/);
    await assert.rejects(generate(toy(), 'x', { maxTokens: 1, temperature: -2 }), /temperature/);
    await assert.rejects(generate(toy(), 'x', { maxTokens: 1, temperature: 1, numCompletions: 99 }), /completions/);
    await assert.rejects(generate(toy(), 'x', { maxTokens: 1, temperature: 1, topP: 0 }), LmError);
    await assert.rejects(generate(toy(), 'x', { maxTokens: 1, temperature: 1, stopSequences: [''] }), /stop sequences/);
  });

  it('completes "the mouse ate the" with the embedded model and never emits <unk> or <s>', async () => {
    const model = await loadModel('ngram-classics');
    const completions = await generate(model, 'the mouse ate the', { maxTokens: 20, temperature: 1.5, numCompletions: 5, seed: 3 });
    for (const c of completions) {
      assert.ok(c.text.length > 0);
      assert.ok(!/<unk>|<s>/.test(c.text), c.text);
    }
    const [greedy] = await generate(model, 'the mouse ate the', { maxTokens: 3, temperature: 0 });
    const again = await generate(model, 'the mouse ate the', { maxTokens: 3, temperature: 0 });
    assert.strictEqual(greedy.text, again[0].text);
  });
});

describe('generation with the embedded neural model (gpt-classics)', function () {
  this.timeout(120000);
  let lm: OnnxCausalLm;
  before(async () => {
    lm = await loadHuggingFaceFolder(path.join(REPO, 'models', 'gpt-classics'), 'gpt-classics');
  });
  after(() => lm?.dispose());

  it("echo with max tokens 0 scores the prompt (the playground gallery's scoring examples)", async () => {
    const prompt = 'The mouse ate the cheese.';
    const [c] = await generate(lm, prompt, { maxTokens: 0, temperature: 1, echoPrompt: true, topKPerToken: 3 });
    assert.strictEqual(c.text, prompt);
    assert.deepStrictEqual(c.tokens, []);
    assert.strictEqual(c.finishReason, 'length');
    assert.strictEqual(c.promptTokens!.map((t) => t.text).join(''), prompt);
    const scored = c.promptTokens!.slice(1);
    assert.ok(scored.length > 0 && scored.every((t) => Number.isFinite(t.logProb) && t.logProb < 0));
  });

  it('a completion whose first token is end-of-text is empty, finished by "eos"', async () => {
    // The real model and tokenizer, with end-of-text made the likeliest first token.
    const eos = lm.eosId!;
    const eager: LanguageModel = {
      info: lm.info,
      tokenizer: lm.tokenizer,
      vocabSize: lm.vocabSize,
      bosId: lm.bosId,
      eosId: eos,
      unkId: lm.unkId,
      unsampleableIds: lm.unsampleableIds,
      nextLogProbs: async (ids, signal) => {
        const lp = Float64Array.from(await lm.nextLogProbs(ids, signal));
        lp[eos] = 0;
        return lp;
      },
      sequenceLogProbs: (ids, from, signal) => lm.sequenceLogProbs(ids, from, signal),
      sequenceScores: (ids, from, signal) => lm.sequenceScores(ids, from, signal),
    };
    const [c] = await generate(eager, 'It was a dark and', { maxTokens: 5, temperature: 0 });
    assert.strictEqual(c.text, '');
    assert.deepStrictEqual(c.tokens, []);
    assert.strictEqual(c.finishReason, 'eos');
    const [echoed] = await generate(eager, 'It was', { maxTokens: 5, temperature: 0, echoPrompt: true });
    assert.strictEqual(echoed.text, 'It was');
    assert.strictEqual(echoed.finishReason, 'eos');
  });

  it('a stop sequence at the very start of the first token gives an empty completion, finished by "stop"', async () => {
    // Greedy after "It was a dark and" is a word with its leading space: the stop sequence " " ends it at once.
    const [c] = await generate(lm, 'It was a dark and', { maxTokens: 5, temperature: 0, stopSequences: [' '] });
    assert.strictEqual(c.text, '');
    assert.deepStrictEqual(c.tokens, []);
    assert.strictEqual(c.finishReason, 'stop');
  });

  it('a healed prompt past the window is read in the windows of the prompt as typed: after the word it draws again, the tokens are Complete Selection’s (hostile27)', async () => {
    const book = fs.readFileSync(path.join(CORPUS, 'train', 'pride_and_prejudice.txt'), 'utf8');
    let compared = 0;
    // Prompts of about 650 tokens (five windows of 128) that end after a whole word, at 40 places.
    for (let at = 20000; compared < 40; at += 997) {
      const end = book.indexOf(' ', at);
      const prompt = book.slice(end - 2600, end);
      const tokens = lm.tokenizer.encode(prompt, true);
      assert.ok(tokens.length > 4 * lm.info.contextLength, `${tokens.length} tokens`);
      const [healed] = await generate(lm, prompt, { maxTokens: 9, temperature: 0, healPartialWord: true, seed: 0 });
      // Only where healing drew the typed token again: then the rest must follow as without healing.
      if (healed.tokens[0]?.id !== tokens[tokens.length - 1].id) continue;
      const [typed] = await generate(lm, prompt, { maxTokens: 8, temperature: 0, seed: 0 });
      assert.strictEqual(healed.text, typed.text, `the prompt ending at ${end}: ${JSON.stringify(prompt.slice(-40))}`);
      compared++;
    }
  });

  it('decodes an empty list of tokens to an empty string', () => {
    assert.strictEqual(lm.tokenizer.decode([], false), '');
    assert.strictEqual(lm.tokenizer.decode([], true), '');
  });
});

describe('a branch (generation after a chosen token) and the stop sequences (hostile H13)', function () {
  this.timeout(60000);
  it('a chosen token that is a stop sequence ends the branch at once, "stop"; a stop across the path and the new tokens ends it there', async () => {
    const model = await loadModel('ngram-classics');
    const server = new EngineServer(
      async () => ({ model }),
      (r) => setImmediate(() => connection.receive(r)),
    );
    const connection = new EngineConnection((req) => void server.handle(req));
    await connection.request({ op: 'load', spec: TEST_LOAD_SPEC });
    const prompt = 'He said that he would come to the house in the morning and';
    const options = { maxTokens: 30, temperature: 0, topKPerToken: 10, stopSequences: ['.'] };
    const [run] = (await connection.request({ op: 'generate', prompt, options })).completions;
    const period = run.tokens[0].alternatives!.find((a) => a.text === '.');
    assert.ok(period, `"." among the first token's alternatives: ${JSON.stringify(run.tokens[0].alternatives!.map((a) => a.text))}`);
    const branch = (await connection.request({ op: 'generate', prompt, continuation: [period.id], options })).completions[0];
    assert.strictEqual(branch.finishReason, 'stop', `the branch went on: ${JSON.stringify(branch.text)}`);
    assert.deepStrictEqual(branch.tokens, []);
    // A stop that the path's text starts and a new token ends ("e." after a path ending in "the"): the branch ends before it.
    const path = run.tokens.slice(0, 2).map((t) => t.id);
    const across = (
      await connection.request({
        op: 'generate',
        prompt,
        continuation: path,
        options: { ...options, stopSequences: [run.tokens[1].text + run.tokens[2].text] },
      })
    ).completions[0];
    assert.strictEqual(across.finishReason, 'stop');
    assert.strictEqual(across.text, '');
    // A branch whose path holds no stop runs as before.
    const free = (await connection.request({ op: 'generate', prompt, continuation: path, options: { ...options, stopSequences: ['zzz'] } })).completions[0];
    assert.strictEqual(free.finishReason, 'length');
    assert.strictEqual(free.tokens.length, 30);
  });
});

describe("a token's text as a continuation, with every model family's tokenizer", function () {
  this.timeout(120000);
  const families: [string, () => Promise<LanguageModel>][] = [
    ['ngram-classics', () => loadModel('ngram-classics')],
    ['gpt-classics', () => loadHuggingFaceFolder(path.join(REPO, 'models', 'gpt-classics'), 'gpt-classics')],
    ['tiny-llama', () => loadHuggingFaceFolder(path.join(ONNX_FIXTURES, 'tiny-llama'), 'tiny-llama', { device: 'native', dtype: { setting: 'fp32' } })],
    ['tiny-qwen2', () => loadHuggingFaceFolder(path.join(ONNX_FIXTURES, 'tiny-qwen2'), 'tiny-qwen2', { device: 'native', dtype: { setting: 'fp32' } })],
  ];
  for (const [name, load] of families) {
    it(`${name}: continuation = decode(previous + token) − decode(previous), at the text's start and after text`, async () => {
      const model = await load();
      try {
        const tok = model.tokenizer;
        const ids = tok
          .encode('The old man said: "Well, I never!"\nHe went home.', false)
          .map((t) => t.id)
          .filter((id) => id !== model.unkId);
        for (const preceded of [false, true]) {
          for (let i = 0; i < ids.length; i++) {
            const previous = ids.slice(0, i);
            const want = tok.decode([...previous, ids[i]], preceded).slice(tok.decode(previous, preceded).length);
            assert.strictEqual(tok.continuation(previous, ids[i], preceded).text, want, `token ${i} (${tok.tokenText(ids[i])}), preceded by text: ${preceded}`);
          }
        }
      } finally {
        model.dispose?.();
      }
    });
  }
});

describe('scoring by the chain rule', () => {
  it('sums per-token log-probs into totals, bits per token and character, and perplexity', async () => {
    const { tokens, summary } = await scoreText(toy(), 'xyzx', { details: true, topK: 2 });
    const expected = Math.log(1) + Math.log(0.7) + Math.log(1) + Math.log(0.6);
    assert.deepStrictEqual(
      tokens.map((t) => t.text),
      ['x', 'y', 'z', 'x'],
    );
    assert.ok(Math.abs(summary.logProbNats - expected) < 1e-12);
    assert.strictEqual(summary.tokens, 4);
    assert.strictEqual(summary.chars, 4);
    assert.ok(Math.abs(summary.bitsPerToken - -expected / Math.LN2 / 4) < 1e-12);
    assert.ok(Math.abs(summary.perplexity - Math.exp(-expected / 4)) < 1e-12);
    assert.strictEqual(tokens[1].rank, 1);
    assert.ok(Math.abs(tokens[1].entropy! - -(0.7 * Math.log(0.7) + 0.3 * Math.log(0.3))) < 1e-12);
  });

  it('agrees between the fast path and full distributions on the embedded model', async () => {
    const model = await loadModel('ngram-classics');
    const text = 'It was a truth universally acknowledged, that a zorblax in want of a wife.\nThe end.';
    const { tokens, summary } = await scoreText(model, text, { details: true, topK: 3 });
    // Each token's log-prob (the fast path: single lookups) is exactly its entry in the full
    // distribution over the same n-1 tokens; rank and alternatives are counted and sorted here.
    const ids = model.tokenizer.encode(text, true).map((t) => t.id);
    assert.strictEqual(tokens.length, ids.length - 1);
    for (const [k, t] of tokens.entries()) {
      const i = k + 1;
      const dist = await model.nextLogProbs(ids.slice(Math.max(0, i - model.info.contextLength), i));
      assert.strictEqual(t.logProb, dist[ids[i]], `token ${i} ${JSON.stringify(t.text)}`);
      assert.strictEqual(t.rank, 1 + Array.from(dist).filter((lp) => lp > dist[ids[i]]).length);
      const sorted = Array.from(dist.keys()).sort((a, b) => dist[b] - dist[a] || a - b);
      assert.deepStrictEqual(
        t.alternatives!.map((a) => [a.id, a.logProb]),
        sorted.slice(0, 3).map((id) => [id, dist[id]]),
      );
    }
    assert.ok(
      tokens.some((t) => t.oov),
      'zorblax is out of vocabulary',
    );
    assert.strictEqual(summary.chars, [...text].length);
    assert.strictEqual(tokens.map((t) => t.text).join(''), text);
  });
});
