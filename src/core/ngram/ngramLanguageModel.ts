/** An n-gram model as a LanguageModel: its vocabulary-based tokenizer and distributions in nats. */
import type { BackendCapabilities } from '../backends/capabilities';
import { throwIfCancelled, type CancelSignal } from '../errors';
import { LN10 } from '../logMath';
import type { ContinuedToken, LanguageModel, ModelInfo, SequenceScores, Token, Tokenizer } from '../model';
import { groupDigits } from '../numberFormat';
import { BOS, EOS, PretokenizerKind, detokenize, pretokenize } from '../tokenizers/pretokenizers';
import { editorCut, whitespaceCut } from '../tokenizers/textCuts';
import { backoffTrace, type NgramTrace } from './backoffTrace';
import { NgramModel } from './ngramModel';
import type { WordIds } from './vocabulary';

export class NgramTokenizer implements Tokenizer {
  constructor(
    readonly kind: PretokenizerKind,
    readonly vocab: WordIds,
  ) {}

  get vocabSize(): number {
    return this.vocab.size;
  }

  get sentencePerLine(): boolean {
    return this.kind === 'whitespace';
  }

  encode(text: string, atStart: boolean, offset = 0): Token[] {
    const v = this.vocab;
    const unk = v.unkId!;
    // A CRLF (or CR) line break is the line break a model trained on LF text knows: as <unk>, every
    // line of a Windows file cost the model its context (2.1 → 3.7 bits/char on a novel's page).
    const lineBreak = v.id('\n');
    const known = (piece: string) => v.id(piece) ?? (lineBreak !== undefined && (piece === '\r\n' || piece === '\r') ? lineBreak : undefined);
    return pretokenize(this.kind, text, atStart, offset).map((p) => ({
      id: p.special === BOS ? v.bosId! : p.special === EOS ? v.eosId! : (known(p.text) ?? unk),
      text: p.text,
      start: p.start,
      length: p.length,
    }));
  }

  decode(ids: readonly number[], precededByText: boolean): string {
    return detokenize(
      this.kind,
      ids.map((id) => this.vocab.word(id)),
      precededByText,
    );
  }

  tokenText(id: number): string {
    return this.vocab.word(id);
  }

  /** A word's separator depends on the token before it alone: a space after a word, none at a line's start. */
  continuation(previous: readonly number[], id: number, precededByText: boolean): ContinuedToken {
    const last = previous.length > 0 ? [previous[previous.length - 1]] : [];
    const preceded = last.length > 0 || precededByText;
    const text = this.decode([...last, id], preceded).slice(this.decode(last, preceded).length);
    // A marker decoding leaves out (<s>, </s> of the editor kind, <unk>) shows its name, as other tokenizers' special tokens do.
    return { text: text === '' ? this.tokenText(id) : text };
  }

  cutPoint(text: string): number {
    return this.kind === 'whitespace' ? whitespaceCut(text) : editorCut(text);
  }
}

/**
 * An n-gram model: whole distributions, a prediction depends on exactly the last n − 1 tokens, and
 * it runs in plain JavaScript: on the host's thread when small (a query takes microseconds), in a
 * Node worker thread when large (loading it would block the host), in the playground's worker.
 */
export const NGRAM_CAPABILITIES: BackendCapabilities = {
  distribution: 'full',
  batchedScoring: false,
  context: 'markov',
  placements: ['host', 'node-worker', 'webview-worker'],
  devices: [],
  inside: ['ngram-backoff'],
};

export class NgramLanguageModel implements LanguageModel {
  readonly tokenizer: NgramTokenizer;
  readonly info: ModelInfo;

  constructor(
    readonly ngram: NgramModel,
    kind: PretokenizerKind,
    name: string,
  ) {
    this.tokenizer = new NgramTokenizer(kind, ngram.vocab);
    const counts = ngram.counts.map(groupDigits).join(' / ');
    this.info = {
      name,
      backend: 'ngram',
      capabilities: NGRAM_CAPABILITIES,
      description: `Kneser-Ney ${ngram.order}-gram, ${kind} tokens, n-grams per order ${counts}`,
      contextLength: ngram.order - 1,
    };
    const warning = normalisationWarning(ngram);
    if (warning) this.info.warning = warning;
  }

  get vocabSize(): number {
    return this.ngram.vocab.size;
  }
  get bosId(): number | undefined {
    return this.ngram.vocab.bosId;
  }
  get eosId(): number | undefined {
    return this.ngram.vocab.eosId;
  }
  get unkId(): number | undefined {
    return this.ngram.vocab.unkId;
  }
  get unsampleableIds(): readonly number[] {
    const v = this.ngram.vocab;
    return [v.bosId, v.unkId].filter((x): x is number => x !== undefined);
  }

  async nextLogProbs(context: readonly number[], signal?: CancelSignal): Promise<Float64Array> {
    throwIfCancelled(signal);
    return this.nextLogProbsSync(context);
  }

  nextLogProbsSync(context: readonly number[]): Float64Array {
    const out = new Float64Array(this.ngram.vocab.size);
    this.ngram.distribution10(this.contextTail(context), out);
    for (let i = 0; i < out.length; i++) out[i] *= LN10;
    return out;
  }

  async sequenceLogProbs(ids: readonly number[], from: number, signal?: CancelSignal): Promise<Float64Array> {
    const out = new Float64Array(Math.max(0, ids.length - from));
    for (let i = from; i < ids.length; i++) {
      if ((i & 4095) === 0) throwIfCancelled(signal);
      // The context is ids[i - n..i), read in place (a copy per token was most of the cost).
      out[i - from] = this.ngram.logProb10(ids, ids[i], i) * LN10;
    }
    return out;
  }

  async sequenceScores(ids: readonly number[], from: number, signal?: CancelSignal): Promise<SequenceScores> {
    const n = Math.max(0, ids.length - from);
    const logProbs = new Float64Array(n);
    const ranks = new Int32Array(n);
    for (let i = from; i < ids.length; i++) {
      if ((i & 4095) === 0) throwIfCancelled(signal);
      const { logProb10, rank } = this.ngram.rank10(ids, ids[i], i);
      logProbs[i - from] = logProb10 * LN10;
      ranks[i - from] = rank;
    }
    return { logProbs, ranks };
  }

  ngramTrace(context: readonly number[], id: number): NgramTrace {
    return backoffTrace(this.ngram, this.contextTail(context), id);
  }

  private contextTail(context: readonly number[]): readonly number[] {
    const n = this.ngram.order - 1;
    return context.length > n ? context.slice(context.length - n) : context;
  }
}

/**
 * How far a model's 1-gram probabilities may sum from 1 before it is called non-normalised: ARPA
 * files keep 7 digits, and a model without <unk> lacks its mass (KenLM's test_nounk.arpa: 0.993).
 */
const UNIGRAM_SUM_TOLERANCE = 0.02;

/**
 * Why the model's numbers are not probabilities, when its 1-grams (but <s>, which KenLM writes
 * as p = 1 since it is never predicted) do not sum to about 1: an ARPA file written by hand or by
 * a tool that does not normalise. Each p is then a score, and sums over tokens are off.
 */
export function normalisationWarning(ngram: NgramModel): string | undefined {
  const unigrams = ngram.orders[0];
  const bos = ngram.vocab.bosId;
  let sum = 0;
  // exp rather than 10 **: a third of the time, on every load (the sum is only compared within a tolerance).
  for (let id = 0; id < unigrams.count; id++) if (id !== bos) sum += Math.exp(unigrams.logProb[id] * LN10);
  if (Math.abs(sum - 1) <= UNIGRAM_SUM_TOLERANCE) return undefined;
  return (
    `its 1-gram probabilities sum to ${sum.toPrecision(3)}, not 1: it is not a probability distribution, so its numbers are scores rather than probabilities ` +
    `(alternatives can sum to ${sum > 1 ? 'more' : 'less'} than 100 %, and entropy, perplexity and bits per character come out ${sum > 1 ? 'lower' : 'higher'} than a normalised model's would)`
  );
}
