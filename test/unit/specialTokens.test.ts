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
    // A token string tokenizer.json lacks is passed over: the ids of the other files count.
    assert.deepStrictEqual(
      specialTokens({ config: { bos_token_id: 1, eos_token_id: 2 }, tokenizerConfig: { bos_token: '<BOS>' }, tokenizer: bpe }, 16, NAMES),
      {
        bosId: 1,
        eosIds: [2],
      },
    );
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
});
