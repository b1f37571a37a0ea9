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
 * Today: 26.5 MiB universal, 43.7 MiB for linux-x64 (17.0 MiB of it the native runtime, 12.2 MiB
 * the n-gram model, whose arrays are stored in byte planes for it), 36.5 linux-arm64, about 39
 * darwin-arm64, 37 win32-x64 and win32-arm64.
 */
const BUDGET_MIB = { universal: 30, platform: 45 };
const TARGETS = ['linux-x64', 'linux-arm64', 'darwin-arm64', 'win32-x64', 'win32-arm64'];
/**
 * Runtime files left out per target (nativeOmit.json): darwin's second, identical copy of
 * libonnxruntime (the binding links @rpath/libonnxruntime.1.dylib), and on win32 DirectML (a
 * delay-loaded import, loaded only by the DirectML provider) and the shader compiler that
 * onnxruntime loads by name only for GPU providers. The package runs the CPU provider alone.
 */
const OMIT = JSON.parse(fs.readFileSync(path.join('scripts', 'nativeOmit.json'), 'utf8')).omit;

/** Leaves exactly one platform's native binaries in bin/ (none for the universal package). */
function stageNative(target) {
  fs.rmSync('bin', { recursive: true, force: true });
  if (!target) return;
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
