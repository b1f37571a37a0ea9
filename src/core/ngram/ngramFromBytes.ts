/** An n-gram model from a file's (already gunzipped) bytes: LM Playground binary or ARPA text. */
import { ModelFormatError } from '../errors';
import { readArpaBytes } from './arpaReader';
import { isNgramBinary, readNgramBinary } from './binaryFormat';
import { NgramLanguageModel } from './ngramLanguageModel';

/** Bytes looked at to tell text from binary data. */
export const SNIFF_BYTES = 4096;

export type NgramFileKind = 'binary' | 'arpa' | 'other';

/** What the first bytes of a file (at least SNIFF_BYTES of them, or all there are) say it is. */
export function ngramFileKind(head: Uint8Array): NgramFileKind {
  if (isNgramBinary(head)) return 'binary';
  return head.subarray(0, Math.min(head.length, SNIFF_BYTES)).includes(0) ? 'other' : 'arpa';
}

export function notAModel(file: string): ModelFormatError {
  return new ModelFormatError('not a language model: binary data that is neither an ARPA file nor an LM Playground n-gram file', file);
}

/** The file name without its folder: an ARPA file's model name. */
export function arpaModelName(file: string): string {
  return file.split(/[\\/]/).pop() || file;
}

export function ngramFromBytes(bytes: Uint8Array, file: string, name: string): NgramLanguageModel {
  const kind = ngramFileKind(bytes);
  if (kind === 'binary') {
    const { model, metadata } = readNgramBinary(bytes, file);
    return new NgramLanguageModel(model, metadata.tokenizer, metadata.name || name);
  }
  if (kind === 'other') throw notAModel(file);
  return new NgramLanguageModel(readArpaBytes(bytes, file), 'whitespace', arpaModelName(file));
}
