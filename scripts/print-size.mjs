// Prints a file's size, e.g. the packaged .vsix.
import * as fs from 'fs';
const file = process.argv[2];
const bytes = fs.statSync(file).size;
console.log(`${file}: ${(bytes / 1024 / 1024).toFixed(2)} MiB (${bytes} bytes)`);
