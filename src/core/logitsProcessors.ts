/**
 * Masks on the model's next-token log-probs, applied before tempering: each bans some tokens for
 * this step by setting them to -Infinity. A processor never changes its input: it returns it
 * unchanged when it bans nothing, and a masked copy otherwise, so that the model's own distribution
 * can still be reported as it is (a token's log-prob is always the untempered, unmasked one). The
 * copy is read before the next step: a processor may write the next step's copy into it.
 */

/** What a mask may depend on: the texts of the tokens generated so far in this completion. */
export interface StepState {
  readonly generated: readonly { readonly text: string }[];
}

export type LogitsProcessor = (logProbs: Float64Array, state: StepState) => Float64Array;

/** Applies the processors in order. */
export function applyLogitsProcessors(processors: readonly LogitsProcessor[], logProbs: Float64Array, state: StepState): Float64Array {
  let out = logProbs;
  for (const p of processors) out = p(out, state);
  return out;
}

/** Tokens that are never drawn (<s>, <unk>: a model gives them mass, but text never contains them). */
export function banTokens(ids: readonly number[]): LogitsProcessor {
  // It runs at every step of a generation: one buffer reused, not a new row of the vocabulary's
  // size each step (garbage the decode loop would collect).
  let out = new Float64Array(0);
  return (logProbs) => {
    if (ids.length === 0) return logProbs;
    if (out.length !== logProbs.length) out = new Float64Array(logProbs.length);
    out.set(logProbs);
    for (const id of ids) out[id] = -Infinity;
    return out;
  };
}

/**
 * The first token must be one of `allowed` (allowed[id] = 1). Token healing uses it: the first
 * token must spell out the partial word that was dropped from the prompt.
 */
export function firstTokenAmong(allowed: Uint8Array): LogitsProcessor {
  return (logProbs, state) => {
    if (state.generated.length > 0) return logProbs;
    const out = logProbs.slice();
    for (let id = 0; id < out.length; id++) if (!allowed[id]) out[id] = -Infinity;
    return out;
  };
}

/**
 * No token that begins with a line break while nothing visible has been generated: inline
 * suggestions end at the line end, and in hard-wrapped text a line break is often the likeliest
 * next token. A first token that only spells out the healed word (`healedText`) is not visible.
 * `texts` holds every token's text, by id.
 */
export function noLeadingLineBreak(texts: readonly string[], healedText?: string): LogitsProcessor {
  return (logProbs, state) => {
    const g = state.generated;
    const nothingYet = g.length === 0 || (healedText !== undefined && g.length === 1 && g[0].text === healedText);
    if (!nothingYet) return logProbs;
    const out = logProbs.slice();
    for (let id = 0; id < out.length; id++) {
      const c = texts[id].charCodeAt(0);
      if (c === 10 || c === 13) out[id] = -Infinity;
    }
    return out;
  };
}
