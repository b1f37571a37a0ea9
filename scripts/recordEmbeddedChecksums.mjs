// Records the checksum of each embedded n-gram model (models/*/model.ngram) in
// src/node/embeddedChecksums.ts, after `npm run train:ngram` writes a new one. The loader skips
// the trie's checks for a file in the extension's own models folder whose computed checksum equals
// the recorded one; test/unit/embeddedChecksums.test.ts runs those checks on the shipped file and
// fails when it and the record disagree. The value is the XXH32 the file carries in its last 4
// bytes (the reader checks it against the content on every load).
import * as fs from 'fs';
import * as path from 'path';
import { fileURLToPath } from 'url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const models = path.join(root, 'models');
const entries = fs
  .readdirSync(models)
  .filter((name) => fs.existsSync(path.join(models, name, 'model.ngram')))
  .sort()
  .map((name) => {
    const bytes = fs.readFileSync(path.join(models, name, 'model.ngram'));
    const checksum = bytes.readUInt32LE(bytes.length - 4);
    return `  '${name}/model.ngram': 0x${checksum.toString(16).padStart(8, '0')},`;
  });
const out = path.join(root, 'src', 'node', 'embeddedChecksums.ts');
fs.writeFileSync(
  out,
  `/** Written by scripts/recordEmbeddedChecksums.mjs (run by \`npm run train:ngram\`): the XXH32 of each embedded n-gram file, by its path in models/. */
export const EMBEDDED_NGRAM_CHECKSUMS: Readonly<Record<string, number>> = {
${entries.join('\n')}
};
`,
);
console.log(`${path.relative(root, out)}: ${entries.length} file(s)`);
