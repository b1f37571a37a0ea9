/**
 * The models shipped with the extension: where their folder is, and which of their n-gram files
 * the loader may trust as the build recorded them (embeddedChecksums.ts).
 */
import * as fs from 'fs';
import * as path from 'path';
import { EMBEDDED_NGRAM_CHECKSUMS } from './embeddedChecksums';

/**
 * The folder with the embedded models: `models/` at the package root, found above the running code
 * (dist/ in the package and the repo, out/src/node/ when the tests run the compiled sources).
 */
export function embeddedModelsDir(): string {
  const candidates = [1, 2, 3].map((up) => path.join(__dirname, ...Array(up).fill('..'), 'models'));
  return candidates.find((d) => fs.existsSync(d)) ?? candidates[0];
}

/**
 * The checksum recorded for `file` when it is one of the n-gram files shipped in `modelsDir` (the
 * extension's own folder, as trusted as its code); undefined for any other file, wherever it is
 * and whatever it holds.
 */
export function embeddedNgramChecksum(file: string, modelsDir = embeddedModelsDir()): number | undefined {
  const relative = path.relative(path.resolve(modelsDir), path.resolve(file)).split(path.sep).join('/');
  return Object.prototype.hasOwnProperty.call(EMBEDDED_NGRAM_CHECKSUMS, relative) ? EMBEDDED_NGRAM_CHECKSUMS[relative] : undefined;
}
