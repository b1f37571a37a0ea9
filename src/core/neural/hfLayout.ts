/**
 * The Hugging Face layout of an ONNX causal LM folder, as the transformers.js conversion scripts
 * write it. The one place that names its files: the loaders, the hub download, Select Model's
 * summary, the files sent to a webview's engine and the benchmark all take them from here.
 */

export const CONFIG_FILE = 'config.json';
export const TOKENIZER_FILE = 'tokenizer.json';
export const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';
export const GENERATION_CONFIG_FILE = 'generation_config.json';

/** What a folder must have besides a graph. */
export const REQUIRED_FILES: readonly string[] = [CONFIG_FILE, TOKENIZER_FILE];
/** Read when present (a download fetches them too). */
export const OPTIONAL_FILES: readonly string[] = [TOKENIZER_CONFIG_FILE, GENERATION_CONFIG_FILE];

/** ONNX graphs looked for in a folder, in order of preference (full precision first). */
export const ONNX_GRAPHS: readonly string[] = [
  'onnx/model.onnx',
  'onnx/decoder_model_merged.onnx',
  'onnx/model_quantized.onnx',
  'onnx/decoder_model_merged_quantized.onnx',
  'model.onnx',
  'decoder_model_merged.onnx',
];

/** The graphs a hub download looks for, the first one present being fetched: exports keep them under onnx/. */
export const HUB_ONNX_GRAPHS: readonly string[] = ONNX_GRAPHS.filter((f) => f.startsWith('onnx/'));

/** The layout in a sentence, for messages. */
export const LAYOUT_SUMMARY = `${CONFIG_FILE}, ${TOKENIZER_FILE} and ${ONNX_GRAPHS[0]}`;

/** The graphs to look for, int8 ones first when preferred. */
export function onnxCandidates(preferQuantized = false): string[] {
  if (!preferQuantized) return [...ONNX_GRAPHS];
  const q = ONNX_GRAPHS.filter((f) => f.includes('_quantized'));
  return [...q, ...ONNX_GRAPHS.filter((f) => !q.includes(f))];
}

/** The first graph of the preferred order that `exists` (a path relative to the folder), if any. */
export function findOnnxGraph(exists: (relativePath: string) => boolean, preferQuantized = false): string | undefined {
  return onnxCandidates(preferQuantized).find(exists);
}

/** The roles of the files an engine that cannot read the disk (a webview's) loads a folder from. */
export type FolderFileRole = 'config' | 'tokenizer' | 'tokenizerConfig' | 'onnx';

/** Those files, by role, relative to the folder: the graph chosen, tokenizer_config.json only when the folder has it. */
export function engineFiles(onnxGraph: string, hasTokenizerConfig: boolean): Partial<Record<FolderFileRole, string>> {
  return {
    config: CONFIG_FILE,
    tokenizer: TOKENIZER_FILE,
    ...(hasTokenizerConfig ? { tokenizerConfig: TOKENIZER_CONFIG_FILE } : {}),
    onnx: onnxGraph,
  };
}
