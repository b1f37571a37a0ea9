/**
 * `lmp convert IN OUT.ngram[.gz]`: an n-gram model (ARPA text, gzipped or not, of any size that fits
 * in memory as the compact model; or an LM Playground file) rewritten as an LM Playground binary,
 * which loads in one read. The ARPA file is read as a stream, the binary written in parts with
 * its checksum, atomically.
 */
import * as path from 'path';
import { LmError } from '../core/errors';
import { ngramBinaryChunks } from '../core/ngram/binaryFormat';
import { loadNgramFile } from '../node/backends/ngramBackend';
import { checkWritable, fileIdentity, writeFileAtomic } from '../node/atomicWrite';
import { parse } from './options';
import type { Out } from './output';

export async function convertNgram(args: string[], out: Out): Promise<number> {
  const { values, positionals } = parse(args, { name: { type: 'string' }, planes: { type: 'boolean' } });
  if (positionals.length !== 2) throw new LmError('give IN (an ARPA or n-gram file) and OUT.ngram (or OUT.ngram.gz)');
  const [input, output] = positionals;
  if (fileIdentity(input) === fileIdentity(output)) throw new LmError(`output ${output} is the input ${input}: write the model elsewhere`);
  await checkWritable(output); // before reading a model of gigabytes
  const started = Date.now();
  const model = await loadNgramFile(input, path.basename(input));
  const loaded = Date.now();
  const name =
    values.name ??
    path
      .basename(output)
      .replace(/\.gz$/, '')
      .replace(/\.[^.]*$/, '');
  // As train-ngram: byte planes where gzip (or, with --planes, the zip that ships the file) follows, plain arrays (viewed in place on load) otherwise.
  const gzip = output.endsWith('.gz');
  const ngram = model.ngram;
  const metadata = { name, tokenizer: model.tokenizer.kind, order: ngram.order, convertedFrom: path.basename(input) };
  await writeFileAtomic(output, ngramBinaryChunks(ngram, metadata, { planes: gzip || values.planes === true }), { gzip });
  process.stderr.write(
    `read ${input} (${ngram.counts.map((c, k) => `${c} ${k + 1}-grams`).join(', ')}) in ${((loaded - started) / 1000).toFixed(2)} s, ` +
      `wrote ${output} in ${((Date.now() - loaded) / 1000).toFixed(2)} s\n`,
  );
  await out(`${output}\n`);
  return 0;
}
