/**
 * A causal LM's begin- and end-of-sequence tokens, from the files that declare them:
 * generation_config.json (what Hugging Face's generate() stops at, often several ids, e.g. Qwen's
 * <|im_end|> and <|endoftext|>), config.json and tokenizer_config.json (token strings, looked up in
 * tokenizer.json). Generation stops at any end token. The begin token conditions the first token
 * of a text: the tokenizer's own BOS where it has one (Llama's <s>), else the model's
 * bos_token_id, else its first end token (GPT-2's <|endoftext|> separates documents).
 */
import { ModelFormatError } from '../errors';

export interface SpecialTokenFiles {
  config: unknown;
  generationConfig?: unknown;
  tokenizerConfig?: unknown;
  tokenizer: unknown;
}

export interface SpecialTokenNames {
  config: string;
  generationConfig: string;
  tokenizerConfig?: string;
  tokenizer?: string;
}

export interface SpecialTokens {
  bosId: number | undefined;
  /** Every end-of-sequence id, the primary one (generation_config.json's first) first. */
  eosIds: number[];
  /**
   * Said when config.json or generation_config.json names a begin or end token that the
   * tokenizer has as an ordinary token, where it marks special ones: the tokenizer is likely
   * another model's (hostile13 M3: numbers 10,000× off, without a word).
   */
  tokenMismatch?: string;
}

const asObject = (v: unknown): Record<string, unknown> | undefined =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

/** The id of a token string in tokenizer.json: an added token, else a vocabulary entry. */
export function tokenIdIn(tokenizerJson: unknown, token: string): number | undefined {
  const j = asObject(tokenizerJson);
  const added = Array.isArray(j?.added_tokens) ? (j.added_tokens as unknown[]) : [];
  for (const t of added) {
    const a = asObject(t);
    if (a?.content === token && typeof a.id === 'number') return a.id;
  }
  const vocab = asObject(j?.model)?.vocab;
  // BPE and WordPiece map tokens to ids; a Unigram vocabulary is a list of [token, score].
  if (Array.isArray(vocab)) {
    const i = vocab.findIndex((e) => Array.isArray(e) && e[0] === token);
    return i >= 0 ? i : undefined;
  }
  const id = asObject(vocab)?.[token];
  return typeof id === 'number' ? id : undefined;
}

/** tokenizer_config.json's token entry: a string, or an AddedToken object with `content`. */
function tokenString(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  const content = asObject(v)?.content;
  return typeof content === 'string' ? content : undefined;
}

/** Token ids of a `*_token_id` field: an integer or a list of them; each a token of the vocabulary. */
function ids(v: unknown, key: string, vocabSize: number, file: string): number[] {
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  for (const id of list) {
    if (typeof id !== 'number' || !Number.isInteger(id))
      throw new ModelFormatError(`${key} must be a token id or a list of them, got ${JSON.stringify(v)}`, file);
    if (id < 0 || id >= vocabSize) throw new ModelFormatError(`${key} ${id} is out of range (0 to ${vocabSize - 1}: a token of the vocabulary)`, file);
  }
  return list as number[];
}

/**
 * The id of tokenizer_config.json's token string `key`. A token that tokenizer.json lacks, or has
 * outside the model's vocabulary, is refused: the files do not belong together, and passing over
 * it would start or end texts with another token than the model was trained with.
 */
function tokenConfigId(
  tokenizerConfig: Record<string, unknown> | undefined,
  key: string,
  tokenizer: unknown,
  vocabSize: number,
  names: SpecialTokenNames,
): number | undefined {
  const token = tokenString(tokenizerConfig?.[key]);
  if (token === undefined) return undefined;
  const id = tokenIdIn(tokenizer, token);
  if (id === undefined) throw missingToken(`its ${key} ${JSON.stringify(token)}`, names);
  if (id < 0 || id >= vocabSize) {
    throw new ModelFormatError(
      `its ${key} ${JSON.stringify(token)} is token ${id} of ${tokenizerFile(names)}, outside the model's vocabulary (0 to ${vocabSize - 1})`,
      configFile(names),
    );
  }
  return id;
}

/**
 * The special token tokenizer.json's own template puts before a text (`post_processor`, a
 * TemplateProcessing alone or in a Sequence: Llama's `<s>`, Llama 3's `<|begin_of_text|>`), when
 * no config file names one (hostile14 L7: such a folder read as having none).
 */
function templateBosId(tokenizer: unknown, vocabSize: number): number | undefined {
  const post = asObject(asObject(tokenizer)?.post_processor);
  const steps = post?.type === 'Sequence' && Array.isArray(post.processors) ? post.processors.map(asObject) : [post];
  for (const step of steps) {
    if (step?.type !== 'TemplateProcessing' || !Array.isArray(step.single)) continue;
    const first = asObject(asObject(step.single[0])?.SpecialToken);
    if (typeof first?.id !== 'string') continue;
    const ids = asObject(asObject(step.special_tokens)?.[first.id])?.ids;
    const id = Array.isArray(ids) ? ids[0] : undefined;
    if (typeof id === 'number' && Number.isInteger(id) && id >= 0 && id < vocabSize) return id;
  }
  return undefined;
}

const tokenizerFile = (names: SpecialTokenNames) => names.tokenizer ?? 'tokenizer.json';
const configFile = (names: SpecialTokenNames) => names.tokenizerConfig ?? 'tokenizer_config.json';

function missingToken(what: string, names: SpecialTokenNames): ModelFormatError {
  return new ModelFormatError(
    `${what} is not a token of ${tokenizerFile(names)}: the two files do not belong together (take both from the same model)`,
    configFile(names),
  );
}

/** tokenizer_config.json's added_tokens_decoder (id → token): each must be that token of tokenizer.json. */
function checkAddedTokensDecoder(tokenizerConfig: Record<string, unknown> | undefined, tokenizer: unknown, names: SpecialTokenNames): void {
  const decoder = asObject(tokenizerConfig?.added_tokens_decoder);
  if (!decoder) return;
  for (const [key, entry] of Object.entries(decoder)) {
    const token = tokenString(entry);
    if (token === undefined) continue;
    const id = tokenIdIn(tokenizer, token);
    const what = `its added_tokens_decoder entry ${key}, ${JSON.stringify(token)},`;
    if (id === undefined) throw missingToken(what, names);
    if (String(id) !== key) {
      throw new ModelFormatError(
        `${what} is token ${id} in ${tokenizerFile(names)}: the two files do not belong together (take both from the same model)`,
        configFile(names),
      );
    }
  }
}

/** tokenizer.json's added tokens marked special, by id. */
function specialTokenTexts(tokenizerJson: unknown): Map<number, string> {
  const added = asObject(tokenizerJson)?.added_tokens;
  const out = new Map<number, string>();
  if (!Array.isArray(added)) return out;
  for (const t of added) {
    const a = asObject(t);
    if (a?.special === true && typeof a.id === 'number' && typeof a.content === 'string') out.set(a.id, a.content);
  }
  return out;
}

/** The first begin or end id of the model's files that the tokenizer has as an ordinary token, said as a warning. */
function tokenMismatch(tokenizer: unknown, given: { key: string; ids: number[]; file: string }[], names: SpecialTokenNames): string | undefined {
  const specials = specialTokenTexts(tokenizer);
  // A tokenizer that marks no special token says nothing about which ids are.
  if (specials.size === 0) return undefined;
  for (const { key, ids: list, file } of given) {
    const id = list.find((i) => !specials.has(i));
    if (id === undefined) continue;
    const shown = [...specials].slice(0, 4).map(([i, text]) => `${JSON.stringify(text)} ${i}`);
    return (
      `${file}'s ${key} ${id} is an ordinary token of ${tokenizerFile(names)}, not one of its special tokens (${shown.join(', ')}${specials.size > 4 ? ', …' : ''}): ` +
      `the tokenizer is probably another model's, and every probability would be wrong; take config.json, generation_config.json and the tokenizer files from the same model`
    );
  }
  return undefined;
}

export function specialTokens(files: SpecialTokenFiles, vocabSize: number, names: SpecialTokenNames): SpecialTokens {
  const config = asObject(files.config) ?? {};
  const generation = asObject(files.generationConfig);
  // A tokenizer.json without a model section is reported by the tokenizer's own checks, first.
  const tokenizerConfig = asObject(asObject(files.tokenizer)?.model) ? asObject(files.tokenizerConfig) : undefined;
  checkAddedTokensDecoder(tokenizerConfig, files.tokenizer, names);
  const generationEos = ids(generation?.eos_token_id, 'eos_token_id', vocabSize, names.generationConfig);
  const configEos = ids(config.eos_token_id, 'eos_token_id', vocabSize, names.config);
  const eos = [...generationEos, ...configEos];
  const tokenizerEos = tokenConfigId(tokenizerConfig, 'eos_token', files.tokenizer, vocabSize, names);
  if (tokenizerEos !== undefined) eos.push(tokenizerEos);
  const eosIds = [...new Set(eos)];
  const generationBos = ids(generation?.bos_token_id, 'bos_token_id', vocabSize, names.generationConfig);
  const configBos = ids(config.bos_token_id, 'bos_token_id', vocabSize, names.config);
  const bos =
    tokenConfigId(tokenizerConfig, 'bos_token', files.tokenizer, vocabSize, names) ??
    generationBos[0] ??
    configBos[0] ??
    templateBosId(files.tokenizer, vocabSize) ??
    eosIds[0];
  const mismatch = tokenMismatch(
    files.tokenizer,
    [
      { key: 'eos_token_id', ids: generationEos, file: names.generationConfig },
      { key: 'bos_token_id', ids: generationBos, file: names.generationConfig },
      { key: 'eos_token_id', ids: configEos, file: names.config },
      { key: 'bos_token_id', ids: configBos, file: names.config },
    ],
    names,
  );
  return mismatch ? { bosId: bos, eosIds, tokenMismatch: mismatch } : { bosId: bos, eosIds };
}
