/** `lmp train-ngram`: Kneser-Ney training from text files, the model written atomically. */
import * as fs from 'fs';
import * as path from 'path';
import { LmError } from '../core/errors';
import { writeArpa } from '../core/ngram/arpaWriter';
import { writeNgramBinary } from '../core/ngram/binaryFormat';
import { DEFAULT_FALLBACK_DISCOUNTS, KneserNeyTrainer, type Discounts } from '../core/ngram/kneserNey';
import { EditorTextFeed } from '../core/ngram/textTraining';
import type { PretokenizerKind } from '../core/tokenizers/pretokenizers';
import { checkWritable, fileIdentity, writeFileAtomic } from '../node/atomicWrite';
import { PipelinedArpa } from '../node/parallelArpa';
import { countFilesInWorker, type CountedInWorker } from '../node/parallelCounting';
import { decodeUtf8, displayName, fileChunks } from '../node/textFile';
import { TRAINING_CHUNK_BYTES } from '../node/trainingFile';
import { intOption, parse } from './options';
import type { Out } from './output';

/** Inputs from this size on (about 200,000 tokens) have the lower orders of their ARPA written by a second thread while the model is built. */
const PIPELINE_MIN_BYTES = 1 << 20;

export async function trainNgram(args: string[], out: Out): Promise<number> {
  const { values, positionals } = parse(args, {
    order: { type: 'string' },
    arpa: { type: 'string' },
    binary: { type: 'string' },
    tokens: { type: 'string' },
    name: { type: 'string' },
    planes: { type: 'boolean' },
    'discount-fallback': { type: 'boolean' },
  });
  const order = intOption(values.order, 'order', NaN, 1, 6);
  if (!values.arpa && !values.binary) throw new LmError('give --arpa OUT.arpa and/or --binary OUT.ngram');
  if (positionals.length === 0) throw new LmError('give at least one training FILE');
  const kind = (values.tokens ?? 'whitespace') as PretokenizerKind;
  if (kind !== 'whitespace' && kind !== 'editor') throw new LmError(`--tokens must be whitespace or editor, got ${values.tokens}`);
  if (kind === 'editor' && values.arpa) {
    // ARPA holds whitespace-separated words; editor tokens carry spaces and line breaks.
    throw new LmError(
      '--tokens editor models cannot be written as ARPA (its words are separated by whitespace, editor tokens contain spaces and line breaks): use --binary OUT.ngram',
    );
  }
  const outputs = [values.arpa, values.binary].filter((f): f is string => f !== undefined);
  checkOutputs(positionals, outputs);
  // Before the training, which may take minutes: a path that cannot be written is said now.
  for (const o of outputs) await checkWritable(o);

  const started = Date.now();
  // About 5 bytes a token in English text: tables sized for that need not grow while counting.
  let bytes = 0;
  for (const file of positionals) bytes += file === '-' ? 0 : ((await fs.promises.stat(file).catch(() => undefined))?.size ?? 0);
  const trainer = new KneserNeyTrainer({
    order,
    discountFallback: values['discount-fallback'] ? DEFAULT_FALLBACK_DISCOUNTS : undefined,
    expectedTokens: Math.ceil(bytes / 5),
    // The tokenizing worker then helps sort the counted n-grams.
    sharedMemory: kind === 'whitespace',
  });
  let arpa: PipelinedArpa | undefined;
  let built: ReturnType<KneserNeyTrainer['build']>;
  let counting: CountedInWorker | undefined;
  try {
    let sentences = 0;
    if (kind === 'whitespace') {
      // lmplz's format: read and tokenized (bytes to ids) by a worker while this thread counts.
      counting = await countFilesInWorker(trainer, positionals);
      sentences = counting.sentences;
    } else {
      // Each file is one sequence of editor pieces, read in chunks: never one string of a large file.
      for (const file of positionals) {
        trainer.startSentence();
        const feed = new EditorTextFeed(trainer);
        for await (const text of decodeUtf8(fileChunks(file, TRAINING_CHUNK_BYTES), displayName(file))) feed.push(text);
        feed.end();
        trainer.endSentence();
        sentences++;
      }
    }
    // Each sentence counts its </s>: what is left are the words.
    if (trainer.tokenCount - sentences === 0) throw new LmError(`no words in the training files (${positionals.join(', ')}): nothing to train on`);
    // Started once counted: while counting, both cores are busy, and its start-up would slow them
    // down; it has nothing to write until the model's first orders are built. Too small an input is
    // written on one thread.
    if (values.arpa && bytes >= PIPELINE_MIN_BYTES) arpa = new PipelinedArpa(order, trainer.vocab);
    built = trainer.build(arpa?.orderReady, counting?.helper);
    counting?.close();
    if (values.arpa) await writeFileAtomic(values.arpa, arpa ? arpa.text(built.model) : writeArpa(built.model));
  } finally {
    counting?.close();
    arpa?.close();
  }
  const { model, stats } = built;
  if (values.binary) {
    const name = values.name ?? path.basename(values.binary).replace(/\.[^.]*$/, '');
    // A gzipped file is decompressed byte by byte anyway: decoding planes costs little more and
    // saves a fifth. An uncompressed file keeps the arrays as in memory, for loading without a
    // pass, unless it is to be compressed by what carries it (--planes: the embedded model in the .vsix).
    const gzip = values.binary.endsWith('.gz');
    const bytes = writeNgramBinary(model, { name, tokenizer: kind, order, trainingTokens: stats.tokens }, { planes: gzip || values.planes === true });
    await writeFileAtomic(values.binary, [bytes], { gzip });
  }
  const seconds = (Date.now() - started) / 1000;
  process.stderr.write(
    `trained order ${order} on ${stats.tokens} tokens (${stats.sentences} sequences) in ${seconds.toFixed(2)} s\n` +
      stats.counts
        .map((c, k) => `  ${k + 1}-grams: ${c}  discounts ${fmtD(stats.discounts[k])}${stats.usedFallbackDiscounts[k] ? ' (fallback)' : ''}`)
        .join('\n') +
      '\n',
  );
  await out(`${[values.arpa, values.binary].filter(Boolean).join('\n')}\n`);
  return 0;
}

/** An output must be neither a training file (whatever the spelling, link or symlink) nor the other output. */
function checkOutputs(inputs: string[], outputs: string[]): void {
  const inputIds = new Map(inputs.map((f) => [fileIdentity(f), f]));
  const seen = new Map<string, string>();
  for (const o of outputs) {
    const id = fileIdentity(o);
    const input = inputIds.get(id);
    if (input !== undefined) throw new LmError(`output ${o} is the training file ${input}: it would be overwritten; write the model elsewhere`);
    const other = seen.get(id);
    if (other !== undefined) throw new LmError(`--arpa and --binary both write ${o}${other !== o ? ` (= ${other})` : ''}: give two different files`);
    seen.set(id, o);
  }
}

function fmtD(d: Discounts): string {
  return `${d.d1.toPrecision(6)} / ${d.d2.toPrecision(6)} / ${d.d3.toPrecision(6)}`;
}
