/**
 * Scoring text by the chain rule: log p(x1..xL) = Σ log p(xi | x<i). Per token: log-prob, and on
 * request rank, entropy of the predictive distribution and the top-k alternatives. Totals in nats
 * and bits, bits per token and per character, perplexity.
 */
import { nextPieceSize } from './pieceSize';
import { LmError, throwIfCancelled, type CancelSignal } from './errors';
import { entropyNats, rankOf, topIndices } from './distribution';
import { LN2 } from './logMath';
import type { LanguageModel, SequenceScores, Token, Tokenizer } from './model';
import { nextWindowStart } from './slidingWindow';
import { displayTokenText, splitsCharacter } from './tokenBytes';
import { characterCount } from './tokenizers/lineBreaks';

export interface Alternative {
  id: number;
  text: string;
  logProb: number;
  /** The token's UTF-8 bytes when they are not whole characters (a byte token): its text cannot show them. */
  bytes?: number[];
}

export interface TokenScore extends Token {
  /** The token's index in the sequence scored (its context is the tokens before it), where scoring had the sequence's tokens (not a server's text). */
  position?: number;
  /** ln p(token | preceding tokens). */
  logProb: number;
  oov: boolean;
  /** 1 + number of tokens the model found strictly more probable. */
  rank?: number;
  /** The rank is unknown and greater than this: a server gave only its top k, and the token is not among them. */
  rankAbove?: number;
  /** Entropy of the predictive distribution at this position, in nats. */
  entropy?: number;
  alternatives?: Alternative[];
}

export interface ScoreSummary {
  /** Tokens scored (sentence starts are given, not scored). */
  tokens: number;
  /** Characters of the text scored: code points, a CRLF line break counting as one (tokenizers/lineBreaks.ts). */
  chars: number;
  oov: number;
  /** The tokens scored as unknown words are not known (a server that does not say): `oov` is then 0 for want of knowing. */
  oovUnknown?: boolean;
  /** Total ln p over the scored tokens. */
  logProbNats: number;
  bitsPerToken: number;
  bitsPerChar: number;
  perplexity: number;
}

export interface ScoreOptions {
  /** Also compute rank, entropy and alternatives (costs one full distribution per token). */
  details?: boolean;
  /** Without details: each token's rank too, from the model's whole-sequence pass (sequenceScores, as the heat-map's). */
  ranks?: boolean;
  topK?: number;
  signal?: CancelSignal;
  /**
   * Log-probs only: ask the model in pieces of about this many milliseconds each, each piece the
   * same window with more of its tokens, so that other requests to the model (a hover) wait
   * behind one piece, not behind the whole text. The numbers are those of one request.
   */
  pieceMs?: number;
  /** Told how many more tokens are scored as each piece (or window) is done: a long text's progress. */
  onScored?: (tokens: number) => void;
  /** scoreText: told how many tokens the text has once it is tokenized (a local model), for onScored's share. */
  onTokens?: (tokens: number) => void;
}

/** Unicode code points of `text` (offsets as OpenAI's API counts them). */
export function codePointLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** Scores `text` as a whole sequence (it starts with the model's begin-of-sequence token). */
export async function scoreText(model: LanguageModel, text: string, options: ScoreOptions = {}): Promise<{ tokens: TokenScore[]; summary: ScoreSummary }> {
  if (model.server) {
    // Alternatives only with details: ranks alone cost a server one pass over the text.
    const scored = await model.server.scoreText(text, { topK: options.details ? (options.topK ?? 5) : 0, atStart: true, signal: options.signal });
    const summary = summarize(scored, characterCount(text));
    return { tokens: scored, summary: model.server.knowsUnknownWords ? summary : { ...summary, oovUnknown: true } };
  }
  const tokens = model.tokenizer.encode(text, true);
  options.onTokens?.(tokens.length);
  const scored = await scoreTokens(model, tokens, options);
  return { tokens: scored, summary: summarize(scored, characterCount(text)) };
}

/**
 * Scores a token sequence that arrives in pieces, with the numbers of scoring it whole: each
 * token's log-prob, and with `details` its rank, entropy and alternatives. Memory is bounded by
 * the model's context: an n-gram model keeps its last n-1 tokens; a neural model keeps the window
 * being filled and scores it in the windows of `slidingWindow.ts` (the schedule
 * `OnnxCausalLm.scoreWindows` follows, the first window from the sequence start), so each token
 * has the context it would have in the whole sequence. With `details`, a token's
 * distribution is taken over the same context as its log-prob.
 * The sequence starts with the first token pushed: position 0 and begin-of-sequence markers are
 * given, not scored.
 */
export class ScoreStream {
  /** Tokens held: the context still needed and the tokens not yet scored. */
  private ids: number[] = [];
  private tokens: Token[] = [];
  /** Position in the sequence of ids[0]. */
  private base = 0;
  /** Position of the first token not yet scored (position 0 is given). */
  private next = 1;
  private readonly windowed: boolean;
  private readonly context: number;

  constructor(
    private readonly model: LanguageModel,
    private readonly options: ScoreOptions = {},
  ) {
    this.windowed = model.info.capabilities.context === 'window';
    this.context = model.info.contextLength;
    if (this.windowed && this.context < 2) throw new LmError(`${model.info.name}: a context window of ${this.context} tokens cannot score a text`);
  }

  /** Scores of the tokens that are final once `tokens` are added. */
  async push(tokens: readonly Token[]): Promise<TokenScore[]> {
    for (const t of tokens) {
      this.ids.push(t.id);
      this.tokens.push(t);
    }
    const out: TokenScore[] = [];
    if (!this.windowed) {
      await this.score(0, this.ids.length, out);
      this.drop(this.ids.length - this.context);
      return out;
    }
    const W = this.context;
    let start = 0;
    for (; start + W <= this.ids.length; start = nextWindowStart(start + W, W)) await this.score(start, start + W, out);
    this.drop(start);
    return out;
  }

  /** Scores of the tokens still held back (a neural model's last, partial window). */
  async end(): Promise<TokenScore[]> {
    const out: TokenScore[] = [];
    await this.score(0, this.ids.length, out);
    this.drop(this.ids.length);
    return out;
  }

  /** Scores the held tokens from `next` to held index `end`, seen from held index `start` on. */
  private async score(start: number, end: number, out: TokenScore[]): Promise<void> {
    const { model, options } = this;
    const from = this.next - this.base;
    if (from >= end) return;
    this.next = this.base + end;
    // Read once: a model's special ids can be getters that look words up.
    const bosId = model.bosId;
    const unkId = model.unkId;
    let any = false;
    for (let i = from; i < end && !any; i++) any = this.ids[i] !== bosId;
    if (!any) return;
    const ids = start === 0 && end === this.ids.length ? this.ids : this.ids.slice(start, end);
    const topK = options.topK ?? 5;
    // With details, a model that computes every position's distribution in the scoring pass
    // describes them there: a step per token would also allocate a whole KV cache per token.
    const described: ReturnType<typeof describePosition>[] = [];
    const batched = options.details && this.windowed && model.sequenceDistributions;
    let logProbs: Float64Array;
    let ranks: Int32Array | undefined;
    if (batched)
      logProbs = await model.sequenceDistributions!(
        ids,
        from - start,
        (k, dist) => (described[k] = describePosition(model, dist, ids[from - start + k], topK)),
        options.signal,
      );
    else if (options.ranks && !options.details) ({ logProbs, ranks } = await model.sequenceScores(ids, from - start, options.signal));
    else logProbs = await this.logProbsInPieces(ids, from - start);
    if (batched || (options.ranks && !options.details)) options.onScored?.(end - from);
    for (let i = from; i < end; i++) {
      const t = this.tokens[i];
      if (t.id === bosId) continue;
      const oov = unkId !== undefined && t.id === unkId;
      // A token is these four fields (every tokenizer's); named, not spread: a spread per token was most of a long text's scoring time.
      const s: TokenScore = { id: t.id, text: t.text, start: t.start, length: t.length, position: this.base + i, logProb: logProbs[i - from], oov };
      if (ranks) s.rank = ranks[i - from];
      if (batched) Object.assign(s, described[i - from]);
      else if (options.details) {
        throwIfCancelled(options.signal);
        const dist = await model.nextLogProbs(this.ids.slice(this.windowed ? start : Math.max(0, i - this.context), i), options.signal);
        Object.assign(s, describePosition(model, dist, t.id, topK));
      }
      out.push(s);
    }
  }

  /** sequenceLogProbs(ids, from), in pieces of about `pieceMs` when asked: each piece sees the same context from ids[0]. */
  private async logProbsInPieces(ids: readonly number[], from: number): Promise<Float64Array> {
    const { model, options } = this;
    const target = options.pieceMs;
    if (!target) {
      const all = await model.sequenceLogProbs(ids, from, options.signal);
      options.onScored?.(all.length);
      return all;
    }
    const out = new Float64Array(Math.max(0, ids.length - from));
    let size = 64;
    for (let a = from; a < ids.length;) {
      const b = Math.min(ids.length, a + size);
      const started = Date.now();
      out.set(await model.sequenceLogProbs(b === ids.length ? ids : ids.slice(0, b), a, options.signal), a - from);
      size = nextPieceSize(size, Date.now() - started, target);
      options.onScored?.(b - a);
      a = b;
    }
    return out;
  }

  private drop(n: number): void {
    if (n <= 0) return;
    this.ids.splice(0, n);
    this.tokens.splice(0, n);
    this.base += n;
  }
}

export async function scoreTokens(model: LanguageModel, tokens: readonly Token[], options: ScoreOptions = {}): Promise<TokenScore[]> {
  const stream = new ScoreStream(model, options);
  const out = await stream.push(tokens);
  for (const s of await stream.end()) out.push(s);
  return out;
}

/** sequenceScores from one full distribution per position: for models with nothing faster. */
export async function sequenceScoresFromDistributions(
  model: LanguageModel,
  ids: readonly number[],
  from: number,
  signal?: CancelSignal,
): Promise<SequenceScores> {
  const n = Math.max(0, ids.length - from);
  const logProbs = new Float64Array(n);
  const ranks = new Int32Array(n);
  for (let i = from; i < ids.length; i++) {
    const dist = await model.nextLogProbs(ids.slice(0, i), signal);
    logProbs[i - from] = dist[ids[i]];
    ranks[i - from] = rankOf(dist, ids[i]);
  }
  return { logProbs, ranks };
}

/** Rank, entropy and alternatives of `token` under a predictive distribution. */
/** `spell` false: the alternatives' texts are left empty, for a host to fill in (spellAlternative). */
export function describePosition(
  model: LanguageModel,
  logProbs: Float64Array,
  token: number,
  topK: number,
  spell = true,
): { rank: number; entropy: number; alternatives: Alternative[] } {
  return {
    rank: rankOf(logProbs, token),
    entropy: entropyNats(logProbs),
    alternatives: topIndices(logProbs, topK).map((id) => {
      const a: Alternative = { id, text: '', logProb: logProbs[id] };
      return spell ? spellAlternative(model.tokenizer, a) : a;
    }),
  };
}

/** Gives an alternative its text as a hover shows it, and its bytes when it holds part of a character. */
export function spellAlternative(tokenizer: Tokenizer, a: Alternative): Alternative {
  a.text = displayTokenText(tokenizer, a.id);
  const bytes = tokenizer.tokenBytes ? Array.from(tokenizer.tokenBytes(a.id)) : undefined;
  if (bytes && splitsCharacter(bytes)) a.bytes = bytes;
  return a;
}

export function summarize(scored: readonly TokenScore[], chars: number): ScoreSummary {
  const totals = new ScoreTotals();
  for (const s of scored) totals.add(s);
  return totals.summary(chars);
}

/** Running totals of scored tokens, for texts scored in pieces (sums in token order, as `summarize`). */
export class ScoreTotals {
  tokens = 0;
  oov = 0;
  logProbNats = 0;
  /** Σ ln p over the out-of-vocabulary tokens alone (KenLM's perplexity without them). */
  oovLogProbNats = 0;

  add(s: TokenScore): void {
    this.tokens++;
    this.logProbNats += s.logProb;
    if (s.oov) {
      this.oov++;
      this.oovLogProbNats += s.logProb;
    }
  }

  summary(chars: number): ScoreSummary {
    return summaryOf(this.tokens, this.oov, this.logProbNats, chars);
  }
}

function summaryOf(n: number, oov: number, logProbNats: number, chars: number): ScoreSummary {
  const bits = -logProbNats / LN2;
  return {
    tokens: n,
    chars,
    oov,
    logProbNats,
    bitsPerToken: n ? bits / n : 0,
    bitsPerChar: chars ? bits / chars : 0,
    perplexity: n ? Math.exp(-logProbNats / n) : 1,
  };
}
