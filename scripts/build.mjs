// Bundles the extension host and the CLI with esbuild (CommonJS, `vscode` external), and puts
// onnxruntime-node's native binaries for this platform where its bundled loader looks for them
// (bin/napi-v6/<platform>/<arch>/, relative to dist/).
import * as esbuild from 'esbuild';
import * as fs from 'fs';
import * as path from 'path';

// onnxruntime-node loads its addon with a templated require(); leave it to run time, relative to
// the bundle (dist/ → ../bin/napi-v6/...), instead of letting esbuild try to bundle every platform's.
const nativeAddonAtRuntime = {
  name: 'onnxruntime-node-addon',
  setup(build) {
    build.onLoad({ filter: /onnxruntime-node[\\/]dist[\\/]binding\.js$/ }, async (args) => {
      const source = await fs.promises.readFile(args.path, 'utf8');
      const addon = /require\(`\.\.\/bin\/napi-v6\/\$\{process\.platform\}\/\$\{process\.arch\}\/onnxruntime_binding\.node`\)/;
      if (!addon.test(source)) throw new Error('onnxruntime-node changed how it loads its addon: update scripts/build.mjs');
      // A computed path is not followed by esbuild; module.require resolves it against dist/.
      return {
        contents: source.replace(addon, "module.require(['..', 'bin', 'napi-v6', process.platform, process.arch, 'onnxruntime_binding.node'].join('/'))"),
        loader: 'js',
      };
    });
  },
};
const production = process.argv.includes('--production');
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: 'error',
  plugins: [nativeAddonAtRuntime],
};
const entries = [
  { entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', external: ['vscode', '@huggingface/transformers'] },
  // transformers.js is only a benchmark reference (a dev dependency), loaded when present.
  { entryPoints: ['src/cli/lmp.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' }, external: ['@huggingface/transformers'] },
  { entryPoints: ['src/node/engineWorker.ts'], outfile: 'dist/engineWorker.js' },
  // The engine's child process (GGUF models: llama.cpp may abort the process it runs in).
  { entryPoints: ['src/node/engineProcess.ts'], outfile: 'dist/engineProcess.js' },
  { entryPoints: ['src/node/trainingWorker.ts'], outfile: 'dist/trainingWorker.js' },
  { entryPoints: ['src/node/tokenizeWorker.ts'], outfile: 'dist/tokenizeWorker.js' },
  { entryPoints: ['src/node/arpaSectionWorker.ts'], outfile: 'dist/arpaSectionWorker.js' },
];
await Promise.all(entries.map((e) => esbuild.build({ ...common, ...e })));
fs.chmodSync('dist/cli.js', 0o755);

const nativeFrom = path.join('node_modules', 'onnxruntime-node', 'bin', 'napi-v6', process.platform, process.arch);
const nativeTo = path.join('bin', 'napi-v6', process.platform, process.arch);
if (fs.existsSync(nativeFrom)) {
  fs.mkdirSync(nativeTo, { recursive: true });
  for (const f of fs.readdirSync(nativeFrom)) fs.copyFileSync(path.join(nativeFrom, f), path.join(nativeTo, f));
} else {
  console.warn(`build: no onnxruntime-node binaries for ${process.platform}-${process.arch}; neural models will be unavailable natively`);
}

// onnxruntime-web's WASM backend for Node (the fallback where there is no native binary).
const wasmFrom = path.join('node_modules', 'onnxruntime-web', 'dist');
fs.mkdirSync(path.join('dist', 'ort'), { recursive: true });
for (const f of ['ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm']) fs.copyFileSync(path.join(wasmFrom, f), path.join('dist', 'ort', f));

// llama.cpp's binding (node-llama-cpp, an ES module with top-level await) for GGUF models: one ES
// module bundle, loaded by the Node hosts with a real import() (src/node/gguf/llamaRuntime.ts). Its
// paths follow its own layout from the bundle's folder: llama/ beside lib/ holds the two JSON files
// it reads; its version is fixed at build time (it reads ../../package.json); the platform package
// it imports (@node-llama-cpp/<platform>) is the one staged in bin/llama/ (here and by package.mjs);
// it does not fork itself to test the binary (a bundle cannot; the loader checks glibc instead).
const llamaPackage = path.join('node_modules', 'node-llama-cpp');
const llamaVersion = JSON.parse(fs.readFileSync(path.join(llamaPackage, 'package.json'), 'utf8')).version;
await esbuild.build({
  entryPoints: [path.join(llamaPackage, 'dist', 'index.js')],
  outfile: 'dist/llama/lib/node-llama-cpp.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: true,
  logLevel: 'error',
  // Its CommonJS dependencies call require(): give the ES module bundle one.
  banner: { js: "import { createRequire as __lmpCreateRequire } from 'module'; const require = __lmpCreateRequire(import.meta.url);" },
  plugins: [
    {
      name: 'node-llama-cpp-layout',
      setup(build) {
        build.onResolve({ filter: /^@node-llama-cpp\// }, (args) => ({ path: `../../../bin/llama/${args.path}/dist/index.js`, external: true }));
        // Used only to reflink downloads, which a bundle that never downloads does not do.
        build.onResolve({ filter: /^@reflink\// }, (args) => ({ path: args.path, external: true }));
        build.onLoad({ filter: /node-llama-cpp[\\/]dist[\\/]utils[\\/]getModuleVersion\.js$/ }, () => ({
          contents: `export async function getModuleVersion() { return ${JSON.stringify(llamaVersion)}; }`,
          loader: 'js',
        }));
        build.onLoad({ filter: /node-llama-cpp[\\/]dist[\\/]bindings[\\/]utils[\\/]testBindingBinary\.js$/ }, () => ({
          contents: 'export async function testBindingBinary() { return true; }',
          loader: 'js',
        }));
      },
    },
  ],
});
fs.mkdirSync(path.join('dist', 'llama', 'llama'), { recursive: true });
for (const f of ['binariesGithubRelease.json', 'llama.cpp.info.json'])
  fs.copyFileSync(path.join(llamaPackage, 'llama', f), path.join('dist', 'llama', 'llama', f));
const llamaPrebuilt = {
  'linux-x64': 'linux-x64',
  'linux-arm64': 'linux-arm64',
  'darwin-arm64': 'mac-arm64-metal',
  'win32-x64': 'win-x64',
  'win32-arm64': 'win-arm64',
}[`${process.platform}-${process.arch}`];
const llamaFrom = llamaPrebuilt && path.join('node_modules', '@node-llama-cpp', llamaPrebuilt);
if (llamaFrom && fs.existsSync(llamaFrom)) {
  const to = path.join('bin', 'llama', '@node-llama-cpp', llamaPrebuilt);
  fs.rmSync(path.join('bin', 'llama'), { recursive: true, force: true });
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.cpSync(llamaFrom, to, { recursive: true, filter: (f) => !/\.(md|map)$/.test(f) });
} else {
  console.warn(`build: no llama.cpp binary for ${process.platform}-${process.arch}; GGUF models will be unavailable`);
}

// The engine's browser Web Worker (webviews, browser tests): onnxruntime-web with WebGPU and WASM.
await esbuild.build({
  entryPoints: ['src/webview/engineWorker.ts'],
  outfile: 'dist/webview/engineWorker.js',
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: 'es2022',
  minify: production,
  sourcemap: !production,
  logLevel: 'error',
});
// Pages of the webview panels (the engine host, the Shannon game).
await esbuild.build({
  entryPoints: ['src/webview/enginePage.ts', 'src/webview/shannonPage.ts', 'src/webview/comparePage.ts', 'src/webview/playgroundPage.ts'],
  outdir: 'dist/webview',
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: 'es2022',
  minify: production,
  logLevel: 'error',
});
fs.copyFileSync(path.join(wasmFrom, 'ort-wasm-simd-threaded.asyncify.wasm'), path.join('dist', 'webview', 'ort-wasm-simd-threaded.asyncify.wasm'));
for (const css of ['shannonPage.css', 'comparePage.css', 'playgroundPage.css'])
  fs.copyFileSync(path.join('src', 'webview', css), path.join('dist', 'webview', css));
