/** Select Model's descriptions: facts read from a model's files without loading it. */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { loadModel } from '../../src/node/modelLoader';
import { modelFacts } from '../../src/node/modelLoader';
import { SUMMARY_MAX_HEADER_BYTES, describeFacts, inflatePrefix, ngramHeader } from '../../src/node/modelSummary';
import { REPO } from './helpers';

describe('model descriptions for Select Model', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-summary-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('describe the embedded n-gram model from its header: order, n-grams, tokenizer, vocabulary', async () => {
    const facts = modelFacts(path.join(REPO, 'models', 'ngram-classics'))!;
    const model = await loadModel('ngram-classics');
    assert.strictEqual(facts.architecture, 'Kneser-Ney 4-gram');
    assert.strictEqual(facts.vocabulary, model.vocabSize);
    assert.strictEqual(facts.bytes, fs.statSync(path.join(REPO, 'models', 'ngram-classics', 'model.ngram')).size);
    assert.match(describeFacts(facts), /^Kneser-Ney 4-gram · [\d,]+ n-grams · [\d.]+ MiB · editor tokens .*, [\d,]+ tokens$/);
  });

  it('describe the embedded neural model from config.json and tokenizer.json', () => {
    const facts = modelFacts(path.join(REPO, 'models', 'gpt-classics'))!;
    assert.strictEqual(facts.parametersAre, 'weights');
    assert.match(
      describeFacts(facts),
      /^GPT-2 transformer, 4 layers, d = 256 · 4\.2 M parameters · [\d.]+ MiB · byte-level BPE, 4,096 tokens · context 128 tokens$/,
    );
  });

  it('say when the folder lacks the variant lmPlayground.dtype asks for, with the sizes of those it has (drive16 L1)', () => {
    // As a download of the 8-bit variant alone: the embedded model's files without its fp32 graph.
    const from = path.join(REPO, 'models', 'gpt-classics');
    const dir = path.join(tmp, 'eight-bit-only');
    fs.mkdirSync(path.join(dir, 'onnx'), { recursive: true });
    for (const f of ['config.json', 'tokenizer.json', path.join('onnx', 'model_quantized.onnx')]) fs.copyFileSync(path.join(from, f), path.join(dir, f));
    const size = fs.statSync(path.join(dir, 'onnx', 'model_quantized.onnx')).size;
    const asked = describeFacts(modelFacts(dir, { setting: 'fp32' })!);
    assert.match(
      asked,
      /^no fp32 variant, which lmPlayground\.dtype asks for \(it has \w+ [\d.]+ MiB\) · GPT-2 transformer, 4 layers, d = 256 · 4\.2 M parameters · byte-level BPE, 4,096 tokens · context 128 tokens$/,
    );
    assert.ok(asked.includes(`${(size / 2 ** 20).toFixed(1)} MiB)`), asked);
    // auto runs the 8-bit graph: its size, no note.
    assert.match(describeFacts(modelFacts(dir, { setting: 'auto' })!), /parameters · [\d.]+ MiB · byte-level BPE, 4,096 tokens · context 128 tokens$/);
  });

  it('read the order of an ARPA file from its \\data\\ section', () => {
    const file = path.join(tmp, 'small.arpa');
    fs.writeFileSync(file, '\\data\\\nngram 1=5\nngram 2=7\n\n\\1-grams:\n');
    assert.match(describeFacts(modelFacts(file)!), /^Kneser-Ney 2-gram · 12 n-grams · \d+ bytes · whitespace-separated words \(KenLM\), 5 tokens$/);
    // Gzipped, as KenLM writes them (drive13 L8: described by its size alone).
    const gz = path.join(tmp, 'small.arpa.gz');
    fs.writeFileSync(gz, zlib.gzipSync(Buffer.from(`\\data\\\nngram 1=5\nngram 2=7\n\n\\1-grams:\n${'-1.5\tword\t-0.3\n'.repeat(5000)}`)));
    assert.match(describeFacts(modelFacts(gz)!), /^Kneser-Ney 2-gram · 12 n-grams · [\d.]+ (KiB|bytes) · whitespace-separated words \(KenLM\), 5 tokens$/);
  });

  it('leave out what they cannot read, and stop at the cap on a header bomb', () => {
    const broken = path.join(tmp, 'broken');
    fs.mkdirSync(broken);
    fs.writeFileSync(path.join(broken, 'config.json'), '{not json');
    assert.strictEqual(describeFacts(modelFacts(broken)!), 'transformer');
    assert.strictEqual(modelFacts(path.join(tmp, 'missing')), undefined);
    // A header that declares more than the cap is not read at all.
    const head = Buffer.alloc(20);
    head.write('LMPNGRAM', 0, 'latin1');
    head.writeUInt32LE(2, 8);
    head.writeUInt32LE(SUMMARY_MAX_HEADER_BYTES, 12);
    const declared = path.join(tmp, 'declared.ngram.gz');
    fs.writeFileSync(declared, zlib.gzipSync(Buffer.concat([head, Buffer.alloc(1024)])));
    assert.strictEqual(ngramHeader(declared), undefined);
    // A header just under the cap, of zeros that inflate 1000:1: decompression stops at the cap.
    head.writeUInt32LE(SUMMARY_MAX_HEADER_BYTES - 64, 12);
    const bomb = path.join(tmp, 'bomb.ngram.gz');
    fs.writeFileSync(bomb, zlib.gzipSync(Buffer.concat([head, Buffer.alloc(2 * SUMMARY_MAX_HEADER_BYTES)]), { level: 9 }));
    const prefix = fs.readFileSync(bomb).subarray(0, 256 << 10);
    assert.ok(
      zlib.gunzipSync(prefix, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).length > SUMMARY_MAX_HEADER_BYTES,
      'the first read alone inflates past the cap',
    );
    assert.strictEqual(inflatePrefix(prefix), undefined, 'inflating stops at the cap');
    assert.strictEqual(inflatePrefix(prefix, 2 * SUMMARY_MAX_HEADER_BYTES)?.length, undefined);
    assert.strictEqual(inflatePrefix(prefix.subarray(0, 1024))!.length > 0, true);
    assert.strictEqual(ngramHeader(bomb), undefined);
  });
});
