import * as assert from 'assert';
import { specialTokens, tokenIdIn } from '../../src/core/neural/specialTokens';
import { endOfSequence } from '../../src/core/stoppingCriteria';

const NAMES = { config: 'config.json', generationConfig: 'generation_config.json' };
const bpe = {
  model: { type: 'BPE', vocab: { '<unk>': 0, '<s>': 1, '</s>': 2, a: 3 } },
  added_tokens: [{ id: 10, content: '<|im_end|>' }],
};

describe('BOS and EOS tokens (specialTokens)', () => {
  it('takes every end token: generation_config.json first, then config.json, then tokenizer_config.json', () => {
    const t = specialTokens(
      {
        config: { eos_token_id: 2, bos_token_id: 1 },
        generationConfig: { eos_token_id: [10, 2] },
        tokenizerConfig: { eos_token: { content: '</s>', __type: 'AddedToken' }, bos_token: '<s>' },
        tokenizer: bpe,
      },
      16,
      NAMES,
    );
    assert.deepStrictEqual(t, { bosId: 1, eosIds: [10, 2] });
  });

  it('the begin token: the tokenizer’s BOS, else bos_token_id, else the first end token (GPT-2’s <|endoftext|>)', () => {
    // Qwen: no BOS in tokenizer_config.json; generation_config.json names <|endoftext|>.
    assert.deepStrictEqual(
      specialTokens(
        { config: { eos_token_id: 2 }, generationConfig: { bos_token_id: 3, eos_token_id: [10, 2] }, tokenizerConfig: { bos_token: null }, tokenizer: bpe },
        16,
        NAMES,
      ),
      { bosId: 3, eosIds: [10, 2] },
    );
    assert.deepStrictEqual(specialTokens({ config: { eos_token_id: 0 }, tokenizer: bpe }, 16, NAMES), { bosId: 0, eosIds: [0] });
    assert.deepStrictEqual(specialTokens({ config: {}, tokenizer: bpe }, 16, NAMES), { bosId: undefined, eosIds: [] });
  });

  it('refuses a special token of tokenizer_config.json that tokenizer.json lacks (bos, eos, added_tokens_decoder), naming the token and the file', () => {
    const names = { ...NAMES, tokenizerConfig: 'm/tokenizer_config.json', tokenizer: 'm/tokenizer.json' };
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { bos_token: '<BOS>' },
        /^ModelFormatError: m\/tokenizer_config\.json: its bos_token "<BOS>" is not a token of m\/tokenizer\.json: the two files do not belong together/,
      ],
      [{ eos_token: { content: '<|eot|>' } }, /^ModelFormatError: m\/tokenizer_config\.json: its eos_token "<\|eot\|>" is not a token of m\/tokenizer\.json/],
      [
        { added_tokens_decoder: { '0': { content: '<unk>' }, '11': { content: '<pad>', special: true } } },
        /^ModelFormatError: m\/tokenizer_config\.json: its added_tokens_decoder entry 11, "<pad>", is not a token of m\/tokenizer\.json/,
      ],
      [
        { added_tokens_decoder: { '3': { content: '</s>' } } },
        /^ModelFormatError: m\/tokenizer_config\.json: its added_tokens_decoder entry 3, "<\/s>", is token 2 in m\/tokenizer\.json/,
      ],
      [
        { eos_token: '<|im_end|>' },
        /^ModelFormatError: m\/tokenizer_config\.json: its eos_token "<\|im_end\|>" is token 10 of m\/tokenizer\.json, outside the model's vocabulary \(0 to 9\)/,
      ],
    ];
    for (const [tokenizerConfig, message] of cases) {
      assert.throws(
        () => specialTokens({ config: { bos_token_id: 1, eos_token_id: 2 }, tokenizerConfig, tokenizer: bpe }, 10, names),
        message,
        JSON.stringify(tokenizerConfig),
      );
    }
    // Entries tokenizer.json has, and null tokens, are accepted.
    const fine = { bos_token: null, eos_token: '</s>', added_tokens_decoder: { '0': { content: '<unk>' }, '10': { content: '<|im_end|>' } } };
    assert.deepStrictEqual(specialTokens({ config: {}, tokenizerConfig: fine, tokenizer: bpe }, 16, names), { bosId: 2, eosIds: [2] });
  });

  it('refuses ids outside the vocabulary or of the wrong type, naming the file', () => {
    assert.throws(
      () => specialTokens({ config: {}, generationConfig: { eos_token_id: [2, 16] }, tokenizer: bpe }, 16, NAMES),
      /^ModelFormatError: generation_config\.json: eos_token_id 16 is out of range \(0 to 15: a token of the vocabulary\)$/,
    );
    assert.throws(
      () => specialTokens({ config: { eos_token_id: '2' }, tokenizer: bpe }, 16, NAMES),
      /^ModelFormatError: config\.json: eos_token_id must be a token id/,
    );
  });

  it('finds token strings in BPE and Unigram vocabularies and among added tokens', () => {
    assert.strictEqual(tokenIdIn(bpe, '</s>'), 2);
    assert.strictEqual(tokenIdIn(bpe, '<|im_end|>'), 10);
    assert.strictEqual(
      tokenIdIn(
        {
          model: {
            type: 'Unigram',
            vocab: [
              ['<pad>', 0],
              ['</s>', 0],
              ['▁a', -3],
            ],
          },
        },
        '</s>',
      ),
      1,
    );
    assert.strictEqual(tokenIdIn(bpe, 'missing'), undefined);
    assert.strictEqual(tokenIdIn(undefined, 'a'), undefined);
  });

  it('generation ends at any end token', () => {
    const stop = endOfSequence([10, 2]);
    assert.strictEqual(stop.onToken!(10), 'eos');
    assert.strictEqual(stop.onToken!(2), 'eos');
    assert.strictEqual(stop.onToken!(3), undefined);
  });

  it("warns when config.json or generation_config.json names an ordinary token where the tokenizer marks special ones (another model's tokenizer)", () => {
    const marked = {
      model: { type: 'BPE', vocab: { a: 0, b: 1, c: 2, '<|endoftext|>': 3 } },
      added_tokens: [{ id: 3, content: '<|endoftext|>', special: true }],
    };
    const ok = specialTokens({ config: { eos_token_id: 3, bos_token_id: 3 }, tokenizer: marked }, 8, NAMES);
    assert.deepStrictEqual(ok, { bosId: 3, eosIds: [3] });
    // tiny-llama's ids (bos 1, eos 2) with a tokenizer whose 1 and 2 are ordinary tokens (hostile13 M3).
    const other = specialTokens({ config: { eos_token_id: 2, bos_token_id: 1 }, generationConfig: { eos_token_id: 2 }, tokenizer: marked }, 8, NAMES);
    assert.deepStrictEqual([other.bosId, other.eosIds], [1, [2]]);
    assert.match(
      other.tokenMismatch ?? '',
      /^generation_config\.json's eos_token_id 2 is an ordinary token of tokenizer\.json, not one of its special tokens \("<\|endoftext\|>" 3\): the tokenizer is probably another model's/,
    );
    // A tokenizer that marks no special token (as the one above without its flag) says nothing.
    assert.strictEqual(specialTokens({ config: { eos_token_id: 2 }, tokenizer: bpe }, 16, NAMES).tokenMismatch, undefined);
  });
});
