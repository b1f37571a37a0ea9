/**
 * The embedded n-gram model's recorded checksum (src/node/embeddedChecksums.ts): the loader skips
 * the trie's checks for the shipped file whose checksum equals it, so this test runs every check
 * on exactly those bytes, and fails when the file and the record disagree (a model retrained
 * without `npm run train:ngram`, which records it). Any other file, a copy of the embedded one
 * included, keeps every check.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { xxh32 } from '../../src/core/checksum';
import { ModelFormatError } from '../../src/core/errors';
import { readNgramBinary, writeNgramBinary } from '../../src/core/ngram/binaryFormat';
import { NgramModel } from '../../src/core/ngram/ngramModel';
import { loadNgramFile } from '../../src/node/backends/ngramBackend';
import { EMBEDDED_NGRAM_CHECKSUMS } from '../../src/node/embeddedChecksums';
import { embeddedModelsDir, embeddedNgramChecksum } from '../../src/node/embeddedModels';

const FIELDS = ['words', 'logProb', 'backoff', 'childStart'] as const;

function assertSameModel(a: NgramModel, b: NgramModel): void {
  assert.deepStrictEqual(a.counts, b.counts);
  assert.deepStrictEqual(a.vocab.allWords(), b.vocab.allWords());
  a.orders.forEach((o, k) => {
    for (const f of FIELDS) {
      const x = o[f];
      const y = b.orders[k][f];
      assert.strictEqual(x === undefined, y === undefined, `${k + 1}-gram ${f}`);
      if (x && y) assert.ok(Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength)), `${k + 1}-gram ${f}`);
    }
  });
}

describe('embedded n-gram models: the recorded checksums', function () {
  this.timeout(60000);
  const modelsDir = embeddedModelsDir();
  const recorded = Object.keys(EMBEDDED_NGRAM_CHECKSUMS);
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-embedded-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('records every model.ngram in models/, and only those', () => {
    const shipped = fs
      .readdirSync(modelsDir)
      .filter((name) => fs.existsSync(path.join(modelsDir, name, 'model.ngram')))
      .map((name) => `${name}/model.ngram`);
    assert.deepStrictEqual(recorded.sort(), shipped.sort());
    assert.ok(recorded.includes('ngram-classics/model.ngram'));
  });

  for (const name of recorded) {
    it(`${name}: its checksum is the recorded one, and it passes every check of an untrusted file`, async () => {
      const file = path.join(modelsDir, name);
      const bytes = new Uint8Array(fs.readFileSync(file));
      assert.strictEqual(
        xxh32(bytes.subarray(0, bytes.length - 4)),
        EMBEDDED_NGRAM_CHECKSUMS[name],
        `${name} changed: run scripts/recordEmbeddedChecksums.mjs`,
      );
      assert.strictEqual(embeddedNgramChecksum(file), EMBEDDED_NGRAM_CHECKSUMS[name]);
      // Every check (no trusted checksum), on a copy: the loader's in-place decoding consumes its buffer.
      const checked = readNgramBinary(bytes.slice(), name).model;
      // As the loader reads it: trusted, decoded in place; the same model.
      const loaded = (await loadNgramFile(file)).ngram;
      assertSameModel(checked, loaded);
    });
  }

  it('trusts no file outside the models folder: a copy of the embedded model gets every check', async () => {
    const name = 'ngram-classics/model.ngram';
    const file = path.join(modelsDir, name);
    assert.strictEqual(embeddedNgramChecksum(path.join(modelsDir, 'ngram-classics', '..', 'ngram-classics', 'model.ngram')), EMBEDDED_NGRAM_CHECKSUMS[name]);
    const copy = path.join(dir, 'model.ngram');
    fs.copyFileSync(file, copy);
    assert.strictEqual(embeddedNgramChecksum(copy), undefined);
    assert.strictEqual(embeddedNgramChecksum(path.join(modelsDir, 'ngram-classics', 'model.arpa')), undefined);
    assert.strictEqual(embeddedNgramChecksum(path.join(modelsDir, 'ngram-classics')), undefined);

    // The copy with one link broken (its checksum made right, as a forger would): refused, wherever it comes from.
    const model = readNgramBinary(new Uint8Array(fs.readFileSync(file)), name).model;
    const orders = model.orders.map((o) => ({ ...o }));
    const cs = orders[1].childStart!.slice();
    cs[1] = 0xfffffff0;
    orders[1].childStart = cs;
    const forged = writeNgramBinary(new NgramModel(model.vocab, orders), { name: 'ngram-classics', tokenizer: 'editor', order: 4 }, { planes: true });
    fs.writeFileSync(copy, forged);
    await assert.rejects(loadNgramFile(copy), (e: unknown) => e instanceof ModelFormatError && /2-gram entry 0 has a bad child range/.test(e.message));
    // The embedded record does not open it either: the checksum it must equal is the shipped file's.
    const trustedChecksum = EMBEDDED_NGRAM_CHECKSUMS[name];
    assert.throws(() => readNgramBinary(forged.slice(), 'forged.ngram', { trustedChecksum, decodeInPlace: true }), /2-gram entry 0 has a bad child range/);
    // What trust means: with its own checksum as the trusted one, the checks are skipped (only the shipped file's is ever given).
    const own = new DataView(forged.buffer, forged.byteOffset).getUint32(forged.length - 4, true);
    assert.doesNotThrow(() => readNgramBinary(forged.slice(), 'forged.ngram', { trustedChecksum: own }));
  });
});
