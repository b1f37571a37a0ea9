/**
 * A language model served over HTTP (vLLM, SGLang, llama.cpp's server, Ollama). Its tokenizer
 * and its distributions are the server's: features ask it with text (`server`, core/remote/
 * serverModel.ts); its token-level methods refuse with a message that says a local model is
 * needed. Token ids are this client's own, one per distinct token text it has seen, so that the
 * alternatives can mark the actual token.
 */
import type { BackendCapabilities } from '../../core/backends/capabilities';
import { LmError } from '../../core/errors';
import type { Completion, GeneratedToken, GenerationHooks, GenerationOptions } from '../../core/generation';
import { validateGenerationOptions, type FinishReason } from '../../core/generation';
import { blankLineRun, stopSequences, textStop, type StopKind } from '../../core/stoppingCriteria';
import type { ContinuedToken, LanguageModel, ModelInfo, SequenceScores, Token, Tokenizer } from '../../core/model';
import { randomSeed } from '../../core/random';
import type { RemoteRef } from '../../core/remote/remoteRef';
import { needsLocalModel, type ScoreTextOptions, type ServerModel, type ServerScore, type ServerToken } from '../../core/remote/serverModel';
import { pieceBytes, placePieces, type ServerPiece } from '../../core/remote/tokenOffsets';
import type { Alternative, TokenScore } from '../../core/scoring';
import { byteTokenText, splitsCharacter } from '../../core/tokenBytes';
import { LOGPROB_SLACK, MIN_LOGPROB, PROBABILITY_SLACK, type RemoteDialect, type ServerPosition } from './dialect';
import type { Endpoint } from './endpoint';

export const REMOTE_CAPABILITIES: BackendCapabilities = {
  distribution: 'top-k',
  batchedScoring: true,
  context: 'window',
  placements: ['host'],
  devices: [],
  tokenizer: 'server',
};

/** vLLM's default cap on log-probs per position (max_logprobs), the most asked for. */
export const DEFAULT_MAX_TOP_K = 20;
/** A context length to assume when the server does not say. */
const UNKNOWN_CONTEXT = 2048;

/** The server's tokens as this client knows them: each distinct piece gets an id, its text and bytes kept. */
class ServerVocabulary implements Tokenizer {
  private readonly ids = new Map<string, number>();
  private readonly pieces: ServerPiece[] = [];
  readonly sentencePerLine = false;

  constructor(private readonly modelName: string) {}

  get vocabSize(): number {
    return 0; // unknown: the server does not say
  }

  id(piece: ServerPiece): number {
    const key = `${piece.text}\u0000${piece.bytes?.join(',') ?? ''}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.pieces.length;
      this.pieces.push(piece);
      this.ids.set(key, id);
    }
    return id;
  }

  encode(): Token[] {
    throw new LmError(needsLocalModel(this.modelName, 'tokenizing here'));
  }

  decode(ids: readonly number[]): string {
    const bytes: number[] = [];
    for (const id of ids) bytes.push(...this.tokenBytes(id));
    return new TextDecoder().decode(Uint8Array.from(bytes));
  }

  tokenText(id: number): string {
    return this.pieces[id]?.text ?? '';
  }

  /** A server's piece is the text it added (a space included). */
  continuation(_previous: readonly number[], id: number): ContinuedToken {
    return { text: this.tokenText(id), bytes: this.tokenBytes(id) };
  }

  tokenBytes(id: number): Uint8Array {
    const piece = this.pieces[id];
    if (!piece) return new Uint8Array();
    return Uint8Array.from(pieceBytes(piece) ?? new TextEncoder().encode(piece.text));
  }
}

export class RemoteLanguageModel implements LanguageModel, ServerModel {
  readonly info: ModelInfo;
  readonly tokenizer: ServerVocabulary;
  readonly vocabSize = 0;
  readonly bosId = undefined;
  readonly eosId = undefined;
  readonly unkId = undefined;
  readonly unsampleableIds: readonly number[] = [];
  readonly server: ServerModel = this;
  readonly scoringUnavailable?: string;
  readonly endpoint: string;
  knowsUnknownWords = false;
  /** The server answered that it has no /tokenize: not asked again. */
  private noTokenize = false;

  constructor(
    readonly ref: RemoteRef,
    private readonly dialect: RemoteDialect,
    private readonly http: Endpoint,
    contextLength: number | undefined,
    /** Alternatives asked at most: vLLM's default cap, lowered to a server's own when it refuses more. */
    public maxTopK = DEFAULT_MAX_TOP_K,
    readonly markovContext?: number,
  ) {
    this.endpoint = ref.baseUrl;
    this.scoringUnavailable = dialect.scoringUnavailable;
    this.tokenizer = new ServerVocabulary(ref.model);
    this.info = {
      name: ref.model,
      backend: 'remote',
      capabilities: REMOTE_CAPABILITIES,
      description: `${ref.model} served at ${ref.baseUrl} (${dialect.name} API; top-${maxTopK} log-probs)`,
      contextLength: contextLength ?? UNKNOWN_CONTEXT,
      device: 'server',
    };
  }

  nextLogProbs(): Promise<Float64Array> {
    return Promise.reject(new LmError(needsLocalModel(this.info.name, 'a whole next-token distribution')));
  }

  sequenceLogProbs(): Promise<Float64Array> {
    return Promise.reject(new LmError(needsLocalModel(this.info.name, 'scoring token ids')));
  }

  sequenceScores(): Promise<SequenceScores> {
    return Promise.reject(new LmError(needsLocalModel(this.info.name, 'scoring token ids')));
  }

  dispose(): void {
    this.http.close();
  }

  async ping(signal?: ScoreTextOptions['signal']): Promise<void> {
    await this.dialect.listModels(this.http, signal);
  }

  private alternative(top: ServerPosition['top'][number]): Alternative {
    const bytes = pieceBytes(top.piece);
    const a: Alternative = { id: this.tokenizer.id(top.piece), text: bytes ? byteTokenText(Uint8Array.from(bytes)) : top.piece.text, logProb: top.logProb };
    if (bytes && splitsCharacter(bytes)) a.bytes = bytes;
    return a;
  }

  /**
   * Rank where the server gives it, or where the token is among the `asked` likeliest; else
   * unknown (rankAbove). vLLM's echo lists the token itself beside the k asked for, so a token
   * found in the list with k above it is past the top k.
   */
  private rankOf(p: ServerPosition, id: number, alternatives: Alternative[], asked: number): { rank?: number; rankAbove?: number } {
    if (p.rank !== undefined) return { rank: p.rank };
    const above = alternatives.filter((a) => a.logProb > p.logProb!).length;
    if (above < asked && alternatives.some((a) => a.id === id)) return { rank: 1 + above };
    return { rankAbove: Math.min(asked, alternatives.length) };
  }

  /**
   * Runs `ask`, and once more if the server refuses it for asking more log-probs than its cap
   * (vLLM's max_logprobs, named in its 400): the cap is kept, and the retry asks no more.
   */
  private async withinCap<T>(ask: () => Promise<T>): Promise<T> {
    try {
      return await ask();
    } catch (e) {
      // The server's own words, in the message's "(400: …)": vLLM's "… max allowed: 20", lmp serve's "… maximum of 20 (max_logprobs …".
      const cap = e instanceof LmError ? /\(400: [^)]*logprobs[^)]*(?:max allowed|maximum of):? (\d+)/i.exec(e.message) : null;
      if (!cap || Number(cap[1]) >= this.maxTopK) throw e;
      this.maxTopK = Number(cap[1]);
      return ask();
    }
  }

  scoreText(text: string, options: ScoreTextOptions): Promise<TokenScore[]> {
    return this.withinCap(() => this.scoreOnce(text, options));
  }

  private async scoreOnce(text: string, options: ScoreTextOptions): Promise<TokenScore[]> {
    if (!this.dialect.score || this.scoringUnavailable) throw new LmError(`${this.endpoint}: ${this.scoringUnavailable ?? 'this server cannot score a text'}`);
    const topK = Math.max(0, Math.min(this.maxTopK, options.topK));
    const rankTopK = Math.max(topK, Math.min(this.maxTopK, options.rankTopK ?? 0));
    const positions = await this.dialect.score(this.http, this.ref.model, text, topK, rankTopK, options.signal);
    this.knowsUnknownWords = positions.length > 0 && positions.every((p) => p.oov !== undefined);
    const placed = placePieces(
      text,
      positions.map((p) => p.piece),
      this.endpoint,
      { offset: options.offset ?? 0, leading: 1 },
    );
    const out: TokenScore[] = [];
    positions.forEach((p, i) => {
      // The first token (the begin-of-text token, or the text's first without one) is given, not scored.
      if (p.logProb !== null) out.push({ ...this.scoreOf(p, topK, rankTopK), start: placed[i].start, length: placed[i].length });
    });
    return out;
  }

  /** A scored position's numbers: its id in this client's vocabulary, log-prob, rank (or "above k") and top k. */
  private scoreOf(p: ServerPosition, topK: number, rankTopK: number): ServerScore {
    const id = this.tokenizer.id(p.piece);
    const known = p.top.map((t) => this.alternative(t));
    const bytes = pieceBytes(p.piece);
    return {
      id,
      text: bytes ? byteTokenText(Uint8Array.from(bytes)) : p.piece.text,
      logProb: p.logProb!,
      oov: p.oov ?? false,
      ...this.rankOf(p, id, known, rankTopK),
      alternatives: known.slice(0, topK),
    };
  }

  async tokenizeText(
    text: string,
    options: { atStart: boolean; from: number; offset?: number; signal?: ScoreTextOptions['signal'] },
  ): Promise<{ ids: number[]; placed: ServerToken[]; firstPlaced: number } | undefined> {
    const tokenize = this.dialect.tokenize;
    if (!tokenize || !this.dialect.score || this.scoringUnavailable || this.noTokenize) return undefined;
    const ask = (t: string) => tokenize(this.http, this.ref.model, t, options.atStart, options.signal);
    // The text before `from` too: its ids, when they begin the text's, say which token starts there.
    const [ids, head] = await Promise.all([ask(text), options.from > 0 ? ask(text.slice(0, options.from)) : Promise.resolve([])]);
    if (!ids || !head) {
      this.noTokenize = true;
      return undefined;
    }
    const firstPlaced = head.length;
    if (firstPlaced > ids.length || head.some((id, i) => id !== ids[i])) return undefined;
    const rest = ids.slice(firstPlaced);
    if (rest.length === 0) return { ids, placed: [], firstPlaced };
    // The pieces of the tokens from there as the server echoes them (ranks alone: one pass over them) tell where each falls.
    const positions = await this.withinCap(() => this.dialect.score!(this.http, this.ref.model, rest, 0, 0, options.signal));
    if (positions.length !== rest.length) return undefined;
    let placed;
    try {
      placed = placePieces(
        text.slice(options.from),
        positions.map((p) => p.piece),
        this.endpoint,
        { offset: (options.offset ?? 0) + options.from, leading: options.atStart && firstPlaced === 0 ? 1 : 0 },
      );
    } catch {
      return undefined; // pieces that do not spell the text (a tokenizer that normalises it): the text path instead
    }
    return {
      ids,
      firstPlaced,
      placed: rest.map((id, i) => {
        const bytes = pieceBytes(positions[i].piece);
        return { id, text: bytes ? byteTokenText(Uint8Array.from(bytes)) : positions[i].piece.text, start: placed[i].start, length: placed[i].length };
      }),
    };
  }

  scoreIds(ids: readonly number[], options: { topK: number; signal?: ScoreTextOptions['signal'] }): Promise<(ServerScore | null)[]> {
    return this.withinCap(async () => {
      if (!this.dialect.score || this.scoringUnavailable)
        throw new LmError(`${this.endpoint}: ${this.scoringUnavailable ?? 'this server cannot score a text'}`);
      const k = Math.max(0, Math.min(this.maxTopK, options.topK));
      const positions = await this.dialect.score(this.http, this.ref.model, ids, k, k, options.signal);
      if (positions.length !== ids.length)
        throw new LmError(
          `${this.endpoint}: a malformed answer: ${positions.length} tokens echoed for a prompt of ${ids.length} token ids; nothing was scored`,
        );
      return positions.map((p) => (p.logProb === null ? null : this.scoreOf(p, k, k)));
    });
  }

  /**
   * A generated token's numbers, whatever the dialect's shape (llama.cpp's and Ollama's are not
   * checked on the way in): a log-prob above 0 or below any a model gives, or alternatives whose
   * probabilities sum above 1, is a malformed answer, never numbers.
   */
  private checkGenerated(p: ServerPosition, completion: number, at: number): void {
    const bad = (what: string): never => {
      throw new LmError(
        `${this.endpoint}: a malformed answer: generated token ${at} (${JSON.stringify(p.piece.text)}) of completion ${completion} ${what}; nothing was used`,
      );
    };
    const valid = (lp: number) => lp <= LOGPROB_SLACK && lp >= MIN_LOGPROB;
    if (p.logProb !== null && !valid(p.logProb)) bad(`has log-prob ${p.logProb}`);
    if (!p.top.every((t) => valid(t.logProb))) bad('has an alternative with a log-prob above 0 or below -100000');
    if (p.top.reduce((sum, t) => sum + Math.exp(t.logProb), 0) > 1 + PROBABILITY_SLACK) bad('has alternatives whose probabilities sum above 1');
  }

  generate(prompt: string, options: GenerationOptions, hooks: GenerationHooks = {}): Promise<Completion[]> {
    return this.withinCap(() => this.generateOnce(prompt, options, hooks));
  }

  private async generateOnce(prompt: string, options: GenerationOptions, hooks: GenerationHooks): Promise<Completion[]> {
    validateGenerationOptions(options);
    if (!Number.isFinite(options.temperature)) throw new LmError(`temperature ∞ needs a local model: ${this.info.name} samples on its server`);
    const n = options.numCompletions ?? 1;
    const seed = options.seed ?? randomSeed();
    const perToken = Math.min(this.maxTopK, options.topKPerToken ?? 0);
    let promptTokens: GeneratedToken[] | undefined;
    if (options.echoPrompt) {
      const scored = await this.scoreText(prompt, { topK: Math.max(1, perToken), atStart: true, signal: hooks.signal });
      promptTokens = scored.map((s) => ({ id: s.id, text: s.text, logProb: s.logProb, rank: s.rank, alternatives: perToken > 0 ? s.alternatives : undefined }));
    }
    const runs = Array.from({ length: n }, () => ({
      tokens: [] as GeneratedToken[],
      starts: [] as number[],
      text: '',
      bytes: [] as number[],
      stopped: undefined as FinishReason | undefined,
      stopKind: undefined as StopKind | undefined,
      /** The server sent something of it. */
      sent: false,
    }));
    if (options.maxTokens > 0) {
      const stops = options.stopSequences ?? [];
      // The local generator's text rules, applied to the whole text so far.
      const textCriteria = [stopSequences(stops), ...(options.stopAtBlankLine ? [blankLineRun()] : [])];
      // At least the token's own log-prob comes with its alternatives.
      const asked = Math.max(1, perToken);
      const reasons = await this.dialect.generate(
        this.http,
        this.ref.model,
        {
          prompt,
          maxTokens: options.maxTokens,
          temperature: options.temperature,
          topP: options.topP,
          topK: options.topK,
          seed,
          stop: stops,
          n,
          logprobs: asked,
        },
        (index, p) => {
          const run = runs[index];
          if (!run || run.stopped) return true;
          run.sent = true;
          this.checkGenerated(p, index, run.tokens.length);
          const id = this.tokenizer.id(p.piece);
          const alternatives = p.top.map((t) => this.alternative(t));
          const token: GeneratedToken = { id, text: p.piece.text, logProb: p.logProb ?? NaN, bytes: pieceBytes(p.piece) };
          if (perToken > 0) {
            Object.assign(token, this.rankOf(p, id, alternatives, asked));
            token.alternatives = alternatives.slice(0, perToken);
          }
          run.starts.push(run.text.length);
          run.tokens.push(token);
          run.bytes.push(...(token.bytes ?? new TextEncoder().encode(p.piece.text)));
          run.text = new TextDecoder().decode(Uint8Array.from(run.bytes));
          // Stops the server may not apply as we do: stop sequences across tokens, a blank line.
          const { at: cut, kind } = textStop(textCriteria, run.text, 0);
          if (cut >= 0) {
            run.text = run.text.slice(0, cut);
            while (run.tokens.length > 0 && run.starts[run.tokens.length - 1] >= cut) {
              run.tokens.pop();
              run.starts.pop();
            }
            run.stopped = 'stop';
            run.stopKind = kind;
            return true;
          }
          hooks.onToken?.(index, token);
          // A server that ignores max_tokens (or streams for ever) is cut here: no more is read.
          if (run.tokens.length >= options.maxTokens) {
            run.stopped = 'length';
            return true;
          }
          return false;
        },
        hooks.signal,
      );
      const missing = runs.filter((r, i) => !r.sent && reasons[i] === undefined).length;
      if (missing > 0)
        throw new LmError(
          `${this.endpoint}: the server returned ${n - missing} of the ${n} completions asked for (it ignores n): set lmPlayground.generation.numCompletions (lmp: --num-completions) to 1 for this server`,
        );
      runs.forEach((r, i) => (r.stopped ??= reasons[i] ?? 'length'));
    }
    return runs.map((r, index) => {
      // A server's "stop" may be a stop sequence it removed from the text.
      const finishReason = r.stopped ?? 'length';
      return {
        text: options.echoPrompt ? prompt + r.text : r.text,
        tokens: r.tokens,
        promptTokens,
        logProb: r.tokens.reduce((s, t) => s + t.logProb, 0),
        finishReason,
        ...(finishReason === 'stop' && r.stopKind ? { stopKind: r.stopKind } : {}),
        seed,
        index,
      };
    });
  }
}
