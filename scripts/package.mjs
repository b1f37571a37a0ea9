// Packages lm-playground.vsix for this platform (it carries onnxruntime-node's native addon for
// it, in bin/), and prints its size.
import { execFileSync } from 'child_process';
import * as fs from 'fs';

const target = `${process.platform}-${process.arch}`;
const out = 'lm-playground.vsix';
execFileSync('npx', ['vsce', 'package', '--no-dependencies', '--allow-missing-repository', '--target', target, '--out', out], { stdio: 'inherit' });
const bytes = fs.statSync(out).size;
console.log(`${out} (${target}): ${(bytes / 1024 / 1024).toFixed(2)} MiB (${bytes} bytes)`);
