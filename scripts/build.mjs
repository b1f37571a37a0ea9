// Bundles the extension host and the CLI with esbuild (CommonJS, `vscode` external).
import * as esbuild from 'esbuild';
import * as fs from 'fs';

const production = process.argv.includes('--production');
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
};
const entries = [
  { entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] },
  { entryPoints: ['src/cli/lmp.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
].filter((e) => fs.existsSync(e.entryPoints[0]));
await Promise.all(entries.map((e) => esbuild.build({ ...common, ...e })));
fs.chmodSync('dist/cli.js', 0o755);
