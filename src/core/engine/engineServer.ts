/** The worker side of the engine protocol: owns one model and answers requests in order. */
import { entropyNats, topIndices } from '../distribution';
import { CancelledError, LmError, ModelFormatError, throwIfCancelled, type CancelSignal } from '../errors';
import { generate, generateUnspelled, type GeneratedToken, type PromptTokens } from '../generation';
import { IncrementalDecoder } from '../incrementalDecode';
import { unheldGeneration, type GenerationHold, type LanguageModel } from '../model';
import { NgramTokenizer } from '../ngram/ngramLanguageModel';
import { packVocabulary, packedBuffers } from '../ngram/packedVocabulary';
import type { EngineOp, EngineRequest, EngineResponse, LoadSpec, ModelDescription, OpResult } from './protocol';
import { TokenStream } from './tokenStream';
import { displayTokenText } from '../tokenBytes';
import { generationWindowStart, windowStartFor } from '../slidingWindow';

export interface LoadedModel {
  model: LanguageModel;
}

export class EngineServer {
  private model: LoadedModel | undefined;
  private readonly cancelled = new Set<number>();
  /** The holds the host has taken for its generations (holdForGeneration), the newest last. */
  private readonly holds: GenerationHold[] = [];
  /**
   * The prompt the inside panel last asked about, with its ids: the panel asks about token after
   * token of one result, and encoding a long prompt takes seconds (2 MB: 11–18 s with gpt-classics).
   */
  private encoded: { model: LanguageModel; prompt: string; ids: number[] } | undefined;

  constructor(
    private readonly load: (spec: LoadSpec) => Promise<LoadedModel>,
    private readonly post: (response: EngineResponse, transfer: ArrayBuffer[]) => void,
  ) {}

  /**
   * Handles `req` in a transport's queue, which handles requests one at a time, in order: resolves
   * when the next may start. That is when this one is done, but for a request beside a generation
   * that the host holds the model for (not one of its steps): the model may keep it waiting for
   * the generation's end (a hover on a long context, the heat-map), and the steps after it must go on.
   * `onDone` runs once the request is done.
   */
  inTurn(req: EngineRequest, onDone?: () => void): Promise<void> {
    const handled = onDone ? this.handle(req).finally(onDone) : this.handle(req);
    const ofGeneration =
      req.op === 'load' || req.op === 'dispose' || req.op === 'generate' || req.op === 'holdForGeneration' || ('generation' in req && req.generation === true);
    return this.holds.length > 0 && !ofGeneration ? Promise.resolve() : handled;
  }

  async handle(req: EngineRequest): Promise<void> {
    if (req.op === 'cancel') {
      this.cancelled.add(req.target);
      return;
    }
    const cancelled = this.cancelled;
    const signal = {
      get cancelled() {
        return cancelled.has(req.id);
      },
    };
    const reply = <K extends EngineOp>(op: K, result: OpResult<K>, transfer: ArrayBuffer[] = []) =>
      this.post({ id: req.id, ok: true, op, result } as EngineResponse, transfer);
    try {
      // A request cancelled while it waited its turn (the inside panel's, for a token the user has left) is not run.
      if (req.op !== 'load' && req.op !== 'dispose') throwIfCancelled(signal);
      switch (req.op) {
        case 'load': {
          await this.release();
          this.model = await this.load(req.spec);
          const model = describe(this.model.model, req.spec.hostVocabulary === true);
          // An n-gram vocabulary's arrays move to the host, not copied: millions of words cost it no time.
          reply('load', { model }, model.vocabulary ? packedBuffers(model.vocabulary) : []);
          break;
        }
        case 'nextLogProbs': {
          // A step of the host's generation goes through its hold; other requests as they are.
          const model = this.loaded().model;
          const m = (req.generation && this.holds.at(-1)) || model;
          const row = req.row;
          if (row?.length === model.vocabSize) {
            // The caller's buffer, written and moved back: no copy of the row on either side.
            if (m.nextLogProbsInto) await m.nextLogProbsInto(req.context, row, signal);
            else row.set(await m.nextLogProbs(req.context, signal));
            this.post({ id: req.id, ok: true, op: 'nextLogProbs', result: { logProbs: row } }, [row.buffer as ArrayBuffer]);
            break;
          }
          const logProbs = await m.nextLogProbs(req.context, signal);
          reply('nextLogProbs', { logProbs: copy(logProbs) });
          break;
        }
        case 'spanScores': {
          const m = this.loaded().model;
          if (!m.spanScores) throw new Error(`${m.info.name} does not score spans`);
          const s = await m.spanScores(req.ids, req.from, req.distAt, signal);
          reply('spanScores', { logProbs: copy(s.logProbs), distribution: copy(s.distribution) });
          break;
        }
        case 'warmContext': {
          const m = this.loaded().model;
          reply('warmContext', m.warmContext ? await m.warmContext(req.ids, signal) : { cached: 0, yielded: 0 });
          break;
        }
        case 'holdForGeneration': {
          const m = this.loaded().model;
          if (!req.held) this.holds.pop()?.release();
          else this.holds.push(m.holdForGeneration ? await m.holdForGeneration() : unheldGeneration(m));
          reply('holdForGeneration', {});
          break;
        }
        case 'forgetContext': {
          const hold = req.generation && this.holds.at(-1);
          await (hold ? hold.forgetContext() : this.loaded().model.forgetContext?.());
          reply('forgetContext', {});
          break;
        }
        case 'sequenceLogProbs': {
          const logProbs = await this.loaded().model.sequenceLogProbs(req.ids, req.from, signal);
          reply('sequenceLogProbs', { logProbs: copy(logProbs) });
          break;
        }
        case 'sequenceScores': {
          const s = await this.loaded().model.sequenceScores(req.ids, req.from, signal);
          reply('sequenceScores', { logProbs: copy(s.logProbs), ranks: s.ranks.slice() });
          break;
        }
        case 'generate': {
          const stream = new TokenStream((completion, tokens) => this.post({ id: req.id, ok: true, op: 'generate', partial: { completion, tokens } }, []));
          let completions;
          try {
            const model = this.loaded().model;
            const hooks = { signal, onToken: (c: number, t: GeneratedToken) => stream.add(c, t) };
            if (req.promptTokens) completions = await generateUnspelled(model, { text: req.prompt, tokens: req.promptTokens }, req.options, hooks);
            else completions = await generate(model, req.continuation ? continuedPrompt(model, req.prompt, req.continuation) : req.prompt, req.options, hooks);
          } finally {
            stream.flush(); // before the final response; a cancelled generation still shows what it made
          }
          reply('generate', { completions });
          break;
        }
        case 'topTokens': {
          const m = this.loaded().model;
          if (m.server) {
            reply('topTokens', await serverTopTokens(m, req.prompt, req.k, signal));
            break;
          }
          const ids = m.tokenizer.encode(req.prompt, true).map((t) => t.id);
          const dist = await m.nextLogProbs(ids, signal);
          // As the hover shows them: a byte token as <0xC3>, not as the "�" its text decodes to.
          const top = topIndices(dist, req.k).map((id) => ({ id, text: displayTokenText(m.tokenizer, id), logProb: dist[id] }));
          reply('topTokens', { top, entropy: entropyNats(dist), logProbs: copy(dist) });
          break;
        }
        case 'ngramTrace': {
          const m = this.loaded().model;
          if (!m.ngramTrace) throw new LmError(`${m.info.name} is not a backoff n-gram model: it has no orders or backoff weights to show`);
          const context = [...(req.prompt !== undefined ? this.promptIds(m, req.prompt) : []), ...req.before];
          reply('ngramTrace', { trace: m.ngramTrace(context, req.token) });
          break;
        }
        case 'inside': {
          const m = this.loaded().model;
          if (!m.inside || !m.info.capabilities.inside?.some((v) => v === 'logit-lens' || v === 'attention')) {
            throw new LmError(
              `${m.info.name} does not show its hidden states or attention: it needs an ONNX export with hidden_states.N and attentions.N outputs (README, "Inside the model")`,
            );
          }
          const prompt = req.prompt !== undefined ? this.promptIds(m, req.prompt) : [];
          const context = [...prompt, ...req.before];
          const W = m.info.contextLength;
          const start =
            m.info.capabilities.context !== 'window'
              ? 0
              : req.generated !== undefined
                ? generationWindowStart(prompt.length + req.generated, context.length, W)
                : windowStartFor(context.length, W);
          const read = await m.inside(context.slice(start), req.token, req.k, signal);
          const inside = { ...read, dropped: read.dropped + start };
          const texts: Record<number, string> = {};
          for (const id of [...inside.ids, inside.actual, ...(inside.lens ?? []).flatMap((l) => l.top.map((t) => t.id))]) {
            texts[id] ??= displayTokenText(m.tokenizer, id);
          }
          reply('inside', { inside, texts });
          break;
        }
        case 'dispose':
          await this.release();
          reply('dispose', {});
          break;
      }
    } catch (e) {
      const reason = e instanceof CancelledError ? 'cancelled' : e instanceof ModelFormatError ? 'format' : 'error';
      this.post({ id: req.id, ok: false, error: e instanceof Error ? e.message : String(e), reason }, []);
    } finally {
      this.cancelled.delete(req.id);
    }
  }

  /** The ids of `prompt` encoded as a sequence's start, from the last encoding when it is the same prompt and model. */
  private promptIds(model: LanguageModel, prompt: string): readonly number[] {
    const e = this.encoded;
    if (e?.model === model && e.prompt === prompt) return e.ids;
    const ids = model.tokenizer.encode(prompt, true).map((t) => t.id);
    this.encoded = { model, prompt, ids };
    return ids;
  }

  /** Frees the model; a model whose dispose is asynchronous (a neural session) is awaited. */
  private async release(): Promise<void> {
    const m = this.model;
    this.model = undefined;
    this.encoded = undefined;
    for (const hold of this.holds.splice(0)) hold.release();
    await m?.model.dispose?.();
  }

  private loaded(): LoadedModel {
    if (!this.model) throw new Error('no model is loaded in the engine');
    return this.model;
  }
}

/**
 * The next token's top k from a model on a server: one generated token, greedy, with its
 * alternatives (the server's top k of the raw distribution; at most its cap).
 */
async function serverTopTokens(m: LanguageModel, prompt: string, k: number, signal: CancelSignal): Promise<OpResult<'topTokens'>> {
  const server = m.server!;
  const [c] = await server.generate(prompt, { maxTokens: 1, temperature: 0, topKPerToken: Math.min(k, server.maxTopK) }, { signal });
  const top = (c?.tokens[0]?.alternatives ?? []).map((a, i) => ({ id: i, text: a.text, logProb: a.logProb }));
  if (top.length === 0) throw new LmError(`${server.endpoint}: the server gave no log-probabilities for the next token`);
  return { top, entropy: NaN, logProbs: Float64Array.from(top, (a) => a.logProb), topOnly: true };
}

/** The prompt's tokens followed by `ids`, as a tokenized prompt whose text is the prompt and their text (for a server model, that text). */
function continuedPrompt(model: LanguageModel, prompt: string, ids: readonly number[]): PromptTokens | string {
  // A server tokenizes for itself: it is given the text, the tokens' bytes decoded together.
  if (model.server) return prompt + model.tokenizer.decode(ids, prompt.length > 0);
  const tokens = model.tokenizer.encode(prompt, true);
  // Each token's text as it joins the ones before (a tokenizer may space or join tokens), in time linear in the path.
  const decoder = new IncrementalDecoder(model.tokenizer, prompt.length > 0);
  let text = prompt;
  for (const id of ids) {
    const piece = decoder.push(id);
    tokens.push({ id, text: piece, start: text.length, length: piece.length });
    text += piece;
  }
  return { text, tokens, generated: ids.length };
}

/** Models may keep returning the same array (a cache): send a copy. */
function copy(a: Float64Array): Float64Array {
  return a.slice();
}

/** What the host keeps of `m`; `withVocabulary`: with an n-gram model's vocabulary, packed. */
export function describe(m: LanguageModel, withVocabulary = false): ModelDescription {
  return {
    ...m.info,
    vocabSize: m.vocabSize,
    bosId: m.bosId,
    eosId: m.eosId,
    ...(m.eosIds ? { eosIds: [...m.eosIds] } : {}),
    unkId: m.unkId,
    unsampleableIds: [...m.unsampleableIds],
    ...(m.tokenizerOnDemand ? { tokenizerOnDemand: true } : {}),
    ...(m.spanScores ? { spanScores: true } : {}),
    ...(m.warmContext ? { warmContext: true } : {}),
    ...(m.forgetContext ? { forgetContext: true } : {}),
    ...(m.holdForGeneration ? { holdForGeneration: true } : {}),
    ...(withVocabulary && m.tokenizer instanceof NgramTokenizer ? { vocabulary: packVocabulary(m.tokenizer) } : {}),
  };
}
