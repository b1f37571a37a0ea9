/**
 * A Hugging Face `tokenizer.json` as the product's Tokenizer, with exact token offsets into the
 * text: SentencePiece-style BPE layouts (Llama 2, Mistral, Gemma) are encoded here
 * (SentencePieceBpe), every other one by @huggingface/tokenizers (LibraryTokenizer).
 */
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { ModelFormatError } from '../errors';
import type { ContinuedToken, Token, Tokenizer } from '../model';
import { LibraryTokenizer } from './libraryTokenizer';
import { SentencePieceBpe, isObject, sentencePieceLayout } from './sentencePieceBpe';
import { nestedRepetition, tokenizerPatterns } from './tokenizerRegex';

export class HuggingFaceTokenizer implements Tokenizer {
  private readonly impl: SentencePieceBpe | LibraryTokenizer;
  readonly vocabSize: number;
  /**
   * The unknown token (<unk>), when the tokenizer has one: text it stands for is out of the
   * vocabulary (a character without a token, or whose byte tokens a byte-fallback vocabulary lacks).
   */
  readonly unkId: number | undefined;
  /** Bytes a byte-fallback vocabulary has no <0xNN> token for (characters needing them are <unk>). */
  readonly missingByteTokens: readonly number[];
  readonly sentencePerLine = false;
  /** Where a long text may be cut and tokenized in pieces, for the layouts that have such places. */
  readonly cutPoint?: (text: string) => number;

  constructor(
    tokenizerJson: unknown,
    tokenizerConfig: unknown,
    private readonly bosId: number | undefined,
    private readonly fileName = 'tokenizer.json',
  ) {
    if (!tokenizerJson || typeof tokenizerJson !== 'object' || !('model' in tokenizerJson)) {
      throw new ModelFormatError('not a Hugging Face tokenizer (no "model" section)', fileName);
    }
    this.idsOutside = idsOutside(tokenizerJson as Record<string, unknown>);
    for (const { where, pattern } of tokenizerPatterns(tokenizerJson)) {
      const nested = nestedRepetition(pattern);
      if (nested) {
        throw new ModelFormatError(
          `the ${where} pattern repeats a group that itself repeats (${nested}): such a pattern can run for ever on a short text, so it is not run; no real tokenizer needs one`,
          fileName,
        );
      }
    }
    checkUniqueIds(tokenizerJson as Record<string, unknown>, fileName);
    const layout = sentencePieceLayout(tokenizerJson);
    if (layout) {
      this.impl = new SentencePieceBpe(tokenizerJson as Record<string, unknown>, layout, fileName);
    } else {
      // The library keeps the object it is given: a copy of the model section, whose vocabulary and
      // merges are dropped once it has built its own tables from them (releaseBuildInputs).
      const given = (tokenizerJson as { model: unknown }).model;
      const model = isObject(given) ? { ...given } : given;
      let hf: HfTokenizer;
      try {
        hf = new HfTokenizer({ ...tokenizerJson, model }, (tokenizerConfig ?? {}) as object);
      } catch (e) {
        // The library's own TypeErrors ("x.split is not a function") say nothing to a user.
        const why = e instanceof TypeError ? 'a field of its "model" section (vocab, merges) or added_tokens has the wrong type' : (e as Error).message;
        throw new ModelFormatError(`cannot build the tokenizer: ${why}`, fileName);
      }
      this.impl = new LibraryTokenizer(hf, tokenizerJson as Record<string, unknown>);
      if (isObject(model)) releaseBuildInputs(hf, model);
    }
    this.vocabSize = this.impl.vocabSize;
    this.unkId = this.impl.unkId;
    this.missingByteTokens = this.impl instanceof SentencePieceBpe ? this.impl.missingByteTokens : [];
    this.cutPoint = this.impl.cutPoint;
  }

  /** What checkAgainstGraph needs of the token ids, read once: the file's vocabulary is not kept. */
  private readonly idsOutside: IdsOutside;

  /**
   * Checks the tokenizer against the graph it feeds: every id (vocabulary and added tokens) is a
   * token of the graph's logits, and a probe of printable ASCII comes back whole (a tokenizer that
   * lacks some characters would silently drop text).
   */
  checkAgainstGraph(graphVocabSize: number): void {
    const { invalid, highest } = this.idsOutside;
    const outside = invalid ?? (highest && highest[1] >= graphVocabSize ? highest : undefined);
    if (outside) {
      throw new ModelFormatError(
        `token ${JSON.stringify(outside[0])} has id ${JSON.stringify(outside[1])}, outside the graph's vocabulary (0 to ${graphVocabSize - 1})`,
        this.fileName,
      );
    }
    let probe = 'A'; // not a leading space: some decoders drop one
    for (let c = 0x20; c < 0x7f; c++) probe += String.fromCharCode(c);
    const back = this.decode(
      this.impl.encode(probe, true).map((t) => t.id),
      false,
    );
    if (back !== probe)
      throw new ModelFormatError(`the tokenizer does not cover printable ASCII: ${JSON.stringify(probe)} comes back as ${JSON.stringify(back)}`, this.fileName);
  }

  encode(text: string, atStart: boolean, offset = 0): Token[] {
    const tokens = this.impl.encode(text, atStart, offset);
    if (atStart && this.bosId !== undefined) tokens.unshift({ id: this.bosId, text: '', start: offset, length: 0 });
    return tokens;
  }

  /** decode(prefix + ids) − decode(prefix) when `precededByText`: a continuation keeps its leading space. */
  decode(ids: readonly number[], precededByText: boolean): string {
    return this.impl.decode(ids, precededByText);
  }

  tokenBytes(id: number): Uint8Array {
    return this.impl.tokenBytes(id);
  }

  /** The token for display: "▁" as a space, a byte token as its character. */
  tokenText(id: number): string {
    return this.impl.tokenText(id);
  }

  /**
   * A token's text does not depend on the tokens before it (its space is its own), except at the
   * text's start, where the decoder may drop what it begins with (SentencePiece's "▁": `▁The` is
   * "The" there, " The" after text): its bytes then lose that part too.
   */
  continuation(previous: readonly number[], id: number, precededByText: boolean): ContinuedToken {
    const text = this.tokenText(id);
    const bytes = this.tokenBytes(id);
    if (previous.length > 0 || precededByText) return { text, bytes };
    const shown = this.decode([id], false);
    if (shown === text || !text.endsWith(shown)) return { text, bytes };
    return { text: shown, bytes: bytes.subarray(new TextEncoder().encode(text.slice(0, text.length - shown.length)).length) };
  }
}

/** A token whose id is no id of any graph (not an integer ≥ 0), and the token with the highest id. */
interface IdsOutside {
  invalid?: [unknown, unknown];
  highest?: [unknown, number];
}

function idsOutside(json: Record<string, unknown>): IdsOutside {
  const vocab = (json.model as { vocab?: unknown } | undefined)?.vocab;
  const found: IdsOutside = {};
  const see = (token: unknown, id: unknown) => {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) found.invalid ??= [token, id];
    else if (!found.highest || id > found.highest[1]) found.highest = [token, id];
  };
  // A Unigram vocabulary is a list (ids are positions); BPE and WordPiece map tokens to ids.
  if (Array.isArray(vocab)) {
    if (vocab.length > 0) see(vocab[vocab.length - 1], vocab.length - 1);
  } else if (vocab && typeof vocab === 'object') {
    for (const token in vocab) see(token, (vocab as Record<string, unknown>)[token]);
  }
  const added = Array.isArray(json.added_tokens) ? (json.added_tokens as { id?: unknown; content?: unknown }[]) : [];
  for (const t of added) see(t?.content, t?.id);
  return found;
}

/**
 * The library keeps the parsed vocabulary and merge list after building its own tables from them
 * (BPE: tokens_to_ids, bpe_ranks): for a 49,152-token vocabulary about 250,000 small objects
 * (each merge an array of two strings) that every garbage collection of the thread marks again,
 * and a decode step's caches prompt one every few steps. `model` is the copy of the file's model
 * section the library was given. Version 0.2 reads neither after its BPE constructor; a version
 * that did would fail tokenizerMemory.test.ts, which encodes as the library does with all of it.
 */
function releaseBuildInputs(hf: HfTokenizer, model: Record<string, unknown>): void {
  const built = (hf as unknown as { model?: { merges?: unknown; bpe_ranks?: unknown } }).model;
  const ranks = built?.bpe_ranks;
  if (!built || !(ranks instanceof Map) || !Array.isArray(built.merges) || ranks.size < built.merges.length) return;
  built.merges = [];
  delete model.merges;
  delete model.vocab;
  // The ranks' keys (JSON.stringify of each pair) are concatenations in V8, three objects each;
  // the same keys read back from JSON are one each, and look up the same.
  const keys = [...ranks.keys()];
  if (!keys.every((k) => typeof k === 'string')) return;
  const flat = JSON.parse(JSON.stringify(keys)) as string[];
  const values = [...ranks.values()];
  built.bpe_ranks = new Map(flat.map((k, i) => [k, values[i]]));
}

/**
 * Two token strings with one id: decoding could give only one of them, so text encoded as the
 * other would come back changed. Refused, naming both (the vocabulary's, and the added tokens'
 * among themselves; an added token may repeat its own vocabulary entry).
 */
function checkUniqueIds(json: Record<string, unknown>, fileName: string): void {
  const model = json.model as { vocab?: unknown } | undefined;
  const vocab = model?.vocab;
  const check = (entries: Iterable<[string, unknown]>, where: string) => {
    const seen = new Map<number, string>();
    for (const [token, id] of entries) {
      if (typeof id !== 'number') continue; // a wrong type is reported where the id is used
      const other = seen.get(id);
      if (other !== undefined && other !== token) {
        throw new ModelFormatError(
          `${where} gives the id ${id} to two tokens, ${JSON.stringify(other)} and ${JSON.stringify(token)}: each token needs an id of its own`,
          fileName,
        );
      }
      seen.set(id, token);
    }
  };
  if (vocab && typeof vocab === 'object' && !Array.isArray(vocab)) check(Object.entries(vocab), 'the vocabulary (model.vocab)');
  if (Array.isArray(json.added_tokens)) {
    const added = json.added_tokens as { content?: unknown; id?: unknown }[];
    check(
      added.filter((t) => t && typeof t.content === 'string').map((t) => [t.content as string, t.id]),
      'added_tokens',
    );
  }
}
