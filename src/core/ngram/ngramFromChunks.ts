/**
 * An n-gram model from a file's (already gunzipped) bytes arriving in chunks: the one loading path
 * of the Node loader and the browser engine. The format is told from the first chunk, so that a
 * file that is not a model, or a binary whose header declares a length, stops at once or as soon
 * as the data passes what it declares, instead of after gathering everything. A binary is copied
 * once into one buffer; ARPA text is parsed as it comes. A chunk need only stay valid until the
 * next one is asked for (a reader may reuse its buffer): what is kept is copied.
 */
import { ModelFormatError } from '../errors';
import { formatBytes } from '../modelLimits';
import { ArpaReader } from './arpaReader';
import { declaredNgramLength, readNgramBinary, readNgramBinaryInSlices } from './binaryFormat';
import { NgramLanguageModel } from './ngramLanguageModel';
import { arpaModelName, ngramFileKind, notAModel, SNIFF_BYTES } from './ngramFromBytes';

export interface ChunkSource {
  /**
   * Cap on a binary's bytes (the source also stops at the cap it was given) and on the compact
   * model that an ARPA file's header declares (ARPA text is not kept, so its length is not capped).
   */
  maxBytes: number;
  /** The exact number of bytes the source gives, when known before reading (an uncompressed file). */
  size?: number;
  /** Lets the thread's event loop run between slices of reading a binary (the host's: setImmediate). */
  pause?: () => Promise<void>;
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export async function ngramFromChunks(chunks: AsyncIterator<Uint8Array>, file: string, name: string, source: ChunkSource): Promise<NgramLanguageModel> {
  const fail = (message: string): never => {
    throw new ModelFormatError(message, file);
  };
  try {
    const head: Uint8Array[] = [];
    let headBytes = 0;
    let done = false;
    while (headBytes < SNIFF_BYTES) {
      const next = await chunks.next();
      if (next.done) {
        done = true;
        break;
      }
      head.push(next.value.slice());
      headBytes += next.value.length;
    }
    const start = concat(head, headBytes);
    const kind = ngramFileKind(start);
    if (kind === 'other') throw notAModel(file);
    if (kind === 'arpa') {
      const reader = new ArpaReader(file, { maxBytes: source.size, maxModelBytes: source.maxBytes });
      reader.push(start);
      while (!done && !reader.finished) {
        const next = await chunks.next();
        if (next.done) break;
        reader.push(next.value);
      }
      return new NgramLanguageModel(reader.end(), 'whitespace', arpaModelName(file));
    }
    const declared = declaredNgramLength(start);
    // One buffer of the final size when it is known: the declared length (format 2), else the file's size.
    const length = declared ?? source.size;
    let bytes: Uint8Array;
    if (length !== undefined) {
      if (declared !== undefined) {
        if (declared > source.maxBytes) fail(`its header declares ${formatBytes(declared)}, above the ${formatBytes(source.maxBytes)} limit for model data`);
        if (source.size !== undefined && source.size !== declared) {
          fail(
            source.size < declared
              ? `file is truncated: ${source.size} bytes of ${declared}`
              : `file has ${source.size - declared} bytes more than the ${declared} its header declares`,
          );
        }
      }
      bytes = new Uint8Array(length);
      let at = 0;
      const add = (chunk: Uint8Array) => {
        if (at + chunk.length > length) fail(`file has more bytes than the ${length} its header declares`);
        bytes.set(chunk, at);
        at += chunk.length;
      };
      add(start);
      while (!done) {
        const next = await chunks.next();
        if (next.done) break;
        add(next.value);
      }
      if (at < length) bytes = bytes.subarray(0, at); // the reader reports the truncation
    } else {
      // Format 1 from a gzip stream: no length is known before the end.
      const parts = [start];
      let total = start.length;
      while (!done) {
        const next = await chunks.next();
        if (next.done) break;
        parts.push(next.value.slice());
        total += next.value.length;
      }
      bytes = concat(parts, total);
    }
    // `bytes` is this function's own copy: decoded in place.
    const options = { decodeInPlace: true };
    const { model, metadata } = source.pause ? await readNgramBinaryInSlices(bytes, file, source.pause, options) : readNgramBinary(bytes, file, options);
    return new NgramLanguageModel(model, metadata.tokenizer, metadata.name || name);
  } finally {
    await chunks.return?.(undefined);
  }
}
