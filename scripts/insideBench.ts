/**
 * The inside views' cost (bench section `inside`): the logit lens and attention for the last token
 * of a 128-token prompt with gpt-classics, as the playground's inside panel asks for them (one
 * forward pass returning hidden states and attention probabilities, then the lens at that
 * position), against a plain forward pass of the same prompt that returns only the logits.
 */
import type { LanguageModel } from '../src/core/model';
import { loadModel } from '../src/node/modelLoader';

export interface InsideTimes {
  device: string;
  tokens: number;
  /** Seconds per `inside` call (lens with the top 5 per layer, and every head's attention row). */
  inside: number[];
  /** Seconds per fresh `nextLogProbs` of the same context (the same forward pass, logits only). */
  plain: number[];
}

export async function benchInside(valid: string, device: 'native' | 'wasm', runs: number): Promise<InsideTimes> {
  const model: LanguageModel = await loadModel('gpt-classics', undefined, { device, threads: 1 });
  try {
    if (!model.inside) throw new Error('gpt-classics has no inside views: its graph lacks the outputs');
    const ids = model.tokenizer.encode(valid.slice(20000, 22000), true).map((t) => t.id);
    const context = ids.slice(0, model.info.contextLength);
    const actual = ids[context.length];
    const inside: number[] = [];
    const plain: number[] = [];
    const time = async (fn: () => Promise<unknown>) => {
      const t = process.hrtime.bigint();
      await fn();
      return Number(process.hrtime.bigint() - t) / 1e9;
    };
    // Warm-up, which also fetches the lens's weights once.
    const check = await model.inside(context, actual, 5);
    if (check.lens?.length !== 5 || check.attention?.length !== 4 || check.ids.length !== 128)
      throw new Error('the inside views did not compute what is measured');
    for (let i = 0; i < runs; i++) {
      inside.push(await time(() => model.inside!(context, actual, 5)));
      // The same forward pass from scratch: the cache of the last run forgotten.
      await model.forgetContext?.();
      plain.push(await time(() => model.nextLogProbs(context)));
    }
    return { device, tokens: context.length, inside, plain };
  } finally {
    model.dispose?.();
  }
}
