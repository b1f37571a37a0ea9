/** `lmp generate`: completions of a prompt given inline or in a file. */
import { SEED_MAX, SEED_MIN } from '../core/random';
import { LmError } from '../core/errors';
import { generate, type GeneratedToken, type GenerationOptions } from '../core/generation';
import { mergeUtf8 } from '../playground/utf8Merge';
import { loadModel } from '../node/modelLoader';
import { readTextFile } from '../node/textFile';
import { deviceOption, dtypeOption, noteIgnoredDtype, noteModelWarning, intOption, numberOption, parse } from './options';
import type { Out } from './output';

/** A prompt file (or standard input) larger than this is refused. */
export const MAX_PROMPT_FILE_BYTES = 64 * 1024 * 1024;

export async function generateCommand(args: string[], out: Out): Promise<number> {
  const { values } = parse(args, {
    model: { type: 'string' },
    prompt: { type: 'string' },
    'prompt-file': { type: 'string' },
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
    dtype: { type: 'string' },
    quantized: { type: 'boolean' },
  });
  if (!values.model) throw new LmError('give --model MODEL');
  if (values.prompt !== undefined && values['prompt-file'] !== undefined) throw new LmError('give --prompt TEXT or --prompt-file FILE, not both');
  if (values.prompt === undefined && values['prompt-file'] === undefined) throw new LmError('give --prompt TEXT or --prompt-file FILE (- for standard input)');
  const options: GenerationOptions = {
    temperature: numberOption(values.temperature, 'temperature', 1),
    maxTokens: intOption(values['max-tokens'], 'max-tokens', 16, 0, 100000),
    stopSequences: (values.stop as string[] | undefined)?.map(unescapeStop) ?? [],
    numCompletions: intOption(values['num-completions'], 'num-completions', 1, 1, 16),
    topK: intOption(values['top-k'], 'top-k', 0, 0),
    topP: numberOption(values['top-p'], 'top-p', 1),
    seed: values.seed === undefined ? undefined : intOption(values.seed, 'seed', 0, SEED_MIN, SEED_MAX),
    topKPerToken: intOption(values['top-k-per-token'], 'top-k-per-token', 0, 0, 100),
    echoPrompt: values.echo ?? false,
  };
  // As in the playground: 0 tokens only makes sense to score the echoed prompt.
  if (options.maxTokens === 0 && !options.echoPrompt) throw new LmError('--max-tokens 0 needs --echo (it generates nothing and only scores the prompt)');
  const prompt = values.prompt ?? (await readTextFile(values['prompt-file']!, MAX_PROMPT_FILE_BYTES, 'few'));
  const model = await loadModel(values.model, undefined, {
    device: deviceOption(values.device),
    dtype: dtypeOption(values.dtype, values.quantized),
    apiKey: process.env.LMP_API_KEY || undefined,
  });
  noteIgnoredDtype(values.dtype, model);
  noteModelWarning(model);
  const completions = await generate(model, prompt, options);
  if (values.json) {
    await out(
      JSON.stringify({
        model: model.info.name,
        prompt,
        seed: completions[0]?.seed,
        completions: completions.map((c) => {
          const texts = mergedTexts(c.tokens);
          return {
            text: c.text,
            logprob_nats: c.logProb,
            finish_reason: c.finishReason,
            seed: c.seed,
            tokens: c.tokens.map((t, i) => ({
              text: texts[i],
              logprob: t.logProb,
              rank: t.rank,
              top: t.alternatives?.map((a) => ({ text: a.text, logprob: a.logProb })),
            })),
            prompt_tokens: c.promptTokens?.map((t) => ({ text: t.text, logprob: t.logProb })),
            // The token that ended it and is not in its text (the end of text, a stop sequence's first token): Complete Selection's quick pick counts it.
            ...(c.stoppedBy ? { stopped_by: { text: c.stoppedBy.text, logprob: c.stoppedBy.logProb } } : {}),
          };
        }),
      }) + '\n',
    );
  } else {
    for (const c of completions) {
      await out(`${c.text}\n`);
      if (completions.length > 1 || process.stdout.isTTY) process.stderr.write(`  [log p = ${c.logProb.toFixed(3)} nats, finished: ${c.finishReason}]\n`);
    }
  }
  return 0;
}

/** Lets `--stop '\n'` mean a line break, as users type it in a shell. */
function unescapeStop(s: string): string {
  return s.replace(/\\n/g, '\n').replace(/\\t/g, '\t');
}

/**
 * Each token's text, with byte tokens that split a character merged as in offsets: the token
 * holding the character's last byte shows it, the ones before it show nothing.
 */
function mergedTexts(tokens: readonly GeneratedToken[]): string[] {
  const texts = tokens.map((t) => t.text);
  for (const piece of mergeUtf8(tokens)) {
    if (piece.first === piece.last) continue;
    for (let i = piece.first; i < piece.last; i++) texts[i] = '';
    texts[piece.last] = piece.text;
  }
  return texts;
}
