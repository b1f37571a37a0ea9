/**
 * config.json of each model family onnx-community publishes, as their Hugging Face configs write
 * it (the fields that differ between families: n_embd or hidden_size, grouped-query attention,
 * head_dim that is not hidden / heads, a list of EOS ids), read into the sizes the engine feeds.
 */
import * as assert from 'assert';
import { parseCausalLmConfig, readCausalLmConfig } from '../../src/core/neural/onnxCausalLm';

interface Expected {
  layers: number;
  kvHeads: number;
  headDim: number;
  contextLength: number;
  vocabSize: number;
  eosIds: number[];
}

/** The size fields of real configs (other fields left out: they are not read). */
const FAMILIES: [string, Record<string, unknown>, Expected][] = [
  [
    'gpt2',
    { model_type: 'gpt2', vocab_size: 50257, n_positions: 1024, n_embd: 768, n_layer: 12, n_head: 12, bos_token_id: 50256, eos_token_id: 50256 },
    { layers: 12, kvHeads: 12, headDim: 64, contextLength: 1024, vocabSize: 50257, eosIds: [50256] },
  ],
  [
    'gpt_neox (Pythia)',
    {
      model_type: 'gpt_neox',
      vocab_size: 50304,
      hidden_size: 512,
      num_attention_heads: 8,
      num_hidden_layers: 6,
      max_position_embeddings: 2048,
      eos_token_id: 0,
    },
    { layers: 6, kvHeads: 8, headDim: 64, contextLength: 2048, vocabSize: 50304, eosIds: [0] },
  ],
  [
    'llama (SmolLM2-135M)',
    {
      model_type: 'llama',
      vocab_size: 49152,
      hidden_size: 576,
      num_attention_heads: 9,
      num_key_value_heads: 3,
      num_hidden_layers: 30,
      max_position_embeddings: 8192,
      bos_token_id: 0,
      eos_token_id: 0,
    },
    { layers: 30, kvHeads: 3, headDim: 64, contextLength: 8192, vocabSize: 49152, eosIds: [0] },
  ],
  [
    'llama (Llama 3.2 1B: several EOS ids)',
    {
      model_type: 'llama',
      vocab_size: 128256,
      hidden_size: 2048,
      num_attention_heads: 32,
      num_key_value_heads: 8,
      head_dim: 64,
      num_hidden_layers: 16,
      max_position_embeddings: 131072,
      bos_token_id: 128000,
      eos_token_id: [128001, 128008, 128009],
    },
    { layers: 16, kvHeads: 8, headDim: 64, contextLength: 131072, vocabSize: 128256, eosIds: [128001, 128008, 128009] },
  ],
  [
    'mistral (head_dim null)',
    {
      model_type: 'mistral',
      vocab_size: 32000,
      hidden_size: 4096,
      num_attention_heads: 32,
      num_key_value_heads: 8,
      head_dim: null,
      num_hidden_layers: 32,
      max_position_embeddings: 32768,
      bos_token_id: 1,
      eos_token_id: 2,
    },
    { layers: 32, kvHeads: 8, headDim: 128, contextLength: 32768, vocabSize: 32000, eosIds: [2] },
  ],
  [
    'qwen2 (Qwen2.5-0.5B)',
    {
      model_type: 'qwen2',
      vocab_size: 151936,
      hidden_size: 896,
      num_attention_heads: 14,
      num_key_value_heads: 2,
      num_hidden_layers: 24,
      max_position_embeddings: 32768,
      bos_token_id: 151643,
      eos_token_id: 151643,
    },
    { layers: 24, kvHeads: 2, headDim: 64, contextLength: 32768, vocabSize: 151936, eosIds: [151643] },
  ],
  [
    'qwen3 (head_dim 128, not hidden / heads)',
    {
      model_type: 'qwen3',
      vocab_size: 151936,
      hidden_size: 1024,
      num_attention_heads: 16,
      num_key_value_heads: 8,
      head_dim: 128,
      num_hidden_layers: 28,
      max_position_embeddings: 40960,
      bos_token_id: 151643,
      eos_token_id: 151645,
    },
    { layers: 28, kvHeads: 8, headDim: 128, contextLength: 40960, vocabSize: 151936, eosIds: [151645] },
  ],
  [
    'phi3 (Phi-3 mini)',
    {
      model_type: 'phi3',
      vocab_size: 32064,
      hidden_size: 3072,
      num_attention_heads: 32,
      num_key_value_heads: 32,
      num_hidden_layers: 32,
      max_position_embeddings: 4096,
      bos_token_id: 1,
      eos_token_id: 32000,
    },
    { layers: 32, kvHeads: 32, headDim: 96, contextLength: 4096, vocabSize: 32064, eosIds: [32000] },
  ],
  [
    'gemma (head_dim 256)',
    {
      model_type: 'gemma',
      vocab_size: 256000,
      hidden_size: 2048,
      num_attention_heads: 8,
      num_key_value_heads: 1,
      head_dim: 256,
      num_hidden_layers: 18,
      max_position_embeddings: 8192,
      bos_token_id: 2,
      eos_token_id: 1,
    },
    { layers: 18, kvHeads: 1, headDim: 256, contextLength: 8192, vocabSize: 256000, eosIds: [1] },
  ],
  [
    'gemma2 (hidden 2304, not a multiple of head_dim × heads)',
    {
      model_type: 'gemma2',
      vocab_size: 256000,
      hidden_size: 2304,
      num_attention_heads: 8,
      num_key_value_heads: 4,
      head_dim: 256,
      num_hidden_layers: 26,
      max_position_embeddings: 8192,
      bos_token_id: 2,
      eos_token_id: [1, 107],
    },
    { layers: 26, kvHeads: 4, headDim: 256, contextLength: 8192, vocabSize: 256000, eosIds: [1, 107] },
  ],
];

describe('config.json of the model families (parseCausalLmConfig)', () => {
  for (const [family, config, want] of FAMILIES) {
    it(`${family}: layers, key/value heads, head size, context, vocabulary and end tokens`, () => {
      const c = parseCausalLmConfig(config);
      assert.deepStrictEqual(
        { layers: c.layers, kvHeads: c.kvHeads, headDim: c.headDim, contextLength: c.contextLength, vocabSize: c.vocabSize, eosIds: c.eosIds },
        want,
      );
      assert.strictEqual(c.modelType, config.model_type);
    });
  }

  it('generation_config.json adds its end tokens first (Qwen2.5-Instruct: <|im_end|> and <|endoftext|>)', () => {
    const qwen = FAMILIES.find(([f]) => f.startsWith('qwen2'))![1];
    const c = readCausalLmConfig({
      config: { ...qwen, eos_token_id: 151645 },
      generationConfig: { bos_token_id: 151643, eos_token_id: [151645, 151643] },
      tokenizerConfig: { bos_token: null, eos_token: '<|im_end|>' },
      tokenizer: { model: { type: 'BPE', vocab: {} }, added_tokens: [{ id: 151645, content: '<|im_end|>' }] },
    });
    assert.deepStrictEqual(c.eosIds, [151645, 151643]);
    assert.strictEqual(c.bosId, 151643);
  });
});
