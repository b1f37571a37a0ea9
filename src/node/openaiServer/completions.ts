/**
 * `POST /v1/completions` on the product's pieces: the prompt is scored by the ScoreStream that
 * `lmp score` runs (so echoed log-probs are `lmp score`'s), completions come from
 * `generate` (the sampler, stop sequences and seeds of the editor and `lmp generate`). Choices are
 * numbered prompt by prompt, n per prompt, as vLLM numbers them. Streamed, a choice's text is sent
 * as its tokens come, less what a stop sequence could still take back (the last characters, fewer
 * than the longest stop sequence); the rest and the finish reason follow when it ends.
 */
import { throwIfCancelled, type CancelSignal } from '../../core/errors';
import { generate, type Completion, type GeneratedToken } from '../../core/generation';
import { IncrementalDecoder } from '../../core/incrementalDecode';
import type { Token } from '../../core/model';
import { codePointLength, ScoreStream, type TokenScore } from '../../core/scoring';
import { emptyLogprobs, LogprobsWriter, type CompletionLogprobs, type PromptLogprob, type ScoredPosition } from './completionLogprobs';
import type { CompletionRequest } from './completionRequest';
import { preparePrompt, type PreparedPrompt, type ServedModel } from './servedModel';

/** Prompt tokens scored between turns of the event loop. */
const SCORE_SLICE_TOKENS = 256;

export interface CompletionChoice {
  index: number;
  text: string;
  logprobs: CompletionLogprobs | null;
  finish_reason: 'length' | 'stop' | null;
  stop_reason: string | null;
  prompt_logprobs?: (Record<string, PromptLogprob> | null)[] | null;
  /**
   * lmp serve's own field, beside the prompt's scores: the prompt tokens (by position) that the
   * model scored as its unknown word (an n-gram model's <unk>), so that a client can count them
   * as `lmp score` does. Absent where the prompt was not scored.
   */
  prompt_unknown_tokens?: number[];
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** Runs a completion request; with `onChunk`, each choice is also streamed through it as it is generated. */
export async function runCompletion(
  served: ServedModel,
  req: CompletionRequest,
  signal: CancelSignal,
  onChunk?: (choice: CompletionChoice) => void,
): Promise<{ choices: CompletionChoice[]; usage: Usage }> {
  const { model } = served;
  const writer = new LogprobsWriter(req.logprobs ?? 0, req.tokensAsIds);
  const choices: CompletionChoice[] = [];
  let promptTokens = 0;
  let completionTokens = 0;
  for (const [promptIndex, input] of req.prompts.entries()) {
    const prompt = preparePrompt(model, input);
    promptTokens += prompt.tokens.length;
    const echoed = req.echo && req.logprobs !== undefined;
    const positions = echoed || req.promptLogprobs !== undefined ? await scorePrompt(served, prompt, req, signal) : undefined;
    const promptLogprobs = req.promptLogprobs === undefined ? null : positions!.map((p) => writer.promptEntry(p, req.promptLogprobs!));
    const unknown = positions?.flatMap((p, i) => (p.score?.oov ? [i] : []));
    const streams = Array.from(
      { length: req.n },
      (_, i) => new ChoiceStream(served, req, writer, promptIndex * req.n + i, prompt, echoed ? positions! : [], onChunk),
    );
    const completions: (Completion | undefined)[] =
      req.maxTokens === 0
        ? Array.from({ length: req.n }, () => undefined)
        : await generate(
            model,
            prompt,
            {
              maxTokens: req.maxTokens,
              temperature: req.temperature,
              topK: req.topK,
              topP: req.topP,
              stopSequences: req.stop,
              numCompletions: req.n,
              seed: req.seed,
              topKPerToken: req.logprobs ?? 0,
            },
            { signal, onToken: onChunk ? (c, t) => streams[c].token(t) : undefined },
          );
    completions.forEach((c, i) => {
      completionTokens += c?.tokens.length ?? 0;
      choices.push({ ...streams[i].finish(c), prompt_logprobs: promptLogprobs, ...(unknown ? { prompt_unknown_tokens: unknown } : {}) });
    });
  }
  return { choices, usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens } };
}

/** Each prompt token with its score: null (given, not predicted) for the first and for begin-of-sequence markers, as `lmp score`. */
async function scorePrompt(served: ServedModel, prompt: PreparedPrompt, req: CompletionRequest, signal: CancelSignal): Promise<ScoredPosition[]> {
  const { model } = served;
  const topK = Math.max(req.logprobs ?? 0, req.promptLogprobs ?? 0);
  // Alternatives need each position's whole distribution; ranks alone come from one pass over the sequence.
  const stream = new ScoreStream(model, { details: topK > 0, ranks: req.promptLogprobs !== undefined, topK, signal });
  const scores: TokenScore[] = [];
  // In slices, the event loop turning between them: a model on this thread (n-gram) would hold
  // every other connection, and the news that this request's client left, until a long prompt is done.
  for (let i = 0; i < prompt.tokens.length; i += SCORE_SLICE_TOKENS) {
    scores.push(...(await stream.push(prompt.tokens.slice(i, i + SCORE_SLICE_TOKENS))));
    await new Promise((resolve) => setImmediate(resolve));
    throwIfCancelled(signal);
  }
  scores.push(...(await stream.end()));
  let next = 0;
  const positions = prompt.tokens.map((t, i): ScoredPosition => {
    const s = i > 0 && t.id !== model.bosId ? scores[next++] : undefined;
    return { id: t.id, text: promptTokenText(served, prompt, t), offset: prompt.codePointAt(t.start), score: s };
  });
  if (next !== scores.length) throw new Error(`scored ${scores.length} prompt tokens, expected ${next}`);
  return positions;
}

/** The text a prompt token spans; a marker that spans none (<s>) is named as the vocabulary names it. */
function promptTokenText(served: ServedModel, prompt: PreparedPrompt, t: Token): string {
  if (t.length > 0) return prompt.text.slice(t.start, t.start + t.length);
  return t.id === served.model.bosId ? served.model.tokenizer.tokenText(t.id) : '';
}

/** One choice: its tokens as they are generated, what of it has been streamed, and its final form. */
class ChoiceStream {
  private readonly decoder: IncrementalDecoder;
  /** The generated text so far, decoded token by token. */
  private text = '';
  /** Generated tokens with their UTF-16 start in `text`. */
  private readonly positions: (ScoredPosition & { start: number })[] = [];
  private started = false;
  private sentText = 0;
  private sentTokens = 0;
  /** Characters at the end that a stop sequence could still take back. */
  private readonly holdBack: number;
  /** Code points before the next token in the choice's text (after the prompt, when echoed). */
  private offset: number;

  constructor(
    private readonly served: ServedModel,
    private readonly req: CompletionRequest,
    private readonly writer: LogprobsWriter,
    private readonly index: number,
    private readonly prompt: PreparedPrompt,
    private readonly echoed: readonly ScoredPosition[],
    private readonly onChunk?: (choice: CompletionChoice) => void,
  ) {
    this.decoder = new IncrementalDecoder(served.model.tokenizer, prompt.text.length > 0);
    this.holdBack = Math.max(0, ...req.stop.map((s) => s.length - 1));
    this.offset = req.echo ? codePointLength(prompt.text) : 0;
  }

  token(t: GeneratedToken): void {
    this.add(t);
    this.start();
    this.send(this.text.length - this.holdBack);
  }

  /** The choice as a whole; when streaming, its last chunk is sent. */
  finish(c: Completion | undefined): CompletionChoice {
    const tokens = c?.tokens ?? [];
    // A token that completed a stop sequence is kept when it starts before it, without having been reported.
    for (let i = this.positions.length; i < tokens.length; i++) this.add(tokens[i]);
    const generated = c?.text ?? '';
    if (!generated.startsWith(this.text.slice(0, Math.min(this.sentText, generated.length))) || this.sentText > generated.length)
      throw new Error(`the streamed text of choice ${this.index} is not the completion's text`);
    const finish_reason = c === undefined || c.finishReason === 'length' ? 'length' : 'stop';
    const stop_reason = c ? this.stopReason(c) : null;
    if (this.onChunk) {
      this.start();
      const kept = this.positions.slice(this.sentTokens, tokens.length);
      this.onChunk({ index: this.index, text: generated.slice(this.sentText), logprobs: this.logprobs([], kept), finish_reason, stop_reason });
    }
    return {
      index: this.index,
      text: (this.req.echo ? this.prompt.text : '') + generated,
      logprobs: this.logprobs(this.echoed, this.positions.slice(0, tokens.length)),
      finish_reason,
      stop_reason,
    };
  }

  private add(t: GeneratedToken): void {
    const piece = this.decoder.push(t.id);
    this.positions.push({ id: t.id, text: piece, start: this.text.length, offset: this.offset, score: t });
    this.text += piece;
    this.offset += codePointLength(piece);
  }

  /** The echoed prompt, as the choice's first chunk. */
  private start(): void {
    if (this.started || !this.onChunk) return;
    this.started = true;
    if (this.req.echo)
      this.onChunk({ index: this.index, text: this.prompt.text, logprobs: this.logprobs(this.echoed, []), finish_reason: null, stop_reason: null });
  }

  /** Sends the text before `bound` and the tokens that start before it. */
  private send(bound: number): void {
    if (!this.onChunk) return;
    let end = Math.max(this.sentText, Math.min(bound, this.text.length));
    const c = this.text.charCodeAt(end - 1);
    if (end > this.sentText && c >= 0xd800 && c <= 0xdbff) end--; // never half of a surrogate pair
    let tokens = this.sentTokens;
    while (tokens < this.positions.length && this.positions[tokens].start < bound) tokens++;
    if (end === this.sentText && tokens === this.sentTokens) return;
    const chunk = { index: this.index, text: this.text.slice(this.sentText, end), logprobs: this.logprobs([], this.positions.slice(this.sentTokens, tokens)) };
    this.sentText = end;
    this.sentTokens = tokens;
    this.onChunk({ ...chunk, finish_reason: null, stop_reason: null });
  }

  private logprobs(prompt: readonly ScoredPosition[], generated: readonly ScoredPosition[]): CompletionLogprobs | null {
    if (this.req.logprobs === undefined) return null;
    const out = emptyLogprobs();
    for (const p of prompt) this.writer.add(out, p);
    for (const p of generated) this.writer.add(out, p);
    return out;
  }

  /** The stop sequence that ended the choice (vLLM's stop_reason); null when it ended otherwise. */
  private stopReason(c: Completion): string | null {
    if (c.finishReason !== 'stop' || this.req.stop.length === 0) return null;
    // The text goes on past where it was cut: in the last token kept (it starts before the match), or in the first one dropped.
    const ids = [...c.tokens.map((t) => t.id), ...(c.stoppedBy ? [c.stoppedBy.id] : [])];
    const rest = this.served.model.tokenizer.decode(ids, this.prompt.text.length > 0).slice(c.text.length);
    return this.req.stop.find((s) => rest.startsWith(s) || s.startsWith(rest)) ?? null;
  }
}
