/** `lmp`: the LM core on the command line, for scripting and benchmarks. */
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { parseArgs } from 'util';
import { CancelledError, LmError } from '../core/errors';
import { generate, type GenerationOptions } from '../core/generation';
import { LN10 } from '../core/logMath';
import { writeArpa } from '../core/ngram/arpa';
import { writeNgramBinary } from '../core/ngram/binaryFormat';
import { DEFAULT_FALLBACK_DISCOUNTS, KneserNeyTrainer } from '../core/ngram/kneserNey';
import { NgramLanguageModel } from '../core/ngram/ngramLanguageModel';
import { addTextToTrainer } from '../core/ngram/textTraining';
import { codePointLength, scoreTokens, summarize, type TokenScore } from '../core/scoring';
import type { PretokenizerKind } from '../core/tokenizers/pretokenizers';
import { listEmbeddedModels, loadModel, resolveModelFile } from '../node/modelLoader';
import { benchNeural } from '../node/neuralBench';
import type { NodeDevice } from '../node/neuralLoader';

const USAGE = `lmp — LM Playground on the command line

Usage:
  lmp train-ngram --order N (--arpa OUT.arpa | --binary OUT.ngram[.gz]) [--tokens whitespace|editor]
                  [--name NAME] [--discount-fallback] FILE...
      Interpolated modified Kneser-Ney as KenLM's lmplz. --tokens whitespace (default): one
      sentence per line, words split on whitespace (KenLM's convention, for ARPA interop);
      editor: each file is one sequence of editor tokens (words, punctuation, spaces, newlines).
  lmp score --model MODEL [--device auto|native|wasm] [--quantized] [--json] [--details] [--top-k K] FILE...
      Scores each file by the chain rule. Each file starts a sequence with <s>, which is given
      (the first token is conditioned on <s>) and not scored. For whitespace models, tokens are
      the words plus one </s> per line break, as KenLM's query counts them. Neural models
      (Hugging Face folders) condition the first token on <|endoftext|> (their BOS token).
  lmp generate --model MODEL [--device auto|native|wasm] [--quantized] --prompt TEXT [--temperature T] [--max-tokens N] [--stop S]...
               [--num-completions K] [--top-k K] [--top-p P] [--seed S] [--top-k-per-token K]
               [--echo] [--json]
  lmp bench [--model FOLDER] [--runs N]
      Neural model speed: prefill and decode tokens/s, time to first token and load time for the
      engine on native onnxruntime and on WASM, against a bare onnxruntime-node loop.
  lmp models
      Lists the embedded models.

MODEL is an ARPA file, an LM Playground n-gram file or folder, a Hugging Face model folder
(config.json, tokenizer.json, onnx/model.onnx), or the name of an embedded model. --device picks
where neural models run: native onnxruntime (default where available) or WASM; --quantized runs
onnx/model_quantized.onnx (int8 weights) when the folder has one.
Errors go to stderr with a non-zero exit code.`;

type Out = (s: string) => void;

export async function main(argv: string[], out: Out = (s) => process.stdout.write(s)): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'train-ngram':
      return trainNgram(rest, out);
    case 'score':
      return score(rest, out);
    case 'generate':
      return generateCommand(rest, out);
    case 'bench':
      return bench(rest, out);
    case 'models':
      for (const m of listEmbeddedModels()) out(`${m}\n`);
      return 0;
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      out(USAGE + '\n');
      return command === undefined ? 2 : 0;
    default:
      throw new LmError(`unknown command ${JSON.stringify(command)}; see lmp --help`);
  }
}

function parse<T extends Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new LmError((e as Error).message);
  }
}

function intOption(value: string | undefined, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new LmError(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return n;
}

function numberOption(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = value === 'inf' || value === 'Infinity' ? Infinity : Number(value);
  if (Number.isNaN(n) || value.trim() === '') throw new LmError(`--${name} must be a number, got ${JSON.stringify(value)}`);
  return n;
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new LmError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

async function trainNgram(args: string[], out: Out): Promise<number> {
  const { values, positionals } = parse(args, {
    order: { type: 'string' },
    arpa: { type: 'string' },
    binary: { type: 'string' },
    tokens: { type: 'string' },
    name: { type: 'string' },
    'discount-fallback': { type: 'boolean' },
  });
  const order = intOption(values.order, 'order', NaN, 1, 6);
  if (!values.arpa && !values.binary) throw new LmError('give --arpa OUT.arpa and/or --binary OUT.ngram');
  if (positionals.length === 0) throw new LmError('give at least one training FILE');
  const kind = (values.tokens ?? 'whitespace') as PretokenizerKind;
  if (kind !== 'whitespace' && kind !== 'editor') throw new LmError(`--tokens must be whitespace or editor, got ${values.tokens}`);
  const started = Date.now();
  const trainer = new KneserNeyTrainer({ order, discountFallback: values['discount-fallback'] ? DEFAULT_FALLBACK_DISCOUNTS : undefined });
  for (const file of positionals) addTextToTrainer(trainer, readText(file), kind);
  const { model, stats } = trainer.build();
  if (values.arpa) {
    const fd = fs.openSync(values.arpa, 'w');
    try {
      for (const chunk of writeArpa(model)) fs.writeSync(fd, chunk);
    } finally {
      fs.closeSync(fd);
    }
  }
  if (values.binary) {
    const name = values.name ?? path.basename(values.binary).replace(/\.[^.]*$/, '');
    const bytes = writeNgramBinary(model, { name, tokenizer: kind, order, trainingTokens: stats.tokens });
    fs.writeFileSync(values.binary, values.binary.endsWith('.gz') ? zlib.gzipSync(bytes, { level: 9 }) : bytes);
  }
  const seconds = (Date.now() - started) / 1000;
  process.stderr.write(
    `trained order ${order} on ${stats.tokens} tokens (${stats.sentences} sequences) in ${seconds.toFixed(2)} s\n` +
      stats.counts.map((c, k) => `  ${k + 1}-grams: ${c}  discounts ${fmtD(stats.discounts[k])}${stats.usedFallbackDiscounts[k] ? ' (fallback)' : ''}`).join('\n') +
      '\n',
  );
  out(`${[values.arpa, values.binary].filter(Boolean).join('\n')}\n`);
  return 0;
}

async function bench(args: string[], out: Out): Promise<number> {
  const { values } = parse(args, { model: { type: 'string' }, runs: { type: 'string' } });
  const dir = resolveModelFile(values.model ?? 'gpt-classics');
  if (!fs.statSync(dir).isDirectory()) throw new LmError('lmp bench measures neural models: give a Hugging Face model folder or gpt-classics');
  const { results, prefill, decode } = await benchNeural(dir, intOption(values.runs, 'runs', 5, 1, 100));
  out(`prefill ${prefill} tokens, then ${decode} greedy tokens; medians\n`);
  out('runner\tload s\tprefill tok/s\tdecode tok/s\tfirst token s\n');
  for (const r of results) out(`${r.runner}\t${r.loadSeconds.toFixed(3)}\t${r.prefillTokensPerSecond.toFixed(0)}\t${r.decodeTokensPerSecond.toFixed(1)}\t${r.firstTokenSeconds.toFixed(4)}\n`);
  return 0;
}

function fmtD(d: { d1: number; d2: number; d3: number }): string {
  return `${d.d1.toPrecision(6)} / ${d.d2.toPrecision(6)} / ${d.d3.toPrecision(6)}`;
}

async function score(args: string[], out: Out): Promise<number> {
  const { values, positionals } = parse(args, {
    model: { type: 'string' },
    json: { type: 'boolean' },
    details: { type: 'boolean' },
    'top-k': { type: 'string' },
    device: { type: 'string' },
    quantized: { type: 'boolean' },
  });
  if (!values.model) throw new LmError('give --model MODEL');
  if (positionals.length === 0) throw new LmError('give at least one FILE to score');
  const topK = intOption(values['top-k'], 'top-k', 5, 1, 1000);
  const model = await loadModel(values.model, undefined, { device: deviceOption(values.device), preferQuantized: values.quantized });
  const all: TokenScore[] = [];
  let chars = 0;
  // With several files, offsets (start) are relative to each file.
  for (const file of positionals) {
    const text = readText(file);
    const tokens = model.tokenizer.encode(text, true);
    all.push(...(await scoreTokens(model, tokens, { details: values.details, topK })));
    chars += codePointLength(text);
  }
  const s = summarize(all, chars);
  const result: Record<string, unknown> = {
    model: model.info.name,
    tokens: s.tokens,
    chars: s.chars,
    oov: s.oov,
    logprob_nats: s.logProbNats,
    bits_per_token: s.bitsPerToken,
    bits_per_char: s.bitsPerChar,
    perplexity: s.perplexity,
  };
  if (model instanceof NgramLanguageModel) {
    // KenLM's query: totals in log10, OOV words' own log-probs removed for the "excluding" figure.
    const total10 = s.logProbNats / LN10;
    const oov10 = all.filter((t) => t.oov).reduce((a, t) => a + t.logProb, 0) / LN10;
    result.perplexity_including_oov = Math.pow(10, -total10 / s.tokens);
    result.perplexity_excluding_oov = s.tokens > s.oov ? Math.pow(10, -(total10 - oov10) / (s.tokens - s.oov)) : null;
  }
  if (values.details) result.token_scores = all.map(tokenJson);
  if (values.json) out(JSON.stringify(result) + '\n');
  else {
    for (const [k, v] of Object.entries(result)) if (k !== 'token_scores') out(`${k}\t${typeof v === 'number' ? +v.toPrecision(8) : v}\n`);
    if (values.details) for (const t of all) out(`${JSON.stringify(t.text)}\t${t.logProb.toFixed(4)}\trank ${t.rank}\n`);
  }
  return 0;
}

function tokenJson(t: TokenScore) {
  return {
    text: t.text,
    start: t.start,
    length: t.length,
    id: t.id,
    logprob: t.logProb,
    rank: t.rank,
    entropy_nats: t.entropy,
    oov: t.oov,
    top: t.alternatives?.map((a) => ({ text: a.text, logprob: a.logProb })),
  };
}

async function generateCommand(args: string[], out: Out): Promise<number> {
  const { values } = parse(args, {
    model: { type: 'string' },
    prompt: { type: 'string' },
    temperature: { type: 'string' },
    'max-tokens': { type: 'string' },
    stop: { type: 'string', multiple: true },
    'num-completions': { type: 'string' },
    'top-k': { type: 'string' },
    'top-p': { type: 'string' },
    seed: { type: 'string' },
    'top-k-per-token': { type: 'string' },
    echo: { type: 'boolean' },
    json: { type: 'boolean' },
    device: { type: 'string' },
    quantized: { type: 'boolean' },
  });
  if (!values.model) throw new LmError('give --model MODEL');
  if (values.prompt === undefined) throw new LmError('give --prompt TEXT');
  const options: GenerationOptions = {
    temperature: numberOption(values.temperature, 'temperature', 1),
    maxTokens: intOption(values['max-tokens'], 'max-tokens', 16, 0, 100000),
    stopSequences: (values.stop as string[] | undefined)?.map(unescapeStop) ?? [],
    numCompletions: intOption(values['num-completions'], 'num-completions', 1, 1, 16),
    topK: intOption(values['top-k'], 'top-k', 0, 0),
    topP: numberOption(values['top-p'], 'top-p', 1),
    seed: values.seed === undefined ? undefined : intOption(values.seed, 'seed', 0, -(2 ** 31), 2 ** 32),
    topKPerToken: intOption(values['top-k-per-token'], 'top-k-per-token', 0, 0, 100),
    echoPrompt: values.echo ?? false,
  };
  const model = await loadModel(values.model, undefined, { device: deviceOption(values.device), preferQuantized: values.quantized });
  const completions = await generate(model, values.prompt, options);
  if (values.json) {
    out(
      JSON.stringify({
        model: model.info.name,
        prompt: values.prompt,
        seed: completions[0]?.seed,
        completions: completions.map((c) => ({
          text: c.text,
          logprob_nats: c.logProb,
          finish_reason: c.finishReason,
          tokens: c.tokens.map((t) => ({ text: t.text, logprob: t.logProb, rank: t.rank, top: t.alternatives?.map((a) => ({ text: a.text, logprob: a.logProb })) })),
          prompt_tokens: c.promptTokens?.map((t) => ({ text: t.text, logprob: t.logProb })),
        })),
      }) + '\n',
    );
  } else {
    for (const c of completions) {
      out(`${c.text}\n`);
      if (completions.length > 1 || process.stdout.isTTY) process.stderr.write(`  [log p = ${c.logProb.toFixed(3)} nats, finished: ${c.finishReason}]\n`);
    }
  }
  return 0;
}

function deviceOption(value: string | undefined): NodeDevice {
  if (value === undefined || value === 'auto' || value === 'native' || value === 'wasm') return value ?? 'auto';
  throw new LmError(`--device must be auto, native or wasm, got ${JSON.stringify(value)}`);
}

/** Lets `--stop '\n'` mean a line break, as users type it in a shell. */
function unescapeStop(s: string): string {
  return s.replace(/\\n/g, '\n').replace(/\\t/g, '\t');
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      if (e instanceof LmError || e instanceof CancelledError) process.stderr.write(`lmp: ${e.message}\n`);
      else process.stderr.write(`lmp: internal error: ${(e as Error).stack ?? e}\n`);
      process.exit(1);
    },
  );
}
