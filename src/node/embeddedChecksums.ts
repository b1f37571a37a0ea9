/** Written by scripts/recordEmbeddedChecksums.mjs (run by `npm run train:ngram`): the XXH32 of each embedded n-gram file, by its path in models/. */
export const EMBEDDED_NGRAM_CHECKSUMS: Readonly<Record<string, number>> = {
  'ngram-classics/model.ngram': 0xaffcd76b,
};
