/**
 * The logit lens (nostalgebraist, 2020): the model's final norm and output layer applied to the
 * residual stream after each block, as if the model stopped there. Computed here, outside the
 * graph, from the hidden states and the two layers' weights the graph returns
 * (neural/insideOutputs.ts), for one position: 1 + L rows of d values against a [d, vocab] matrix,
 * a few milliseconds, and nothing at all for the model's ordinary steps.
 */
import { entropyNats, rankOf, topIndices } from '../distribution';
import { logSoftmax } from '../logMath';

export interface LensWeights {
  /** Hidden size. */
  d: number;
  vocab: number;
  normWeight: Float32Array;
  /** A LayerNorm's bias; absent: the norm is an RMSNorm (Llama, Qwen). */
  normBias?: Float32Array;
  epsilon: number;
  /** The output layer, [d, vocab] row-major. */
  unembedding: Float32Array;
}

export interface LensLayer {
  /** 0: the embeddings; n: after block n; the last equals the model's output. */
  layer: number;
  /** The most probable tokens at this layer, most probable first (natural-log probabilities). */
  top: { id: number; logProb: number }[];
  /** The token that actually follows, at this layer. */
  actual: { logProb: number; rank: number };
  /** Entropy of this layer's distribution, in nats. */
  entropy: number;
}

/** Layer or RMS normalisation of one hidden state, in float64. */
export function normalize(x: ArrayLike<number>, w: LensWeights): Float64Array {
  const d = w.d;
  const out = new Float64Array(d);
  let mean = 0;
  if (w.normBias) {
    for (let i = 0; i < d; i++) mean += x[i];
    mean /= d;
  }
  let square = 0;
  for (let i = 0; i < d; i++) square += (x[i] - mean) ** 2;
  const inv = 1 / Math.sqrt(square / d + w.epsilon);
  for (let i = 0; i < d; i++) out[i] = (x[i] - mean) * inv * w.normWeight[i] + (w.normBias ? w.normBias[i] : 0);
  return out;
}

/** The output layer on one (normalised) hidden state: vocab logits, in float64. */
export function unembed(x: ArrayLike<number>, w: LensWeights): Float64Array {
  const { d, vocab: V, unembedding: u } = w;
  const out = new Float64Array(V);
  // Row by row of the [d, vocab] matrix: memory is read in order.
  for (let i = 0; i < d; i++) {
    const xi = x[i];
    if (xi === 0) continue;
    const row = i * V;
    for (let v = 0; v < V; v++) out[v] += xi * u[row + v];
  }
  return out;
}

/**
 * The lens at one position. `hidden[n]` is hidden_states.n at that position; the last one is
 * already normalised (Hugging Face returns the final norm's output as the last hidden state), the
 * others get the final norm first. `actual` is the token that follows; `k` tokens per layer.
 */
export function logitLens(hidden: readonly ArrayLike<number>[], w: LensWeights, actual: number, k: number): LensLayer[] {
  const last = hidden.length - 1;
  return hidden.map((h, layer) => {
    const logProbs = logSoftmax(unembed(layer === last ? h : normalize(h, w), w));
    return {
      layer,
      top: topIndices(logProbs, k).map((id) => ({ id, logProb: logProbs[id] })),
      actual: { logProb: logProbs[actual], rank: rankOf(logProbs, actual) },
      entropy: entropyNats(logProbs),
    };
  });
}

/** The norm's epsilon as config.json names it (GPT-2, BERT-style, Llama/Qwen, Falcon), else PyTorch's default. */
export function normEpsilon(config: unknown): number {
  const c = (config ?? {}) as Record<string, unknown>;
  for (const key of ['layer_norm_epsilon', 'layer_norm_eps', 'rms_norm_eps', 'norm_epsilon']) {
    const v = c[key];
    if (typeof v === 'number' && v > 0 && v < 1) return v;
  }
  return 1e-5;
}
