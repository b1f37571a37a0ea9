/**
 * One `inside` request per chosen token, shared by the logit lens and attention sections: both
 * come from the same forward pass.
 */
import type { InsideResult } from '../playground/insideViews';
import type { ChosenToken, InsideContext } from './insidePanel';

/** Tokens per layer in the lens's table. */
export const LENS_TOP = 5;

const results = new WeakMap<ChosenToken, Promise<InsideResult>>();

export function insideResult(ctx: InsideContext): Promise<InsideResult> {
  let r = results.get(ctx.chosen);
  if (!r) {
    const { prompt, before, generated, token } = ctx.chosen;
    const asked = ctx.engine().then((e) => e.request({ op: 'inside', prompt, before, generated, token: token.id, k: LENS_TOP }, ctx.signal));
    // A request cancelled (the user chose another token) is asked again when the token is chosen again.
    asked.catch(() => {
      if (results.get(ctx.chosen) === asked && ctx.signal?.cancelled) results.delete(ctx.chosen);
    });
    r = asked;
    results.set(ctx.chosen, r);
  }
  return r;
}
