/**
 * Inline suggestions without the editor: debounced (adaptively), cached while the user types into
 * a suggestion, one request in flight per document (a newer request cancels the older), short by
 * the stop rules, fitted to the text around the cursor (seam.ts), and dropped when they only
 * repeat the text after the cursor. The VS Code
 * provider and the latency benchmark both drive this class.
 */
import { CancelledError, type CancelSignal } from '../core/errors';
import { generate } from '../core/generation';
import type { LanguageModel } from '../core/model';
import { AdaptiveDelay, wait } from './adaptiveDelay';
import { insertableText } from './completionControls';
import { fitCompletion } from './seam';
import { applyStopRules, repeatsTextAfterCursor, type StopRules } from './stopRules';
import { SuggestionCache } from './suggestionCache';

export interface InlineOptions extends StopRules {
  debounceMs: number;
  maxTokens: number;
  temperature: number;
  stopSequences: readonly string[];
}

export interface InlineRequest {
  /** Identifies the document (its URI). */
  doc: string;
  /** Cursor offset in the document. */
  offset: number;
  /** The prompt: text before the cursor, within the context window. */
  prompt: string;
  /** Whether the prompt starts the document (then it is read after the model's BOS, as the hover reads it). */
  atStart: boolean;
  /** Text before the cursor, at least CACHE_TAIL + a suggestion's length (for the cache). */
  textBefore: string;
  /** The rest of the line after the cursor. */
  after: string;
  /** Asked for explicitly (a keybinding), not while typing: no debounce. */
  manual: boolean;
}

export interface InlineResult {
  text: string;
  fromCache: boolean;
  /** Model time for this suggestion, after the debounce (0 from the cache). */
  latencyMs: number;
}

export class InlineCompletionEngine {
  readonly delay: AdaptiveDelay;
  private readonly cache = new SuggestionCache();
  private readonly inFlight = new Map<string, AbortController>();

  constructor(
    private readonly model: () => Promise<LanguageModel>,
    private readonly options: () => InlineOptions,
  ) {
    this.delay = new AdaptiveDelay(() => this.options().debounceMs);
  }

  /**
   * A suggestion, or undefined when there is none or the request was superseded or cancelled.
   * Cancelling `signal`, or a newer request for the same document, ends this one at once, also
   * during the debounce.
   */
  async suggest(req: InlineRequest, signal: AbortSignal): Promise<InlineResult | undefined> {
    const cached = this.cache.lookup(req.doc, req.offset, req.textBefore);
    if (cached !== undefined) return repeatsTextAfterCursor(cached, req.after) ? undefined : { text: cached, fromCache: true, latencyMs: 0 };
    if (req.prompt.trim().length === 0) return undefined;

    const mine = new AbortController();
    this.inFlight.get(req.doc)?.abort();
    this.inFlight.set(req.doc, mine);
    const stop = () => mine.abort();
    if (signal.aborted) stop();
    signal.addEventListener('abort', stop);
    const combined: CancelSignal = {
      get cancelled() {
        return mine.signal.aborted;
      },
    };
    try {
      if (!req.manual && !(await wait(this.delay.delayMs, mine.signal))) return undefined;
      const o = this.options();
      const started = Date.now();
      const model = await this.model();
      // A prompt the model has not read (the first suggestion in a document: about 1,000 tokens) is
      // read first by its warm-up, which gives way to other requests between short passes: a hover
      // asked meanwhile waits for one pass, not for the whole prompt (18.8 s at load 8 on a 135M GGUF
      // model). The generation then continues from that cache (continueFromCache).
      if (model.warmContext && !model.server) {
        await model.warmContext(
          model.tokenizer
            .encode(req.prompt, req.atStart)
            .slice(0, -1)
            .map((t) => t.id),
          combined,
        );
        if (combined.cancelled) return undefined;
      }
      const stops = [...o.stopSequences, ...(o.stopAtLineEnd ? ['\n'] : [])];
      const [completion] = await generate(
        model,
        req.prompt,
        {
          maxTokens: o.maxTokens,
          temperature: o.temperature,
          stopSequences: stops,
          seed: 0,
          healPartialWord: true,
          noLeadingLineBreak: o.stopAtLineEnd,
          promptAtStart: req.atStart,
          continueFromCache: true,
        },
        { signal: combined },
      );
      const latencyMs = Date.now() - started;
      this.delay.record(latencyMs);
      // Only what Complete Selection would insert: control characters are invisible in ghost text
      // and would go into the document on Tab, as would the U+FFFD of an unfinished character.
      const insertable = insertableText(
        model.tokenizer,
        completion.tokens.map((t) => t.id),
        completion.text,
      ).text;
      const text = fitCompletion(req.textBefore, applyStopRules(insertable, o), req.after);
      if (text.length === 0 || repeatsTextAfterCursor(text, req.after)) return undefined;
      this.cache.set(req.doc, req.offset, req.textBefore, text);
      return { text, fromCache: false, latencyMs };
    } catch (e) {
      if (e instanceof CancelledError) return undefined;
      throw e;
    } finally {
      signal.removeEventListener('abort', stop);
      if (this.inFlight.get(req.doc) === mine) this.inFlight.delete(req.doc);
    }
  }

  forget(doc: string): void {
    this.cache.delete(doc);
  }
}
