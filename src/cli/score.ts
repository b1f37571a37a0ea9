/**
 * `lmp score`: chain-rule scores of text files, streamed: each file is read in chunks, tokenized
 * piece by piece (`TokenStream`) and scored as the tokens come (`ScoreStream`), so that memory is
 * bounded by the chunk size and the model, not by the text; per-token details are written as
 * they come.
 */
import { LmError } from '../core/errors';
import { LN10 } from '../core/logMath';
import type { LanguageModel, Token } from '../core/model';
import type { ServerModel } from '../core/remote/serverModel';
import { ScoreStream, ScoreTotals, type TokenScore } from '../core/scoring';
import { displayTokenText, splitsCharacter } from '../core/tokenBytes';
import { TokenStream } from '../core/tokenStream';
import { characterCount } from '../core/tokenizers/lineBreaks';
import { loadModel } from '../node/modelLoader';
import { decodeUtf8, displayName, fileChunks, TEXT_CHUNK_BYTES } from '../node/textFile';
import { deviceOption, dtypeOption, noteIgnoredDtype, noteModelWarning, intOption, parse } from './options';
import type { Out } from './output';

export async function score(args: string[], out: Out): Promise<number> {
  const { values, positionals } = parse(args, {
    model: { type: 'string' },
    json: { type: 'boolean' },
    details: { type: 'boolean' },
    'top-k': { type: 'string' },
    device: { type: 'string' },
    dtype: { type: 'string' },
    quantized: { type: 'boolean' },
  });
  if (!values.model) throw new LmError('give --model MODEL');
  if (positionals.length === 0) throw new LmError('give at least one FILE to score');
  const topK = intOption(values['top-k'], 'top-k', 5, 1, 1000);
  const model = await loadModel(values.model, undefined, {
    device: deviceOption(values.device),
    dtype: dtypeOption(values.dtype, values.quantized),
    apiKey: process.env.LMP_API_KEY || undefined,
  });
  noteIgnoredDtype(values.dtype, model);
  noteModelWarning(model);
  // Without a begin-of-text token the first token has no context to be scored in (hostile13 L7).
  if (model.bosId === undefined && !model.server)
    process.stderr.write(`lmp: ${model.info.name} has no begin-of-text token: each file's first token is given as context, not scored\n`);
  const details = values.details ?? false;
  const json = values.json ?? false;
  const totals = new ScoreTotals();
  /** With --details --json: whether the document's opening (the token list) has been written. */
  let opened = false;
  const emit = async (scores: TokenScore[]) => {
    for (const t of scores) {
      totals.add(t);
      if (!details) continue;
      if (json) {
        // The token list comes first, so that nothing needs keeping until the totals are known.
        await out(`${opened ? ',' : '{"token_scores":['}${JSON.stringify(tokenJson(t))}`);
        opened = true;
      } else await out(`${JSON.stringify(shownToken(t))}\t${t.logProb.toFixed(4)} nats\trank ${t.rankAbove !== undefined ? `>${t.rankAbove}` : t.rank}\n`);
    }
  };
  const { tokenizer } = model;
  /**
   * As a hover shows it: a token holding part of a character (whose span is empty or the whole
   * character) as its bytes, "<0xE2>"; one with no text of the file (SentencePiece's space before
   * a text's first word) as the token it is.
   */
  const shownToken = (t: TokenScore): string =>
    !model.server && (t.text === '' || (tokenizer.tokenBytes && splitsCharacter(Array.from(tokenizer.tokenBytes(t.id)))))
      ? displayTokenText(tokenizer, t.id)
      : t.text;
  let chars = 0;
  try {
    // With several files, offsets (start) are relative to each file; each starts a sequence.
    for (const file of positionals) chars += await scoreFile(model, file, { details, topK }, emit);
  } catch (e) {
    // A document begun on standard output is closed with the error, so that it stays one valid
    // JSON value; the error also goes to stderr with a non-zero exit code, as every error.
    if (opened) await out(`],"error":${JSON.stringify(e instanceof Error ? e.message : String(e))}}\n`);
    throw e;
  }
  const result = summaryJson(model, totals, chars);
  if (result.tokens === 0)
    process.stderr.write(
      `lmp: no token was scored (${chars === 0 ? 'the text is empty' : "the text's only token is given as context"}): the per-token and per-character figures are null\n`,
    );
  if (json && details) await out(`${opened ? '],' : '{"token_scores":[],'}${JSON.stringify(result).slice(1)}\n`);
  else if (json) await out(`${JSON.stringify(result)}\n`);
  else for (const [k, v] of Object.entries(result)) await out(`${k}\t${typeof v === 'number' ? +v.toPrecision(8) : v}\n`);
  return 0;
}

/** Scores one file; returns its length in characters (a CRLF line break is one). */
export async function scoreFile(
  model: LanguageModel,
  file: string,
  options: { details?: boolean; topK?: number },
  emit: (scores: TokenScore[]) => Promise<void>,
  chunkBytes = TEXT_CHUNK_BYTES,
): Promise<number> {
  if (model.server) return scoreFileOnServer(model.server, file, options, emit, chunkBytes);
  const tokens = new TokenStream(model.tokenizer);
  const scorer = new ScoreStream(model, options);
  const named = <T>(f: () => T): T => {
    try {
      return f();
    } catch (e) {
      throw e instanceof LmError ? new LmError(`${displayName(file)}: ${e.message}`) : e;
    }
  };
  // A chunk's tokens go to the scorer a slice at a time and their scores out at once, so that
  // scores (with details, a few hundred bytes each) die young instead of a whole chunk's living on.
  const score = async (all: Token[]) => {
    for (let i = 0; i < all.length; i += SCORE_SLICE_TOKENS) await emit(await scorer.push(all.slice(i, i + SCORE_SLICE_TOKENS)));
  };
  let chars = 0;
  let afterCarriageReturn = false;
  for await (const text of decodeUtf8(fileChunks(file, chunkBytes), displayName(file), 'few')) {
    chars += characterCount(text, afterCarriageReturn);
    afterCarriageReturn = text.endsWith('\r');
    await score(named(() => tokens.push(text)));
  }
  await score(named(() => tokens.end()));
  await emit(await scorer.end());
  return chars;
}

/**
 * A model on a server tokenizes there: the file is sent whole, as one sequence (the server's own
 * context limit applies; it says so in its error), and its tokens come back with their offsets.
 */
async function scoreFileOnServer(
  server: ServerModel,
  file: string,
  options: { details?: boolean; topK?: number },
  emit: (scores: TokenScore[]) => Promise<void>,
  chunkBytes: number,
): Promise<number> {
  let text = '';
  for await (const piece of decodeUtf8(fileChunks(file, chunkBytes), displayName(file), 'few')) {
    text += piece;
    if (text.length > MAX_SERVER_TEXT_CHARS)
      throw new LmError(
        `${displayName(file)}: longer than ${MAX_SERVER_TEXT_CHARS.toLocaleString('en-US')} characters, the most sent to a server in one request`,
      );
  }
  // Alternatives only for --details: without, the totals alone are written.
  await emit(await server.scoreText(text, { topK: options.details ? (options.topK ?? 5) : 0, atStart: true }));
  return characterCount(text);
}

/** The longest text `lmp score` sends a server in one request. */
const MAX_SERVER_TEXT_CHARS = 4_000_000;

/** Tokens scored between two writes: a few windows of a neural model. */
const SCORE_SLICE_TOKENS = 1024;

function summaryJson(model: LanguageModel, totals: ScoreTotals, chars: number): Record<string, unknown> {
  const s = totals.summary(chars);
  const result: Record<string, unknown> = {
    model: model.info.name,
    tokens: s.tokens,
    chars: s.chars,
    // A server that does not say which tokens are unknown words: their number is not known.
    oov: model.server && !model.server.knowsUnknownWords ? null : s.oov,
    logprob_nats: s.logProbNats,
    // Averages over no token are undefined: null, one spelling for all of them (hostile13 L6).
    bits_per_token: s.tokens ? s.bitsPerToken : null,
    bits_per_char: s.tokens && s.chars ? s.bitsPerChar : null,
    perplexity: s.tokens ? s.perplexity : null,
  };
  if (model.unkId !== undefined) {
    // A model with an unknown-word token (an n-gram model): KenLM's query figures, totals in log10,
    // OOV words' own log-probs removed for the "excluding" figure.
    const total10 = s.logProbNats / LN10;
    const oov10 = totals.oovLogProbNats / LN10;
    result.perplexity_including_oov = s.tokens ? Math.pow(10, -total10 / s.tokens) : null;
    result.perplexity_excluding_oov = s.tokens > s.oov ? Math.pow(10, -(total10 - oov10) / (s.tokens - s.oov)) : null;
  }
  return result;
}

function tokenJson(t: TokenScore) {
  return {
    text: t.text,
    start: t.start,
    length: t.length,
    id: t.id,
    logprob: t.logProb,
    rank: t.rank,
    rank_above: t.rankAbove,
    entropy_nats: t.entropy,
    oov: t.oov,
    top: t.alternatives?.map((a) => ({ text: a.text, logprob: a.logProb })),
  };
}
