/**
 * The GGUF backend: a model file of llama.cpp, LM Studio and Ollama (`.gguf`, or an Ollama blob,
 * which has no extension), run by llama.cpp (node-llama-cpp) on the CPU in the engine's child
 * process (the CLI: in its own); the host keeps the tokenizer, read from the file's header.
 */
import * as path from 'path';
import { GGUF_CAPABILITIES } from '../gguf/ggufLanguageModel';
import { ggufFacts, ggufHostTokenizer, hasGgufMagic, openGguf } from '../gguf/ggufFile';
import { ollamaNameOf } from '../localGgufModels';
import type { ModelBackend } from './backend';

export const ggufBackend: ModelBackend = {
  id: 'gguf',
  label: 'a GGUF file (.gguf, from llama.cpp, LM Studio or Ollama)',
  accepts: 'a GGUF file (.gguf, e.g. from LM Studio, Ollama or llama.cpp)',
  fileExtensions: ['gguf'],
  capabilities: GGUF_CAPABILITIES,
  // The first four bytes tell a GGUF file whatever its name (Ollama stores them as sha256-… blobs).
  recognize: (ref) =>
    ref.path !== undefined && !ref.isDirectory && (ref.path.toLowerCase().endsWith('.gguf') || hasGgufMagic(ref.path)) ? ref.path : undefined,
  // An Ollama blob is named by its manifest's model and tag, not by its digest.
  nameOf: (location) => ollamaNameOf(location) ?? path.basename(location).replace(/\.gguf$/i, ''),
  open: (model, options) => openGguf(model.location, model.name, { threads: options.threads }),
  facts: (model) => ggufFacts(model.location),
  hostTokenizer: (model) => ggufHostTokenizer(model.location),
  hostTokenizerFromFiles: true,
};
