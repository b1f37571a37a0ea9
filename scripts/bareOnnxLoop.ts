/**
 * The benchmarks' reference: one forward pass of a Hugging Face causal LM's ONNX graph on bare
 * onnxruntime (no tokenizer, sampler or log-softmax), as a hand-written loop feeds it. Shared by the
 * large-model runner's bare loop and the hover bench's floor.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { InferenceSession, Tensor } from 'onnxruntime-common';

type Ort = typeof import('onnxruntime-common');

export interface BareForward {
  /** Runs `tokens` after `pastLength` cached positions (the last `keep` logits where the graph can keep fewer); the graph's logits and its new cache. */
  step(tokens: readonly number[], pastLength: number, past: Tensor[], keep?: number): Promise<{ logits: Float32Array; present: Tensor[] }>;
  /** An empty cache. */
  empty(): Tensor[];
  vocabSize: number;
}

export function bareForward(ort: Ort, session: InferenceSession, dir: string): BareForward {
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  const layers: number = config.num_hidden_layers;
  const kvHeads: number = config.num_key_value_heads;
  const headDim: number = config.head_dim ?? config.hidden_size / config.num_attention_heads;
  const withPositions = session.inputNames.includes('position_ids');
  const keepsLogits = session.inputNames.includes('num_logits_to_keep');
  // The outputs a step needs: a graph may have more (an export with hidden states and attentions), which a loop would not ask for.
  const fetches = ['logits', ...Array.from({ length: layers }, (_, l) => [`present.${l}.key`, `present.${l}.value`]).flat()];
  return {
    vocabSize: config.vocab_size,
    empty: () => Array.from({ length: 2 * layers }, () => new ort.Tensor('float32', new Float32Array(0), [1, kvHeads, 0, headDim])),
    async step(tokens, pastLength, past, keep) {
      const T = tokens.length;
      // Typed arrays made directly, as cheaply as a hand-written loop would: this is the reference's own cost per step.
      const feeds: Record<string, Tensor> = {
        input_ids: new ort.Tensor('int64', BigInt64Array.from(tokens, BigInt), [1, T]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(pastLength + T).fill(1n), [1, pastLength + T]),
      };
      if (withPositions)
        feeds.position_ids = new ort.Tensor(
          'int64',
          BigInt64Array.from({ length: T }, (_, i) => BigInt(pastLength + i)),
          [1, T],
        );
      if (keep !== undefined && keepsLogits) feeds.num_logits_to_keep = new ort.Tensor('int64', BigInt64Array.of(BigInt(keep)), []);
      for (let l = 0; l < layers; l++) {
        feeds[`past_key_values.${l}.key`] = past[2 * l];
        feeds[`past_key_values.${l}.value`] = past[2 * l + 1];
      }
      const out = await session.run(feeds, fetches);
      const present: Tensor[] = [];
      for (let l = 0; l < layers; l++) present.push(out[`present.${l}.key`], out[`present.${l}.value`]);
      return { logits: out.logits.data as Float32Array, present };
    },
  };
}
