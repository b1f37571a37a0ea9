/**
 * What a branch is generated with, in words for the inside panel: a branch continues with the
 * settings of the run it branches from, which the form may no longer show.
 */
import type { GenerationOptions } from '../core/generation';
import { formatTemperature } from './temperature';

export function branchSettings(model: string, o: GenerationOptions, seed: number): string {
  const parts = [model, `max tokens ${o.maxTokens}`, `T ${formatTemperature(o.temperature)}`];
  if (o.topK) parts.push(`top-k ${o.topK}`);
  if (o.topP !== undefined && o.topP < 1) parts.push(`top-p ${o.topP}`);
  parts.push(`a seed of its own, made from the completion's seed ${seed} and the path it continues (on its row)`);
  if (o.stopSequences?.length) parts.push(`stop at ${o.stopSequences.map((s) => JSON.stringify(s)).join(', ')}`);
  if (o.stopAtBlankLine) parts.push('stop at a blank line');
  return `A branch continues with this run's settings, not the form's: ${parts.join(', ')}.`;
}
