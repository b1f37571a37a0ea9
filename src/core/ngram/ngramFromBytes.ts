/** An n-gram model from a file's (already gunzipped) bytes: LM Playground binary or ARPA text. */
import { ModelFormatError } from '../errors';
import { readArpa } from './arpa';
import { isNgramBinary, readNgramBinary } from './binaryFormat';
import { NgramLanguageModel } from './ngramLanguageModel';

export function ngramFromBytes(bytes: Uint8Array, file: string, name: string): NgramLanguageModel {
  if (isNgramBinary(bytes)) {
    const { model, metadata } = readNgramBinary(bytes, file);
    return new NgramLanguageModel(model, metadata.tokenizer, metadata.name || name);
  }
  if (bytes.subarray(0, Math.min(bytes.length, 4096)).includes(0)) {
    throw new ModelFormatError('not a language model: binary data that is neither an ARPA file nor an LM Playground n-gram file', file);
  }
  const model = readArpa(new TextDecoder('utf-8').decode(bytes), file);
  return new NgramLanguageModel(model, 'whitespace', file.split(/[\\/]/).pop() ?? name);
}
