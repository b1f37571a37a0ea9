/**
 * Keystroke-to-suggestion latency of inline completions: a passage of the valid split is typed
 * one character at a time into the inline engine (as the VS Code provider drives it, but without
 * the debounce, so that what is timed is the work after the debounce fires).
 */
import type { LanguageModel } from '../src/core/model';
import { InlineCompletionEngine, type InlineOptions } from '../src/editor/inlineEngine';

export interface InlineLatency {
  /** Every keystroke (suggestions from the cache included). */
  all: { p50: number; p95: number; n: number };
  /** Keystrokes that asked the model. */
  model: { p50: number; p95: number; n: number };
}

/** The q-quantile of `xs` (the nearest rank below). */
export const percentile = (xs: number[], q: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

export async function inlineLatency(model: LanguageModel, text: string, options: Omit<InlineOptions, 'debounceMs'>): Promise<InlineLatency> {
  const engine = new InlineCompletionEngine(
    async () => model,
    () => ({ ...options, debounceMs: 0 }),
  );
  const all: number[] = [];
  const fromModel: number[] = [];
  const never = new AbortController().signal;
  // Warm up: the first request pays for lazy initialisation, not typing.
  await engine.suggest({ doc: 'warm-up', offset: 5, prompt: text.slice(0, 5), atStart: true, textBefore: text.slice(0, 5), after: '', manual: true }, never);
  for (let i = 20; i <= text.length; i++) {
    const prompt = text.slice(0, i);
    const t0 = process.hrtime.bigint();
    // As a manual request: the engine's debounce, which waits at least the median of recent
    // latencies even at debounceMs 0 (adaptiveDelay.ts), is not what is timed.
    const r = await engine.suggest({ doc: 'bench', offset: i, prompt, atStart: true, textBefore: prompt, after: '', manual: true }, never);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    all.push(ms);
    if (r && !r.fromCache) fromModel.push(ms);
  }
  return {
    all: { p50: percentile(all, 0.5), p95: percentile(all, 0.95), n: all.length },
    model: { p50: percentile(fromModel, 0.5), p95: percentile(fromModel, 0.95), n: fromModel.length },
  };
}

export interface InlineContinuation {
  /** Milliseconds per suggestion, continuing from what the model kept of the last one. */
  continuing: number[];
  /** Milliseconds per suggestion with the model's cache forgotten first (the whole prompt read). */
  fresh: number[];
  /** Tokens of the longest prompt. */
  promptTokens: number;
}

/**
 * Keystrokes at the end of a long prompt: each character typed, a suggestion continuing from the
 * model's cache (as inline suggestions ask, `continueFromCache`) and one read afresh, taking turns,
 * each under a document name of its own so that no suggestion comes from the engine's own cache.
 */
export async function inlineContinuation(
  model: LanguageModel,
  prompt: string,
  typed: string,
  options: Omit<InlineOptions, 'debounceMs'>,
): Promise<InlineContinuation> {
  const engine = new InlineCompletionEngine(
    async () => model,
    () => ({ ...options, debounceMs: 0 }),
  );
  const never = new AbortController().signal;
  const ask = async (doc: string, text: string) => {
    const t0 = process.hrtime.bigint();
    await engine.suggest({ doc, offset: text.length, prompt: text, atStart: true, textBefore: text, after: '', manual: true }, never);
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  // The prompt read once, as the hover warm-up or the first suggestion in a document reads it.
  await ask('warm-up', prompt);
  const continuing: number[] = [];
  const fresh: number[] = [];
  for (let i = 1; i <= typed.length; i++) {
    const text = prompt + typed.slice(0, i);
    continuing.push(await ask(`continuing ${i}`, text));
    await model.forgetContext?.();
    fresh.push(await ask(`fresh ${i}`, text));
  }
  return { continuing, fresh, promptTokens: model.tokenizer.encode(prompt + typed, true).length };
}
