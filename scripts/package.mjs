// Packages the extension with vsce.
//   node scripts/package.mjs              this platform: lm-playground.vsix, with onnxruntime-node's
//                                         native binary for it (bin/napi-v6/<platform>/<arch>)
//   node scripts/package.mjs --all        one .vsix per platform onnxruntime-node ships binaries for,
//                                         plus a universal one without native code (neural models
//                                         fall back to WASM there), in dist-vsix/
//   node scripts/package.mjs --universal  only the universal one (the end-to-end tests install it)
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const NATIVE = path.join('node_modules', 'onnxruntime-node', 'bin', 'napi-v6');
/**
 * Size budgets of a .vsix, in MiB: a package above its budget fails the build (and the end-to-end
 * tests, which package), so that a model, runtime build or source map that slips in is caught.
 * Before GGUF: 26.5 MiB universal, 43.7 MiB for linux-x64 (17.0 MiB of it the native runtime, 12.2
 * MiB the n-gram model, whose arrays are stored in byte planes for it), 36.5 linux-arm64, about 39
 * darwin-arm64, 37 win32-x64 and win32-arm64. llama.cpp's CPU binary adds about 10 MiB compressed
 * to linux-x64 (30 MB of files: the binding, libllama and 14 CPU variants of ggml that it picks
 * from at run time), and the binding's bundle 0.3 MiB to every package: the platform budget was
 * raised from 45 to 56 MiB for it (measured sizes: README, "Packaging").
 */
const BUDGET_MIB = { universal: 30, platform: 56 };
const TARGETS = ['linux-x64', 'linux-arm64', 'darwin-arm64', 'win32-x64', 'win32-arm64'];
/**
 * Runtime files left out per target (nativeOmit.json): darwin's second, identical copy of
 * libonnxruntime (the binding links @rpath/libonnxruntime.1.dylib), and on win32 DirectML (a
 * delay-loaded import, loaded only by the DirectML provider) and the shader compiler that
 * onnxruntime loads by name only for GPU providers. The package runs the CPU provider alone.
 */
const OMIT = JSON.parse(fs.readFileSync(path.join('scripts', 'nativeOmit.json'), 'utf8')).omit;

/**
 * llama.cpp's prebuilt CPU binary for each target (node-llama-cpp's platform packages; darwin-arm64
 * has only the Metal build, which runs models on the CPU when given no GPU layers). Only the
 * installing platform's package is in node_modules (npm skips the others), so the others are
 * fetched once with `npm pack` into node_modules/.cache/lmp-llama/. Never CUDA or Vulkan builds.
 */
const LLAMA_PACKAGES = {
  'linux-x64': 'linux-x64',
  'linux-arm64': 'linux-arm64',
  'darwin-arm64': 'mac-arm64-metal',
  'win32-x64': 'win-x64',
  'win32-arm64': 'win-arm64',
};
const LLAMA_VERSION = JSON.parse(fs.readFileSync(path.join('node_modules', 'node-llama-cpp', 'package.json'), 'utf8')).version;

/** The target's llama.cpp package, or undefined when none is published for this version (the package then refuses GGUF models, saying why). */
function llamaPackageDir(target) {
  const name = LLAMA_PACKAGES[target];
  const installed = path.join('node_modules', '@node-llama-cpp', name);
  if (
    fs.existsSync(path.join(installed, 'package.json')) &&
    JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8')).version === LLAMA_VERSION
  )
    return installed;
  const cache = path.join('node_modules', '.cache', 'lmp-llama', `${name}-${LLAMA_VERSION}`);
  if (!fs.existsSync(path.join(cache, 'package.json'))) {
    fs.mkdirSync(cache, { recursive: true });
    let tgz;
    try {
      tgz = execFileSync('npm', ['pack', `@node-llama-cpp/${name}@${LLAMA_VERSION}`, '--pack-destination', cache], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      })
        .trim()
        .split('\n')
        .pop();
    } catch {
      fs.rmSync(cache, { recursive: true, force: true });
      console.warn(
        `package.mjs: @node-llama-cpp/${name}@${LLAMA_VERSION} cannot be fetched (not published?): the ${target} package has no llama.cpp binary, and refuses GGUF models`,
      );
      return undefined;
    }
    execFileSync('tar', ['-xzf', path.join(cache, tgz), '-C', cache, '--strip-components=1']);
    fs.rmSync(path.join(cache, tgz));
  }
  return cache;
}

/** Leaves exactly one platform's native binaries in bin/ (none for the universal package): onnxruntime's and llama.cpp's. */
function stageNative(target) {
  fs.rmSync('bin', { recursive: true, force: true });
  if (!target) return;
  const llamaFrom = llamaPackageDir(target);
  if (llamaFrom) {
    const llamaTo = path.join('bin', 'llama', '@node-llama-cpp', LLAMA_PACKAGES[target]);
    fs.mkdirSync(path.dirname(llamaTo), { recursive: true });
    fs.cpSync(llamaFrom, llamaTo, { recursive: true, filter: (f) => !/\.(md|map)$/.test(f) });
  }
  const [platform, arch] = target.split('-');
  const from = path.join(NATIVE, platform, arch);
  const to = path.join('bin', 'napi-v6', platform, arch);
  fs.mkdirSync(to, { recursive: true });
  for (const f of fs.readdirSync(from)) if (!(OMIT[target] ?? []).includes(f)) fs.copyFileSync(path.join(from, f), path.join(to, f));
}

function vsce(out, target) {
  const args = ['vsce', 'package', '--no-dependencies', '--allow-missing-repository', '--out', out];
  if (target) args.push('--target', target);
  execFileSync('npx', args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const bytes = fs.statSync(out).size;
  const budget = target ? BUDGET_MIB.platform : BUDGET_MIB.universal;
  console.log(`${out} (${target ?? 'universal'}): ${(bytes / 1024 / 1024).toFixed(2)} MiB (${bytes} bytes), budget ${budget} MiB`);
  if (bytes > budget * 1024 * 1024) {
    console.error(`package.mjs: ${out} is above its ${budget} MiB budget; list what it holds with unzip -l ${out} | sort -n -r | head`);
    process.exitCode = 1;
  }
}

const here = `${process.platform}-${process.arch}`;
if (process.argv.includes('--all')) {
  fs.mkdirSync('dist-vsix', { recursive: true });
  for (const target of TARGETS) {
    stageNative(target);
    vsce(path.join('dist-vsix', `lm-playground-${target}.vsix`), target);
  }
  stageNative(undefined);
  vsce(path.join('dist-vsix', 'lm-playground-universal.vsix'), undefined);
  stageNative(TARGETS.includes(here) ? here : undefined); // leave the working tree as a build leaves it
} else if (process.argv.includes('--universal')) {
  fs.mkdirSync('dist-vsix', { recursive: true });
  stageNative(undefined);
  vsce(path.join('dist-vsix', 'lm-playground-universal.vsix'), undefined);
  stageNative(TARGETS.includes(here) ? here : undefined);
} else {
  const target = TARGETS.includes(here) ? here : undefined;
  stageNative(target);
  vsce('lm-playground.vsix', target);
}
