/**
 * Drawing a token from a next-token distribution with the playground's controls, as a list of
 * small steps: tempering turns log-probs into probabilities, then each truncation keeps part of them.
 */
import { argmax, temperedProbabilities, truncateTopK, truncateTopP } from './distribution';
import type { Random } from './random';

export interface SamplingOptions {
  /** 0 = argmax, 1 = the model's distribution, Infinity = uniform over the support. */
  temperature: number;
  /** Keep only the k most probable tokens (0 = off). Applied after tempering. */
  topK?: number;
  /** Keep the smallest most-probable set with mass ≥ p (1 = off). Applied after top-k. */
  topP?: number;
}

/** A step on probabilities (after tempering), e.g. a truncation; pure. */
export type ProbabilityWarper = (probs: Float64Array) => Float64Array;

/** Log-probs to tempered probabilities p_T ∝ p^(1/T): the first step of every sampling list. */
export function temper(temperature: number): (logProbs: ArrayLike<number>) => Float64Array {
  return (logProbs) => temperedProbabilities(logProbs, temperature);
}

export function keepTopK(k: number): ProbabilityWarper {
  return (probs) => truncateTopK(probs, k);
}

export function keepTopP(p: number): ProbabilityWarper {
  return (probs) => truncateTopP(probs, p);
}

/** The truncations the options ask for, in their order: top-k, then top-p (each after tempering). */
export function samplingWarpers(options: SamplingOptions): ProbabilityWarper[] {
  const warpers: ProbabilityWarper[] = [];
  if (options.topK && options.topK > 0) warpers.push(keepTopK(options.topK));
  if (options.topP !== undefined && options.topP < 1) warpers.push(keepTopP(options.topP));
  return warpers;
}

/** The distribution a token is actually drawn from: tempered, then top-k, then top-p. */
export function samplingDistribution(logProbs: ArrayLike<number>, options: SamplingOptions): Float64Array {
  let probs = temper(options.temperature)(logProbs);
  for (const warp of samplingWarpers(options)) probs = warp(probs);
  return probs;
}

/** Inverse-CDF draw from probabilities (need not be exactly normalised). */
export function sampleIndex(probs: ArrayLike<number>, random: Random): number {
  let total = 0;
  for (let i = 0; i < probs.length; i++) total += probs[i];
  if (!(total > 0)) throw new Error('cannot sample from a distribution with no mass');
  const u = random.next() * total;
  let cumulative = 0;
  let last = -1;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] <= 0) continue;
    cumulative += probs[i];
    last = i;
    if (u < cumulative) return i;
  }
  return last; // rounding at the top end
}

export function sampleToken(logProbs: ArrayLike<number>, options: SamplingOptions, random: Random): number {
  // Greedy needs no distribution (a per-token saving that shows in the decode rate): the whole
  // list reduces to the argmax, whatever the truncations. The draw is still taken, so that a
  // completion's random stream does not depend on the temperature path.
  if (options.temperature === 0) {
    random.next();
    const best = argmax(logProbs);
    if (best < 0) throw new Error('cannot sample from a distribution with no mass');
    return best;
  }
  return sampleIndex(samplingDistribution(logProbs, options), random);
}
