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
  { entryPoints: ['src/node/trainingWorker.ts'], outfile: 'dist/trainingWorker.js' },
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
