/**
 * The ONNX backend: a causal LM folder in the Hugging Face layout (core/neural/hfLayout.ts), run
 * by onnxruntime: natively or on WASM in a Node worker thread (this thread for the CLI), on WASM
 * or WebGPU in a webview's worker, where the host keeps only the tokenizer.
 */
import * as fs from 'fs';
import * as path from 'path';
import { MAX_ONNX_GRAPH_BYTES } from '../../core/modelLimits';
import { DATA_ROLE_PREFIX, GENERATION_CONFIG_FILE, LAYOUT_SUMMARY, TOKENIZER_CONFIG_FILE, engineFiles } from '../../core/neural/hfLayout';
import { ONNX_CAPABILITIES } from '../../core/neural/onnxCausalLm';
import { graphExternalData } from '../externalData';
import { hubCacheModelName } from '../hubCache';
import { downloadedRepoOf } from '../hubDownload';
import { neuralFacts } from '../modelSummary';
import {
  MAX_CONFIG_JSON_BYTES,
  MAX_TOKENIZER_JSON_BYTES,
  checkWasmWeights,
  chooseFolderGraph,
  hostSide,
  isHuggingFaceFolder,
  loadHuggingFaceFolder,
} from '../neuralLoader';
import type { ModelBackend, WebviewFile } from './backend';

/** Largest file of each role a page is sent (an external data file: as a graph). */
const PAGE_LIMITS: Record<string, number> = {
  config: MAX_CONFIG_JSON_BYTES,
  tokenizer: MAX_TOKENIZER_JSON_BYTES,
  tokenizerConfig: MAX_CONFIG_JSON_BYTES,
  generationConfig: MAX_CONFIG_JSON_BYTES,
  onnx: MAX_ONNX_GRAPH_BYTES,
};

export const onnxBackend: ModelBackend = {
  id: 'onnx',
  label: 'a Hugging Face model folder (ONNX export of a causal LM)',
  accepts: `a Hugging Face model folder of an ONNX causal LM (${LAYOUT_SUMMARY}; e.g. from LM: Download Model)`,
  fileExtensions: [],
  capabilities: ONNX_CAPABILITIES,
  recognize: (ref) => (ref.path !== undefined && ref.isDirectory && isHuggingFaceFolder(ref.path) ? ref.path : undefined),
  // A snapshot of the hub's cache is named by its revision, a downloaded folder by an escaped id
  // (`owner__name`): the repository's id says more, and is what Select Model lists.
  nameOf: (location) => hubCacheModelName(location) ?? downloadedRepoOf(location) ?? (path.basename(location) || location),
  open: (model, options) =>
    loadHuggingFaceFolder(model.location, model.name, {
      device: options.device,
      threads: options.threads,
      dtype: options.dtype,
      tokenizerOnHost: options.tokenizerOnHost,
    }),
  facts: (model, options) => neuralFacts(model.location, options.dtype),
  hostTokenizer: (model) => hostSide(model.location).tokenizer,
  hostTokenizerFromFiles: true,
  folderFiles: (dir) => {
    // Every graph variant and data file, not only the one loaded: a new export rewrites them all,
    // and dtype auto may then choose another. Only those: the watch stats each file every poll on the
    // extension host's thread, and other files in onnx/ (5,000 in hostile L5: 18 ms a poll) are not the model.
    const list = (sub: string, keep: (name: string) => boolean) => {
      try {
        return fs
          .readdirSync(path.join(dir, sub), { withFileTypes: true })
          .filter((e) => e.isFile() && keep(e.name))
          .map((e) => path.join(dir, sub, e.name));
      } catch {
        return [];
      }
    };
    return [...list('.', (n) => n.endsWith('.json') || n.includes('.onnx')), ...list('onnx', (n) => n.includes('.onnx'))].sort();
  },
  webviewFiles(model, options) {
    const dir = model.location;
    const page = options.webview ?? { runtime: 'wasm' };
    const graph = chooseFolderGraph(dir, options.dtype, page.runtime, page.float16);
    // Checked here, so that a missing data file or a model too large for the page is named before any byte is sent.
    const onnxPath = path.join(dir, ...graph.path.split('/'));
    const external = graphExternalData(onnxPath);
    checkWasmWeights(
      onnxPath,
      external,
      'a page runs ONNX models on WASM or WebGPU, whose weights live in that memory: choose a smaller variant (lmPlayground.dtype q4 or int8); the editor runs this one natively',
    );
    const data = external.map((d) => d.location);
    const has = (file: string) => fs.existsSync(path.join(dir, file));
    const relative = engineFiles(graph.path, data, { tokenizerConfig: has(TOKENIZER_CONFIG_FILE), generationConfig: has(GENERATION_CONFIG_FILE) });
    const files: Record<string, WebviewFile> = {};
    for (const [role, name] of Object.entries(relative) as [string, string][]) {
      files[role] = { path: path.join(dir, ...name.split('/')), name, maxBytes: role.startsWith(DATA_ROLE_PREFIX) ? MAX_ONNX_GRAPH_BYTES : PAGE_LIMITS[role] };
    }
    return { files, runtime: 'onnxruntime-web' };
  },
};
