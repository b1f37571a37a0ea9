/**
 * Conditional generation from a prompt with the playground's settings. Each completion carries
 * its tokens with the model's log-probs (untempered p, not p_T), its total, and why it finished.
 */
import { LmError, type CancelSignal } from './errors';
import { yieldToHost } from './yieldToHost';
import { applyLogitsProcessors, banTokens, firstTokenAmong, noLeadingLineBreak, type LogitsProcessor } from './logitsProcessors';
import { endOfSequenceIds, unheldGeneration, type GenerationHold, type LanguageModel, type Token } from './model';
import { Xoshiro128, randomSeed, streamSeed } from './random';
import { sampleToken } from './sampling';
import { describePosition, scoreTokens, type Alternative } from './scoring';
import { nextWindowStart } from './slidingWindow';
import {
  blankLineRun,
  cancellation,
  endOfSequence,
  maxTokens,
  needsText,
  stopBeforeStep,
  textStop,
  type StopKind,
  stopOnToken,
  stopSequences,
  type FinishReason,
  type StoppingCriterion,
} from './stoppingCriteria';

// Part of this module's interface: completions carry a finish reason; editors fit text with the blank-line rule.
export { blankLineStop, type FinishReason } from './stoppingCriteria';

export interface GenerationOptions {
  maxTokens: number;
  temperature: number;
  topK?: number;
  topP?: number;
  /** Generation stops when the text contains one of these (matched on text, across tokens). */
  stopSequences?: readonly string[];
  numCompletions?: number;
  /** Include the prompt's own tokens, scored, in each completion. */
  echoPrompt?: boolean;
  /** Alternatives to report for each token (0 = none). */
  topKPerToken?: number;
  /** Same seed, model and settings give the same completions. Random when absent. */
  seed?: number;
  /**
   * When the prompt ends inside a word ("the mou"), its last token is a fragment the model rarely
   * saw; instead, drop it and make the first generated token start with its text ("the" + " mouse").
   * The completion's text then continues the prompt (here "se"). Not with echoPrompt.
   */
  healPartialWord?: boolean;
  /**
   * Whether a text prompt starts a text (the default): its tokens then begin with the model's BOS.
   * False for a window cut from inside a document, tokenized as the hover and the heat-map
   * tokenize it there, so that they and the generation share what the model has cached (with a
   * BOS in front of one of them, ghost text read its whole ~1,460-token prompt again at every
   * suggestion and the hover after it its whole context: drive10, 8-10 s and 6.4 s).
   */
  promptAtStart?: boolean;
  /**
   * The first token may not begin with a line break. Inline suggestions end at the line end, and
   * in hard-wrapped text a line break is often the likeliest next token: this asks for the line's
   * continuation instead of an empty suggestion.
   */
  noLeadingLineBreak?: boolean;
  /**
   * A blank line after generated text ends the completion (before it), as does a second blank
   * line before any text: small models otherwise fill the rest with empty lines.
   */
  stopAtBlankLine?: boolean;
  /**
   * The first completion continues from what the model kept of its last run instead of a fresh
   * run of the prompt: the prefix they share is not run again. For inline suggestions, asked at
   * every pause in typing with a prompt that grew by a character (each read its whole prompt
   * again). A cached prefix gives numbers within 1e-5 of a fresh run's (other ones on a graph that
   * quantizes activations per run), so a seed's text may then differ in a near tie.
   */
  continueFromCache?: boolean;
}

export interface GeneratedToken {
  id: number;
  text: string;
  /** ln p(token | context) under the model (T = 1). */
  logProb: number;
  rank?: number;
  /** A model on a server that gives no rank: the token is not among its top `rankAbove`, so its rank is above that. */
  rankAbove?: number;
  alternatives?: Alternative[];
  /** UTF-8 bytes, from tokenizers whose tokens are bytes (byte-level BPE, SentencePiece byte fallback): a token may hold part of a character. */
  bytes?: number[];
  /** An echoed prompt token's index in the completion's `promptIds`. */
  position?: number;
}

export interface Completion {
  /** The generated text (after the prompt; with echo, prompt + generated). */
  text: string;
  tokens: GeneratedToken[];
  /** With echoPrompt: the prompt's tokens and their log-probs (the first is not scored). */
  promptTokens?: GeneratedToken[];
  /**
   * With echoPrompt: every id of the prompt, start-of-text markers included (also one written in
   * the prompt's text, which is not scored and so not among `promptTokens`): an echoed token's
   * context is `promptIds` before its `position`.
   */
  promptIds?: number[];
  /** Σ ln p over the generated tokens. */
  logProb: number;
  finishReason: FinishReason;
  /**
   * The token that ended the completion and is not in `tokens`: the end of text, or the first
   * token dropped at a stop sequence (it starts inside the match). With no tokens, it is what the
   * model predicted first.
   */
  stoppedBy?: GeneratedToken;
  /** With finish reason 'stop': which rule ended the text (a stop sequence, or a blank line with stopAtBlankLine). */
  stopKind?: StopKind;
  /** The seed that reproduces this completion alone (as completion 1 of 1): the run's seed for the first. */
  seed: number;
  index: number;
}

export interface GenerationHooks {
  signal?: CancelSignal;
  onToken?: (completion: number, token: GeneratedToken) => void;
}

export const MAX_COMPLETIONS = 16;

export function validateGenerationOptions(o: GenerationOptions): void {
  const bad = (m: string) => {
    throw new LmError(m);
  };
  if (!Number.isInteger(o.maxTokens) || o.maxTokens < 0) bad(`max tokens must be an integer ≥ 0, got ${o.maxTokens}`);
  if (!(o.temperature >= 0)) bad(`temperature must be ≥ 0, got ${o.temperature}`);
  if (o.topK !== undefined && (!Number.isInteger(o.topK) || o.topK < 0)) bad(`top-k must be an integer ≥ 0, got ${o.topK}`);
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) bad(`top-p must be in (0, 1], got ${o.topP}`);
  const n = o.numCompletions ?? 1;
  if (!Number.isInteger(n) || n < 1 || n > MAX_COMPLETIONS) bad(`number of completions must be 1 to ${MAX_COMPLETIONS}, got ${n}`);
  if (o.seed !== undefined && !Number.isFinite(o.seed)) bad(`seed must be a number, got ${o.seed}`);
  if (o.stopSequences?.some((s) => s.length === 0)) bad('stop sequences must not be empty');
}

/**
 * A prompt given as tokens (an API request's token ids) with the text they spell; their offsets
 * are into that text.
 */
export interface PromptTokens {
  text: string;
  tokens: readonly Token[];
  /**
   * Its last `generated` tokens were generated (a branch: the run's tokens up to the chosen one,
   * then that one): stop sequences and the blank-line rule read their text with what follows, so
   * that the branch ends where the run would have (at once when the chosen token is a stop).
   */
  generated?: number;
}

/**
 * Whether a generation with these options reads its text while it runs (stop sequences, the
 * blank-line rule, a healed word, no leading line break, the echoed prompt's texts), so that its
 * loop needs the tokenizer at every step, not only to spell the tokens afterwards.
 */
export function readsTextWhileGenerating(o: GenerationOptions): boolean {
  return (
    (o.stopSequences?.length ?? 0) > 0 || o.stopAtBlankLine === true || o.noLeadingLineBreak === true || o.healPartialWord === true || o.echoPrompt === true
  );
}

export async function generate(
  model: LanguageModel,
  input: string | PromptTokens,
  options: GenerationOptions,
  hooks: GenerationHooks = {},
): Promise<Completion[]> {
  validateGenerationOptions(options);
  const prompt = typeof input === 'string' ? input : input.text;
  if (model.server) {
    // T = ∞ is uniform over the whole vocabulary, which only the local model can draw from.
    if (options.temperature === Infinity)
      throw new LmError(
        `temperature ∞ (uniform over the vocabulary) needs a local model: ${model.info.name} samples on its server, which takes finite temperatures only`,
      );
    return model.server.generate(prompt, options, hooks);
  }
  const inEngine = typeof input === 'string' ? model.generateInEngine?.(input, options, hooks) : undefined;
  if (inEngine) return inEngine;
  return generateHere(model, input, options, hooks, true);
}

/**
 * generate()'s loop without the tokenizer, for a worker whose host holds it: the same token ids,
 * log-probs, ranks and alternatives' ids, every text empty and no bytes, for the host to fill in
 * (spellCompletion). Only for generations that do not read their text while they run.
 */
export async function generateUnspelled(
  model: LanguageModel,
  input: PromptTokens,
  options: GenerationOptions,
  hooks: GenerationHooks = {},
): Promise<Completion[]> {
  validateGenerationOptions(options);
  if (readsTextWhileGenerating(options) || input.generated) throw new LmError('this generation reads its text while it runs: it needs the tokenizer');
  return generateHere(model, input, options, hooks, false);
}

/** generate()'s loop, the model's cache held for it (LanguageModel.holdForGeneration) until it ends. */
async function generateHere(
  model: LanguageModel,
  input: string | PromptTokens,
  options: GenerationOptions,
  hooks: GenerationHooks,
  spell: boolean,
): Promise<Completion[]> {
  const prompt = typeof input === 'string' ? input : input.text;
  const promptTokens = typeof input === 'string' ? model.tokenizer.encode(prompt, options.promptAtStart ?? true) : input.tokens;
  // The prompt's scores are asked for before the hold: a request other than the generation's steps
  // that runs more than a few tokens waits for the generation's end.
  const echoed = options.echoPrompt ? await echoedPrompt(model, input, promptTokens, options, hooks) : undefined;
  const own = (await model.holdForGeneration?.()) ?? unheldGeneration(model);
  try {
    return await generateHeld(model, own, { input, prompt, promptTokens, echoed }, options, hooks, spell);
  } finally {
    own.release();
  }
}

/** The prompt's tokens as echoPrompt shows them, each scored given the tokens before it. */
async function echoedPrompt(
  model: LanguageModel,
  input: string | PromptTokens,
  promptTokens: readonly Token[],
  options: GenerationOptions,
  hooks: GenerationHooks,
): Promise<GeneratedToken[]> {
  const topKPerToken = options.topKPerToken ?? 0;
  const scored = await scoreTokens(model, promptTokens, { details: topKPerToken > 0, topK: topKPerToken, signal: hooks.signal });
  return scored.map((s) => {
    const token: GeneratedToken = { id: s.id, text: s.text, logProb: s.logProb, rank: s.rank, alternatives: s.alternatives, position: s.position };
    // The token shows the prompt's text from the previous token's end, so that the tokens spell
    // the prompt: what a tokenizer leaves between tokens (the space between whitespace-joined
    // words) goes with the token after it, and a line break shows as itself, not </s>.
    if (typeof input === 'string' && s.position !== undefined) {
      const p = promptTokens[s.position - 1];
      token.text = input.slice(p.start + p.length, s.start + s.length);
    }
    // As generated tokens: a prompt token that ends inside a character has no text of its own.
    if (model.tokenizer.tokenBytes) token.bytes = Array.from(model.tokenizer.tokenBytes(s.id));
    return token;
  });
}

/** `own`: the generation's steps and forgets, which the model tells from other requests. */
async function generateHeld(
  model: LanguageModel,
  own: GenerationHold,
  {
    input,
    prompt,
    promptTokens,
    echoed,
  }: { input: string | PromptTokens; prompt: string; promptTokens: readonly Token[]; echoed: GeneratedToken[] | undefined },
  options: GenerationOptions,
  hooks: GenerationHooks,
  spell: boolean,
): Promise<Completion[]> {
  const heal = options.healPartialWord && !options.echoPrompt ? partialWord(model, prompt, promptTokens) : undefined;
  const promptIds = promptTokens.slice(0, heal ? -1 : undefined).map((t) => t.id);
  const seed = options.seed ?? randomSeed();
  const topKPerToken = options.topKPerToken ?? 0;
  const precededByText = prompt.length > 0;

  const processors = logitsProcessors(model, heal, options);
  const criteria: StoppingCriterion[] = [maxTokens(options.maxTokens), cancellation(hooks.signal), endOfSequence(endOfSequenceIds(model))];
  if (options.stopSequences?.length) criteria.push(stopSequences(options.stopSequences));
  if (options.stopAtBlankLine) criteria.push(blankLineRun());
  const readsText = needsText(criteria);
  const decode = (generated: number[]) => model.tokenizer.decode(generated, precededByText).slice(heal?.text.length ?? 0);
  const generatedBefore = typeof input === 'string' || !input.generated ? '' : input.text.slice(input.tokens[input.tokens.length - input.generated].start);
  const stopBefore = readsText && generatedBefore.length > 0 ? textStop(criteria, generatedBefore, 0) : { at: -1 };
  const stoppedBefore = stopBefore.at >= 0;

  const window = model.info.capabilities.context === 'window' ? model.info.contextLength : 0;
  const completions: Completion[] = [];
  const row = own.nextLogProbsInto ? new Float64Array(model.vocabSize) : undefined;
  let yielded = Date.now();
  for (let index = 0; index < (options.numCompletions ?? 1); index++) {
    // Each completion starts from a fresh run of the prompt, so that a seed gives the same text
    // whatever ran before: a graph that quantizes its activations per run (int8) gives a token
    // other numbers when its run holds other tokens, as a run after a cached prefix does.
    if (!(options.continueFromCache && index === 0)) await own.forgetContext();
    const random = new Xoshiro128(seed, index);
    const ids = promptIds.slice();
    // A healed prompt (its last token dropped, drawn again) is read in the windows of the prompt as
    // typed, so that from the next token on the contexts are the ones Complete Selection reads: in
    // the shorter prompt's windows each context held one token more, enough to change the tokens
    // that follow past the window of a small model (hostile27: " nothing." against ", “I am sure").
    let windowStart = heal && window && promptTokens.length > window ? nextWindowStart(promptTokens.length, window) : 0;
    const generated: number[] = [];
    const tokens: GeneratedToken[] = [];
    const starts: number[] = [];
    let text = '';
    let finishReason: FinishReason;
    let stopKind = stopBefore.kind;
    let stoppedBy: GeneratedToken | undefined;
    for (;;) {
      if (Date.now() - yielded >= YIELD_EVERY_MS) {
        await yieldToHost();
        yielded = Date.now();
      }
      const before = stoppedBefore ? 'stop' : stopBeforeStep(criteria, tokens.length);
      if (before) {
        finishReason = before;
        break;
      }
      // A window model reads the schedule's window (slidingWindow.ts, generationWindowStart), given
      // here rather than left to its cache, which may hold another run's window: the numbers then
      // depend on the prompt and the tokens alone, and the inside panel can read the same window.
      if (window && ids.length - windowStart > window) windowStart = nextWindowStart(ids.length, window);
      const context = windowStart ? ids.slice(windowStart) : ids;
      // Read within the step only (the token's log-prob, its alternatives): one row serves every step.
      const logProbs = row ? (await own.nextLogProbsInto!(context, row, hooks.signal), row) : await own.nextLogProbs(context, hooks.signal);
      const id = sampleToken(applyLogitsProcessors(processors, logProbs, { generated: tokens }), options, random);
      // As it continues the tokens before it, so that the tokens spell the completion's text.
      const shown = spell ? model.tokenizer.continuation(generated, id, precededByText) : { text: '' };
      const token: GeneratedToken = { id, text: shown.text, logProb: logProbs[id] };
      if (shown.bytes) token.bytes = Array.from(shown.bytes);
      if (topKPerToken > 0) {
        const described = describePosition(model, logProbs, id, topKPerToken, spell);
        token.rank = described.rank;
        token.alternatives = described.alternatives;
      }
      const onToken = stopOnToken(criteria, id);
      if (onToken) {
        finishReason = onToken;
        stoppedBy = token;
        break;
      }
      ids.push(id);
      generated.push(id);
      tokens.push(token);
      if (readsText) {
        starts.push(text.length);
        const full = decode(generated);
        const stop = textStop(criteria, generatedBefore + full, generatedBefore.length + text.length);
        const found = stop.at;
        // A match that starts in the text generated before ends this text at its start.
        const stopAt = found < 0 ? -1 : Math.max(0, found - generatedBefore.length);
        text = full;
        if (stopAt >= 0) {
          // The text ends before the match; the tokens that start inside it go too.
          text = full.slice(0, stopAt);
          while (tokens.length > 0 && starts[tokens.length - 1] >= stopAt) {
            stoppedBy = tokens.pop();
            starts.pop();
          }
          finishReason = 'stop';
          stopKind = stop.kind;
          break;
        }
      }
      hooks.onToken?.(index, token);
    }
    if (finishReason !== 'stop' && spell) text = decode(generated);
    const logProb = tokens.reduce((s, t) => s + t.logProb, 0);
    completions.push({
      text: options.echoPrompt ? prompt + text : text,
      tokens,
      promptTokens: echoed,
      ...(echoed ? { promptIds: promptTokens.map((t) => t.id) } : {}),
      logProb,
      finishReason,
      ...(stoppedBy ? { stoppedBy } : {}),
      ...(finishReason === 'stop' && stopKind ? { stopKind } : {}),
      seed: streamSeed(seed, index),
      index,
    });
  }
  return completions;
}

/**
 * How long generation runs without giving the thread's event loop a turn. A model in the same
 * thread (n-gram) answers at once, so otherwise no progress would show and no Stop could arrive
 * until the end.
 */
const YIELD_EVERY_MS = 50;

/**
 * The masks of every step, in order: tokens the model never emits in text, the healed word's
 * spelling for the first token, no line break before visible text.
 */
function logitsProcessors(model: LanguageModel, heal: { text: string; fits: Uint8Array } | undefined, options: GenerationOptions): LogitsProcessor[] {
  const processors = [banTokens(model.unsampleableIds)];
  if (heal) processors.push(firstTokenAmong(heal.fits));
  if (options.noLeadingLineBreak) processors.push(noLeadingLineBreak(tokenTexts(model), heal?.text));
  return processors;
}

const textsByModel = new WeakMap<LanguageModel, string[]>();

/** Every token's text, computed once per model (tokenText can be slow: byte-level decoding). */
function tokenTexts(model: LanguageModel): string[] {
  let texts = textsByModel.get(model);
  if (!texts) {
    texts = Array.from({ length: model.vocabSize }, (_, id) => model.tokenizer.tokenText(id));
    textsByModel.set(model, texts);
  }
  return texts;
}

/**
 * The prompt's last token when the prompt ends inside a word, with the tokens that could spell it
 * out (their text starts with it), or undefined when there is nothing to heal.
 */
function partialWord(model: LanguageModel, prompt: string, tokens: readonly Token[]): { text: string; fits: Uint8Array } | undefined {
  const last = tokens[tokens.length - 1];
  if (model.tokenizer.sentencePerLine || tokens.length < 2 || last.id === model.bosId || last.length === 0) return undefined;
  if (!/[\p{L}\p{N}]$/u.test(prompt) || last.start + last.length !== prompt.length) return undefined;
  const text = last.text;
  const texts = tokenTexts(model);
  const fits = new Uint8Array(model.vocabSize);
  const eos = new Set(endOfSequenceIds(model));
  let any = false;
  for (let id = 0; id < model.vocabSize; id++) {
    if (id === model.unkId || eos.has(id)) continue;
    if (texts[id].startsWith(text)) {
      fits[id] = 1;
      any = true;
    }
  }
  return any ? { text, fits } : undefined;
}
