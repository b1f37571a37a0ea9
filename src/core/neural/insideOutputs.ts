/**
 * The outputs of a causal LM graph that show its inside, by name (Hugging Face's
 * `output_hidden_states` / `output_attentions` conventions, as training/add_inside_outputs.py adds
 * them to gpt-classics):
 * - `hidden_states.0` … `hidden_states.L`: the residual stream before each of the L blocks, and
 *   last the final norm's output;
 * - `attentions.0` … `attentions.{L-1}`: each block's attention probabilities [batch, heads, query, key];
 * - `logit_lens.norm.weight` (and `logit_lens.norm.bias` for a LayerNorm; without it an RMSNorm),
 *   `logit_lens.unembedding` [d, vocab] (float32, or int8 with `logit_lens.unembedding.scale` [vocab]):
 *   the final norm's and the output layer's weights, which the logit lens applies to each layer.
 * A graph has the logit lens when it has all hidden states and the weights, attention when it has
 * every layer's probabilities; the model declares what it has in its capabilities.
 */
import type { InsideView } from '../backends/capabilities';

export interface InsideOutputs {
  /** Output names of hidden_states.0..L, when the graph has all of them. */
  hiddenStates: string[] | undefined;
  /** Output names of attentions.0..L-1, when the graph has all of them. */
  attentions: string[] | undefined;
  /** The lens's weights, when the graph returns them. */
  lensWeights: { normWeight: string; normBias?: string; unembedding: string; unembeddingScale?: string } | undefined;
}

export const LENS_NORM_WEIGHT = 'logit_lens.norm.weight';
export const LENS_NORM_BIAS = 'logit_lens.norm.bias';
export const LENS_UNEMBEDDING = 'logit_lens.unembedding';
export const LENS_UNEMBEDDING_SCALE = 'logit_lens.unembedding.scale';

export function readInsideOutputs(outputNames: readonly string[], layers: number): InsideOutputs {
  const has = new Set(outputNames);
  const all = (names: string[]) => (names.every((n) => has.has(n)) ? names : undefined);
  const hiddenStates = all(Array.from({ length: layers + 1 }, (_, n) => `hidden_states.${n}`));
  const attentions = all(Array.from({ length: layers }, (_, n) => `attentions.${n}`));
  const lensWeights =
    has.has(LENS_NORM_WEIGHT) && has.has(LENS_UNEMBEDDING)
      ? {
          normWeight: LENS_NORM_WEIGHT,
          ...(has.has(LENS_NORM_BIAS) ? { normBias: LENS_NORM_BIAS } : {}),
          unembedding: LENS_UNEMBEDDING,
          ...(has.has(LENS_UNEMBEDDING_SCALE) ? { unembeddingScale: LENS_UNEMBEDDING_SCALE } : {}),
        }
      : undefined;
  return { hiddenStates, attentions, lensWeights };
}

/** The views these outputs allow. */
export function insideViews(outputs: InsideOutputs): InsideView[] {
  const views: InsideView[] = [];
  if (outputs.hiddenStates && outputs.lensWeights) views.push('logit-lens');
  if (outputs.attentions) views.push('attention');
  return views;
}

/** Every output the inside views read. */
export function insideOutputNames(outputs: InsideOutputs): string[] {
  const w = outputs.lensWeights;
  return [
    ...(outputs.hiddenStates ?? []),
    ...(outputs.attentions ?? []),
    ...(w ? [w.normWeight, w.normBias, w.unembedding, w.unembeddingScale].filter((n): n is string => n !== undefined) : []),
  ];
}
