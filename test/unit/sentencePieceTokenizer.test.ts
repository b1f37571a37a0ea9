/**
 * SentencePiece-style tokenizers (Llama 2, Mistral, Gemma layouts of tokenizer.json) against
 * SentencePiece itself: test/unit/fixtures/sentencepiece holds a BPE model with byte fallback
 * trained by SentencePiece (scripts/sentencepiece_tokenizer.py) and SentencePiece's ids for the
 * texts in texts.json and for the whole valid novel.
 */
import * as assert from 'assert';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Tokenizer as LibraryHfTokenizer } from '@huggingface/tokenizers';
import { generate } from '../../src/core/generation';
import type { LanguageModel, ModelInfo, Token } from '../../src/core/model';
import { HuggingFaceTokenizer } from '../../src/core/neural/hfTokenizer';
import { sequenceScoresFromDistributions } from '../../src/core/scoring';
import { mergeUtf8 } from '../../src/playground/utf8Merge';
import { TokenStream } from '../../src/core/tokenStream';
import { CORPUS, REPO, WINDOW_TEST_MODEL } from './helpers';

const FIXTURE = path.join(REPO, 'test', 'unit', 'fixtures', 'sentencepiece');
const model = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'model.json'), 'utf8'));
const reference: {
  texts: { text?: string; file?: string; ids_prefix: number[] | Digest; ids_no_prefix: number[] | Digest }[];
} = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'reference.json'), 'utf8'));
interface Digest {
  count: number;
  sha256: string;
}

const REPLACE_DECODER = [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }];
/** The three layouts of the same SentencePiece model as Hugging Face writes them. */
const LAYOUTS = {
  'Llama 2 (normalizer Prepend + Replace)': {
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Prepend', prepend: '▁' },
        { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
      ],
    },
    pre_tokenizer: null,
    decoder: { type: 'Sequence', decoders: [...REPLACE_DECODER, { type: 'Strip', content: ' ', start: 1, stop: 0 }] },
  },
  'Metaspace (prepend_scheme first)': {
    normalizer: null,
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false },
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false },
  },
  'Gemma (normalizer Replace, no prefix)': {
    normalizer: { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
    // After the normalizer there is no space left to split on.
    pre_tokenizer: { type: 'Split', pattern: { String: ' ' }, behavior: 'MergedWithPrevious', invert: false },
    decoder: { type: 'Sequence', decoders: REPLACE_DECODER },
  },
} as const;
type Layout = keyof typeof LAYOUTS;

function tokenizerJson(layout: object, modelSection: object = model.model): object {
  return { version: '1.0', truncation: null, padding: null, added_tokens: model.added_tokens, ...layout, post_processor: null, model: modelSection };
}

/**
 * SentencePiece's ids for `text` in a layout. SentencePiece always adds its "▁" prefix (Llama) or
 * never (Gemma); Hugging Face's Metaspace adds it only when the text does not start with a space.
 */
function expectedIds(layout: Layout, entry: (typeof reference.texts)[number], text: string): number[] | Digest {
  if (layout.startsWith('Gemma')) return entry.ids_no_prefix;
  if (layout.startsWith('Metaspace') && text.startsWith(' ')) return entry.ids_no_prefix;
  return entry.ids_prefix;
}

const digest = (ids: readonly number[]) => createHash('sha256').update(ids.join(',')).digest('hex');
const shortTexts = reference.texts.filter((t) => t.text !== undefined).map((t) => ({ entry: t, text: t.text! }));
const novelEntry = reference.texts.find((t) => t.file === 'poirot_investigates.txt')!;
const novel = fs.readFileSync(path.join(CORPUS, 'valid', 'poirot_investigates.txt'), 'utf8');

/** Every token's text is the slice it covers, the tokens are contiguous from 0, and together they cover the text. */
function assertExactOffsets(text: string, tokens: readonly Token[], what: string): void {
  let at = 0;
  for (const [i, t] of tokens.entries()) {
    assert.strictEqual(t.start, at, `${what}: token ${i} starts at ${t.start}, the one before ended at ${at}`);
    assert.strictEqual(t.text, text.slice(t.start, t.start + t.length), `${what}: token ${i}`);
    at += t.length;
  }
  assert.strictEqual(at, text.length, `${what}: the tokens cover the text`);
}

for (const [name, layout] of Object.entries(LAYOUTS) as [Layout, object][]) {
  describe(`SentencePiece BPE with byte fallback, ${name} layout`, function () {
    this.timeout(60000);
    const tok = new HuggingFaceTokenizer(tokenizerJson(layout), {}, 1);
    const prefixed = !name.startsWith('Gemma');

    it("gives SentencePiece's ids on texts with accents, symbols, CJK, emoji, runs of spaces, tabs and line breaks", () => {
      for (const { entry, text } of shortTexts) {
        const ids = tok.encode(text, true).map((t) => t.id);
        assert.strictEqual(ids[0], 1, 'the begin-of-sequence token first');
        assert.deepStrictEqual(ids.slice(1), expectedIds(name, entry, text), JSON.stringify(text));
      }
    });

    it("gives SentencePiece's ids on a whole novel, with exact offsets, in well under a second per 100 KB", () => {
      const started = Date.now();
      const tokens = tok.encode(novel, true).slice(1);
      const ms = Date.now() - started;
      const want = expectedIds(name, novelEntry, novel) as Digest;
      const ids = tokens.map((t) => t.id);
      assert.strictEqual(ids.length, want.count);
      assert.strictEqual(digest(ids), want.sha256);
      assertExactOffsets(novel, tokens, 'novel');
      // Re-decoding every prefix (the old way) took seconds per 10 KB; linear work takes far less than this bound.
      assert.ok(ms < (novel.length / 100_000) * 2000, `${ms} ms for ${novel.length} characters`);
    });

    it('gives exact UTF-16 offsets; a character split into byte tokens belongs to the token holding its last byte', () => {
      for (const { text } of shortTexts) {
        const tokens = tok.encode(text, true).slice(1);
        assertExactOffsets(text, tokens, JSON.stringify(text));
        // Together the tokens' bytes are the text's, with the "▁" prefix as a space where the layout adds one.
        const bytes = Buffer.concat(tokens.map((t) => tok.tokenBytes(t.id)));
        const prefix = prefixed && !(name.startsWith('Metaspace') && text.startsWith(' ')) ? ' ' : '';
        assert.strictEqual(bytes.toString('utf8'), prefix + text);
      }
      const text = shortTexts[0].text;
      assert.match(text, /😀/);
      const tokens = tok.encode(text, false);
      const emoji = text.indexOf('😀');
      const covering = tokens.filter((t) => t.start === emoji);
      assert.deepStrictEqual(
        covering.map((t) => [tok.tokenBytes(t.id)[0], t.length]),
        [
          [0xf0, 0],
          [0x9f, 0],
          [0x98, 0],
          [0x80, 2],
        ],
        'the emoji is four byte tokens, the last covering its two UTF-16 units',
      );
      const e = tokens.find((t) => t.text.includes('é'))!;
      assert.ok(e, 'é is covered by a token');
    });

    it('decodes back to the text; a continuation keeps its leading space (decode(prefix + new) − decode(prefix))', () => {
      for (const { text } of shortTexts) {
        const ids = tok
          .encode(text, true)
          .slice(1)
          .map((t) => t.id);
        // Hugging Face's Metaspace decoder drops a leading space: a text starting with one cannot come back.
        if (!(name.startsWith('Metaspace') && text.startsWith(' '))) assert.strictEqual(tok.decode(ids, false), text);
        for (let cut = 1; cut < ids.length; cut++) {
          // Cuts inside a character's byte tokens cannot decode to characters on either side.
          const headBytes = Buffer.concat(ids.slice(0, cut).map((id) => tok.tokenBytes(id)));
          if (headBytes.toString('utf8').includes('\ufffd')) continue;
          assert.strictEqual(
            tok.decode(ids.slice(0, cut), false) + tok.decode(ids.slice(cut), true),
            tok.decode(ids, false),
            `${JSON.stringify(text)} cut at ${cut}`,
          );
        }
      }
      const head = tok.encode('and the', true).map((t) => t.id);
      const whole = tok.encode('and the ablities', true).map((t) => t.id);
      assert.deepStrictEqual(whole.slice(0, head.length), head);
      const continuation = whole.slice(head.length);
      assert.strictEqual(tok.decode(continuation, true), ' ablities');
      // At a text's start the Llama and Metaspace decoders drop the leading space; Gemma's keeps it.
      assert.strictEqual(tok.decode(continuation, false), prefixed ? 'ablities' : ' ablities');
    });

    it('shows tokens with spaces for "▁" and byte tokens as their bytes', () => {
      const id = (s: string) => model.model.vocab[s] as number;
      assert.strictEqual(tok.tokenText(id('▁the')), ' the');
      assert.strictEqual(tok.tokenText(id('<0x0A>')), '\n');
      assert.strictEqual(tok.tokenText(id('<0xF0>')), '\ufffd', 'a byte inside a character has no character of its own');
      assert.strictEqual(tok.tokenText(1), '<s>');
      assert.deepStrictEqual([...tok.tokenBytes(id('<0x0A>'))], [0x0a]);
      assert.deepStrictEqual([...tok.tokenBytes(id('▁a'))], [0x20, 0x61]);
      assert.strictEqual(tok.decode([1, id('▁the'), 2], true), ' the', 'special tokens are not text');
    });

    it('tokenizes a novel read in pieces as it tokenizes it whole', () => {
      assert.ok(tok.cutPoint, 'the vocabulary has no token with "▁" after another character: spaces after words are cuts');
      const stream = new TokenStream(tok);
      const pieces: Token[] = [];
      for (let i = 0; i < novel.length; i += 4093) pieces.push(...stream.push(novel.slice(i, i + 4093)));
      pieces.push(...stream.end());
      const whole = tok.encode(novel, true);
      assert.strictEqual(pieces.length, whole.length);
      assert.deepStrictEqual(pieces, whole);
    });
  });
}

describe('SentencePiece layouts: the rest of the rules', function () {
  this.timeout(60000);
  const llama = LAYOUTS['Llama 2 (normalizer Prepend + Replace)'];

  it('agrees with @huggingface/tokenizers on every text and the novel', () => {
    for (const layout of Object.values(LAYOUTS)) {
      const ours = new HuggingFaceTokenizer(tokenizerJson(layout), {}, undefined);
      const library = new LibraryHfTokenizer(tokenizerJson(layout), {});
      for (const text of [...shortTexts.map((t) => t.text), novel.slice(0, 20000)]) {
        assert.deepStrictEqual(
          ours.encode(text, true).map((t) => t.id),
          library.encode(text, { add_special_tokens: false }).ids,
        );
      }
    }
  });

  it('continues a text without the "▁" prefix, so that a window cut after a line break tokenizes as in the whole text', () => {
    const tok = new HuggingFaceTokenizer(tokenizerJson(llama), {}, 1);
    const whole = tok.encode('It was.\nThe end', true);
    const windowStart = whole.findIndex((t) => t.start === 8);
    const window = tok.encode('The end', false, 8);
    assert.deepStrictEqual(window, whole.slice(windowStart));
  });

  it('splits on added tokens in the text, prefixing the text after them as Hugging Face does', () => {
    const tok = new HuggingFaceTokenizer(tokenizerJson(llama), {}, undefined);
    const tokens = tok.encode('Hi</s>there', true);
    const eos = tokens.findIndex((t) => t.id === 2);
    assert.deepStrictEqual(tokens[eos], { id: 2, text: '</s>', start: 2, length: 4 });
    assert.strictEqual(tok.tokenText(tokens[eos + 1].id).startsWith(' '), true, '"▁" before the section after the added token');
    const library = new LibraryHfTokenizer(tokenizerJson(llama), {});
    assert.deepStrictEqual(
      tokens.map((t) => t.id),
      library.encode('Hi</s>there', { add_special_tokens: false }).ids,
    );
  });

  it('Metaspace prepend schemes around added tokens agree with @huggingface/tokenizers', () => {
    for (const scheme of ['always', 'first', 'never']) {
      const metaspace = { type: 'Metaspace', replacement: '▁', prepend_scheme: scheme, split: false };
      const layout = { normalizer: null, pre_tokenizer: metaspace, decoder: metaspace };
      const ours = new HuggingFaceTokenizer(tokenizerJson(layout), {}, undefined);
      const library = new LibraryHfTokenizer(tokenizerJson(layout), {});
      for (const text of ['Hi</s>there', 'Hi</s> there', '</s>there', 'plain text', ' leading']) {
        const tokens = ours.encode(text, true);
        assert.deepStrictEqual(
          tokens.map((t) => t.id),
          library.encode(text, { add_special_tokens: false }).ids,
          `${scheme}: ${text}`,
        );
        assertExactOffsets(text, tokens, `${scheme}: ${text}`);
      }
    }
  });

  it('Metaspace\'s split: BPE runs on each word, a word being a "▁" and what follows', () => {
    const split = {
      ...LAYOUTS['Metaspace (prepend_scheme first)'],
      pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: true },
    };
    const tok = new HuggingFaceTokenizer(tokenizerJson(split), {}, undefined);
    const whole = new HuggingFaceTokenizer(tokenizerJson(LAYOUTS['Metaspace (prepend_scheme first)']), {}, undefined);
    const text = 'Two  spaces';
    const words = ['Two', ' ', ' spaces'];
    assert.deepStrictEqual(
      tok.encode(text, true).map((t) => t.id),
      words.flatMap((w, i) => whole.encode(w, i === 0).map((t) => t.id)),
    );
    assertExactOffsets(text, tok.encode(text, true), 'split');
  });

  it('without byte fallback, characters outside the vocabulary are one unknown token per run (fuse_unk)', () => {
    const noFallback = { ...model.model, byte_fallback: false };
    const tok = new HuggingFaceTokenizer(tokenizerJson(llama, noFallback), {}, undefined);
    const text = 'a 東京 b';
    const tokens = tok.encode(text, true);
    assertExactOffsets(text, tokens, 'unknown');
    const unk = tokens.filter((t) => t.id === 0);
    assert.deepStrictEqual(
      unk.map((t) => t.text),
      ['東京'],
    );
  });

  it('refuses merges that use tokens outside the vocabulary, naming the merge', () => {
    const bad = { ...model.model, merges: [['▁', 'zzzz']] };
    assert.throws(
      () => new HuggingFaceTokenizer(tokenizerJson(llama, bad), {}, undefined, 'x/tokenizer.json'),
      /x\/tokenizer\.json: merge 0 .*"zzzz", which is not in the vocabulary/,
    );
  });

  it('generation: a continuation keeps its space, and the generated tokens spell the completion, also at a text start', async () => {
    const tok = new HuggingFaceTokenizer(tokenizerJson(llama), {}, 1);
    const script = [...tok.encode(' ablities 😀 done', false).map((t) => t.id), 2];
    for (const prompt of ['and the', '']) {
      const [c] = await generate(new ScriptedModel(tok, script), prompt, { maxTokens: 40, temperature: 0 });
      const expected = prompt ? ' ablities 😀 done' : 'ablities 😀 done';
      assert.strictEqual(c.text, expected);
      assert.strictEqual(
        mergeUtf8(c.tokens)
          .map((p) => p.text)
          .join(''),
        expected,
        'the streamed tokens, byte tokens merged, spell the text',
      );
      assert.strictEqual(c.tokens[0].text, prompt ? tok.tokenText(script[0]) : tok.tokenText(script[0]).slice(1));
    }
  });
});

describe('tokenizers this product does not reproduce: offsets by alignment', function () {
  this.timeout(60000);

  it('NFKC and lower case in the normalizer: offsets into the original text, contiguous', () => {
    const layout = {
      normalizer: {
        type: 'Sequence',
        normalizers: [{ type: 'NFKC' }, { type: 'Lowercase' }, { type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }],
      },
      pre_tokenizer: null,
      decoder: LAYOUTS['Llama 2 (normalizer Prepend + Replace)'].decoder,
    };
    const tok = new HuggingFaceTokenizer(tokenizerJson(layout), {}, undefined);
    const text = 'THE ﬁne CAFÉ, ① Tea 東京 😀.';
    const tokens = tok.encode(text, true);
    assertExactOffsets(text, tokens, 'aligned');
    // Tokens cover the original spelling of what they hold: "▁the" (or its pieces) covers "THE".
    assert.strictEqual(
      tokens
        .filter((t) => t.start < 3)
        .map((t) => t.text)
        .join(''),
      'THE',
    );
    const ends = new Set(tokens.map((t) => t.start + t.length));
    for (const at of [3, 12, text.indexOf('東')]) assert.ok(ends.has(at), `a token ends at ${at}`);
    const emoji = tokens.filter((t) => t.start === text.indexOf('😀'));
    assert.deepStrictEqual(
      emoji.map((t) => t.length),
      [0, 0, 0, 2],
    );
    // A whole page of a novel aligns as exactly (the alignment's look-ahead is bounded, so its work is
    // linear; speed is the benchmark's business, not a unit test's on a shared machine).
    const page = novel.slice(0, 4000);
    assertExactOffsets(page, tok.encode(page, true), 'page');
  });

  it('byte-level BPE with an NFC normalizer (Qwen2): a decomposed accent is covered by the token that holds it', () => {
    const gpt = JSON.parse(fs.readFileSync(path.join(REPO, 'models', 'gpt-classics', 'tokenizer.json'), 'utf8'));
    const tok = new HuggingFaceTokenizer({ ...gpt, normalizer: { type: 'NFC' } }, {}, undefined);
    const text = 'cafe\u0301 and cafe\u0301s, déjà 😀';
    const tokens = tok.encode(text, true);
    assertExactOffsets(text, tokens, 'NFC');
    const plain = new HuggingFaceTokenizer(gpt, {}, undefined);
    const nfc = text.normalize('NFC');
    assert.deepStrictEqual(
      tokens.map((t) => t.id),
      plain.encode(nfc, true).map((t) => t.id),
    );
  });
});

/** A model that puts all probability on the next token of a script (after the prompt's). */
class ScriptedModel implements LanguageModel {
  readonly info: ModelInfo = { name: 'scripted', ...WINDOW_TEST_MODEL, description: 'scripted', contextLength: 512 };
  readonly bosId = 1;
  readonly eosId = 2;
  readonly unkId = undefined;
  readonly unsampleableIds = [1];
  private promptLength = -1;

  constructor(
    readonly tokenizer: HuggingFaceTokenizer,
    private readonly script: number[],
  ) {}

  get vocabSize(): number {
    return this.tokenizer.vocabSize;
  }

  async nextLogProbs(context: readonly number[]): Promise<Float64Array> {
    if (this.promptLength < 0) this.promptLength = context.length;
    const out = new Float64Array(this.vocabSize).fill(-30);
    out[this.script[Math.min(context.length - this.promptLength, this.script.length - 1)]] = 0;
    return out;
  }

  async sequenceLogProbs(ids: readonly number[], from: number): Promise<Float64Array> {
    return (await this.sequenceScores(ids, from)).logProbs;
  }

  sequenceScores(ids: readonly number[], from: number) {
    return sequenceScoresFromDistributions(this, ids, from);
  }
}
