/**
 * The ONNX backend: a causal LM folder in the Hugging Face layout (core/neural/hfLayout.ts), run
 * by onnxruntime: natively or on WASM in a Node worker thread (this thread for the CLI), on WASM
 * or WebGPU in a webview's worker, where the host keeps only the tokenizer.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ModelFormatError } from '../../core/errors';
import { MAX_ONNX_GRAPH_BYTES } from '../../core/modelLimits';
import { LAYOUT_SUMMARY, ONNX_GRAPHS, TOKENIZER_CONFIG_FILE, engineFiles, findOnnxGraph } from '../../core/neural/hfLayout';
import { ONNX_CAPABILITIES } from '../../core/neural/onnxCausalLm';
import { neuralFacts } from '../modelSummary';
import { MAX_CONFIG_JSON_BYTES, MAX_TOKENIZER_JSON_BYTES, hostSide, isHuggingFaceFolder, loadHuggingFaceFolder } from '../neuralLoader';
import type { ModelBackend, WebviewFile } from './backend';

/** Largest file of each role a page is sent. */
const PAGE_LIMITS: Record<string, number> = {
  config: MAX_CONFIG_JSON_BYTES,
  tokenizer: MAX_TOKENIZER_JSON_BYTES,
  tokenizerConfig: MAX_CONFIG_JSON_BYTES,
  onnx: MAX_ONNX_GRAPH_BYTES,
};

export const onnxBackend: ModelBackend = {
  id: 'onnx',
  label: 'a Hugging Face model folder (GPT-2-family ONNX export)',
  accepts: `a Hugging Face model folder of an ONNX causal LM (${LAYOUT_SUMMARY}; e.g. from LM: Download Model)`,
  fileExtensions: [],
  capabilities: ONNX_CAPABILITIES,
  recognize: (ref) => (ref.path !== undefined && ref.isDirectory && isHuggingFaceFolder(ref.path) ? ref.path : undefined),
  open: (model, options) =>
    loadHuggingFaceFolder(model.location, model.name, { device: options.device, threads: options.threads, preferQuantized: options.preferQuantized }),
  facts: (model, options) => neuralFacts(model.location, options.preferQuantized ?? false),
  hostTokenizer: (model, options) => hostSide(model.location, options.preferQuantized).tokenizer,
  webviewFiles(model, options) {
    const dir = model.location;
    const graph = findOnnxGraph((f) => fs.existsSync(path.join(dir, f)), options.preferQuantized);
    if (!graph) throw new ModelFormatError(`no ONNX graph (looked for ${ONNX_GRAPHS.join(', ')})`, dir);
    const relative = engineFiles(graph, fs.existsSync(path.join(dir, TOKENIZER_CONFIG_FILE)));
    const files: Record<string, WebviewFile> = {};
    for (const [role, name] of Object.entries(relative)) files[role] = { path: path.join(dir, name), name, maxBytes: PAGE_LIMITS[role] };
    return { files, runtime: 'onnxruntime-web' };
  },
};
