/**
 * The Hugging Face layout of an ONNX causal LM folder, as the transformers.js conversion scripts
 * write it. The one place that names its files: the loaders, the hub download, Select Model's
 * summary, the files sent to a webview's engine and the benchmark all take them from here (the
 * graph's precision variants from onnxVariants.ts).
 */
import { allGraphPaths } from './onnxVariants';

export const CONFIG_FILE = 'config.json';
export const TOKENIZER_FILE = 'tokenizer.json';
export const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';
export const GENERATION_CONFIG_FILE = 'generation_config.json';

/** What a folder must have besides a graph. */
export const REQUIRED_FILES: readonly string[] = [CONFIG_FILE, TOKENIZER_FILE];
/** Read when present (a download fetches them too). */
export const OPTIONAL_FILES: readonly string[] = [TOKENIZER_CONFIG_FILE, GENERATION_CONFIG_FILE];

/** Every graph file looked for in a folder, all precision variants (onnxVariants.ts chooses among them). */
export const ONNX_GRAPHS: readonly string[] = allGraphPaths();

/**
 * The graphs a hub download takes the first of when the hub cannot list the repository's files
 * (a plain mirror of resolve/ URLs): full precision first, as before variants were offered.
 */
export const HUB_ONNX_GRAPHS: readonly string[] = [
  'onnx/model.onnx',
  'onnx/decoder_model_merged.onnx',
  'onnx/model_quantized.onnx',
  'onnx/decoder_model_merged_quantized.onnx',
];

/** The layout in a sentence, for messages. */
export const LAYOUT_SUMMARY = `${CONFIG_FILE}, ${TOKENIZER_FILE} and ${ONNX_GRAPHS[0]}`;

/** The roles of the files an engine that cannot read the disk (a webview's) loads a folder from; `data:LOCATION` for each external data file of the graph. */
export type FolderFileRole = 'config' | 'tokenizer' | 'tokenizerConfig' | 'generationConfig' | 'onnx' | `${typeof DATA_ROLE_PREFIX}${string}`;

/** The role prefix of a graph's external data files: `data:model.onnx_data` (the location as the graph names it). */
export const DATA_ROLE_PREFIX = 'data:';

/**
 * Those files, by role, relative to the folder: the graph chosen, its external data files (their
 * locations, relative to the graph's folder), the optional JSON files the folder has.
 */
export function engineFiles(
  onnxGraph: string,
  externalData: readonly string[],
  has: { tokenizerConfig: boolean; generationConfig: boolean },
): Partial<Record<FolderFileRole, string>> {
  const graphFolder = onnxGraph.includes('/') ? onnxGraph.slice(0, onnxGraph.lastIndexOf('/') + 1) : '';
  const files: Partial<Record<FolderFileRole, string>> = {
    config: CONFIG_FILE,
    tokenizer: TOKENIZER_FILE,
    ...(has.tokenizerConfig ? { tokenizerConfig: TOKENIZER_CONFIG_FILE } : {}),
    ...(has.generationConfig ? { generationConfig: GENERATION_CONFIG_FILE } : {}),
    onnx: onnxGraph,
  };
  for (const location of externalData) files[`${DATA_ROLE_PREFIX}${location}`] = `${graphFolder}${location}`;
  return files;
}
