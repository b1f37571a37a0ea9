/**
 * node-llama-cpp (llama.cpp's Node binding), loaded on demand in the thread that runs GGUF models
 * (the engine's child process; the CLI's own). It is an ES module with top-level await, so it is
 * loaded by a real dynamic import(): TypeScript's CommonJS output would turn `import()` into
 * `require()`, hence the Function below, which neither TypeScript nor esbuild rewrites.
 *
 * Where it is: the build bundles it into dist/llama/lib/node-llama-cpp.mjs, whose prebuilt CPU
 * binary for the package's platform lies in bin/llama/ (scripts/build.mjs, scripts/package.mjs);
 * from the compiled tests (out/) it is the node_modules package. The universal package has no
 * binary: GGUF models are refused there with a message saying which package has one.
 */
import * as fs from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { LmError } from '../../core/errors';

// The parts of node-llama-cpp's API this product uses (typed here: its .d.ts are ES module types).
export interface LlamaSequence {
  readonly nextTokenIndex: number;
  readonly contextTokens: number[];
  eraseContextTokenRanges(ranges: { start: number; end: number }[]): Promise<void>;
  clearHistory(): Promise<void>;
}
export interface LlamaContext {
  readonly contextSize: number;
  getSequence(): LlamaSequence;
  dispose(): Promise<void>;
}
export interface LlamaModel {
  readonly trainContextSize: number;
  tokenize(text: string, specialTokens?: boolean): number[];
  isEogToken(token: number): boolean;
  createContext(options: {
    contextSize: number;
    batchSize?: number;
    sequences?: number;
    threads?: number;
    flashAttention?: boolean;
    experimentalKvCacheKeyType?: string;
    experimentalKvCacheValueType?: string;
  }): Promise<LlamaContext>;
  dispose(): Promise<void>;
}
export interface Llama {
  loadModel(options: { modelPath: string; gpuLayers?: number; useMmap?: boolean }): Promise<LlamaModel>;
  dispose(): Promise<void>;
}
interface NodeLlamaCpp {
  getLlama(options: Record<string, unknown>): Promise<Llama>;
}

/** The one prebuilt binary a platform package carries, by `${process.platform}-${process.arch}`. */
export const PREBUILT_PACKAGES: Record<string, string> = {
  'linux-x64': '@node-llama-cpp/linux-x64',
  'linux-arm64': '@node-llama-cpp/linux-arm64',
  'darwin-arm64': '@node-llama-cpp/mac-arm64-metal',
  'win32-x64': '@node-llama-cpp/win-x64',
  'win32-arm64': '@node-llama-cpp/win-arm64',
};

/** The binding's version (package.json pins it: the scoring relies on its logits filter, new in 3.22, and on internals, llamaPositions.ts). */
const LLAMA_VERSION = '3.22.1';

/** The prebuilt Linux binaries link glibc 2.34's symbols. */
const MIN_GLIBC = [2, 34];

const importModule = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

/** The bundled binding beside the running code (dist/ in the package), else the installed package (tests). */
function bindingLocation(): { file: string; bundled: boolean } | undefined {
  const bundle = path.join(__dirname, 'llama', 'lib', 'node-llama-cpp.mjs');
  if (fs.existsSync(bundle)) return { file: bundle, bundled: true };
  try {
    return { file: require.resolve('node-llama-cpp'), bundled: false };
  } catch {
    return undefined;
  }
}

/** Why GGUF models cannot run here, or undefined when the binding and its binary are present. */
export function llamaUnavailable(): string | undefined {
  const platform = `${process.platform}-${process.arch}`;
  const where = bindingLocation();
  if (!where) return 'llama.cpp (node-llama-cpp) is not installed here';
  if (where.bundled) {
    const pkg = PREBUILT_PACKAGES[platform];
    // The bundle's import of the platform package points at bin/llama/ (scripts/build.mjs).
    const binary = pkg && path.join(path.dirname(where.file), '..', '..', '..', 'bin', 'llama', ...pkg.split('/'));
    if (!binary || !fs.existsSync(binary)) {
      return `GGUF models need llama.cpp's binary, which only LM Playground's packages for linux-x64 and linux-arm64 carry (node-llama-cpp ${LLAMA_VERSION} publishes no other): this package (${platform === 'linux-x64' || platform === 'linux-arm64' ? 'the universal one' : platform}) has none. Install the linux-x64 or linux-arm64 package, or use an ONNX or n-gram model`;
    }
  }
  if (process.platform === 'linux') {
    const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
    const glibc = report?.header?.glibcVersionRuntime;
    if (!glibc) return "GGUF models need glibc (llama.cpp's Linux binary does not run on musl, e.g. Alpine)";
    const [major, minor] = glibc.split('.').map(Number);
    if (major < MIN_GLIBC[0] || (major === MIN_GLIBC[0] && minor < MIN_GLIBC[1])) {
      return `GGUF models need glibc ${MIN_GLIBC.join('.')} or later for llama.cpp's binary; this system has ${glibc}`;
    }
  }
  return undefined;
}

let llama: Promise<Llama> | undefined;

/** llama.cpp's last error lines (which tensor has which wrong shape, which key is missing): its load failure alone says only "Failed to load model". */
const recentErrors: string[] = [];

/** The error lines llama.cpp logged since the last call, oldest first. */
export function takeLlamaErrors(): string[] {
  return recentErrors.splice(0);
}

/** This thread's llama.cpp, CPU only (the numbers must not depend on a GPU); loaded once. */
export function getLlama(): Promise<Llama> {
  const why = llamaUnavailable();
  if (why) return Promise.reject(new LmError(why));
  llama ??= (async () => {
    const binding = (await importModule(pathToFileURL(bindingLocation()!.file).href)) as NodeLlamaCpp;
    // macOS arm64's one prebuilt binary is the Metal build: it is loaded as such, and models get no GPU layers.
    return binding.getLlama({
      gpu: process.platform === 'darwin' && process.arch === 'arm64' ? 'metal' : false,
      build: 'never',
      skipDownload: true,
      usePrebuiltBinaries: true,
      progressLogs: false,
      logLevel: 'error',
      logger: (_level: unknown, message: string) => {
        const line = message.trim();
        if (line) recentErrors.push(line);
        if (recentErrors.length > 8) recentErrors.shift();
      },
    });
  })();
  llama.catch(() => (llama = undefined));
  return llama;
}
