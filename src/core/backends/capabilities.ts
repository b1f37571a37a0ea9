/**
 * What a model backend offers, declared once per backend (src/node/backends/) and carried by every
 * model it opens (`ModelInfo.capabilities`): presenters ask these, never which kind of model it is.
 */

/**
 * Where the extension can run a model: the host's own thread, a Node worker thread, a Node child
 * process (for native code that may abort the process it runs in: it must not take the extension
 * host with it), a webview's Web Worker.
 */
export type Placement = 'host' | 'node-worker' | 'node-process' | 'webview-worker';

/** Accelerated runtimes that `lmPlayground.device` chooses among. */
export type Device = 'native' | 'wasm' | 'webgpu';

/**
 * Views of a model's inside that the playground's inside panel shows for a chosen token, one
 * section each (src/webview/insidePanel.ts, INSIDE_SECTIONS). `ngram-backoff`: which order of an
 * n-gram model gave the token's probability, the backoff weights paid, the counts if kept.
 * `logit-lens`: the final norm and unembedding applied to each layer's residual stream, and
 * `attention`: each head's attention over the context, for a transformer whose graph returns its
 * hidden states and attention probabilities (declared per model, from the graph's outputs:
 * core/neural/insideOutputs.ts). A new view adds its name here, declares it in its backend's
 * capabilities, and adds its section to INSIDE_SECTIONS.
 */
export type InsideView = 'ngram-backoff' | 'logit-lens' | 'attention';

export interface BackendCapabilities {
  /**
   * `full`: a next-token distribution over the whole vocabulary (ranks and entropies are exact);
   * `top-k`: only the most probable tokens, the rest −∞ (a server that returns top log-probs).
   */
  distribution: 'full' | 'top-k';
  /** Scores a whole token sequence in one pass (a transformer's forward pass), not one query per token. */
  batchedScoring: boolean;
  /**
   * `markov`: a prediction depends on exactly the last `contextLength` tokens (an n-gram model), so
   * a text scores exactly piece by piece; `window`: on at most that many (a transformer), so a
   * longer text is scored in windows that slide.
   */
  context: 'markov' | 'window';
  /** Where it can run. */
  placements: readonly Placement[];
  /**
   * `server`: the model tokenizes and computes on a server and is asked with text
   * (`LanguageModel.server`); absent: the tokenizer runs here.
   */
  tokenizer?: 'server';
  /** Devices `lmPlayground.device` chooses among; empty when it runs in plain JavaScript, where the setting does not apply. */
  devices: readonly Device[];
  /** Views of its inside the playground can show for a token (none when absent). */
  inside?: readonly InsideView[];
}
