import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { scoreFile } from '../../src/cli/score';
import { repeatsTextAfterCursor } from '../../src/editor/stopRules';
import type { LanguageModel, Token } from '../../src/core/model';
import { scoreText, ScoreTotals } from '../../src/core/scoring';
import { characterCount, normalizeLineBreaks } from '../../src/core/tokenizers/lineBreaks';
import { TokenStream } from '../../src/core/tokenStream';
import { openGguf } from '../../src/node/gguf/ggufFile';
import { loadModel } from '../../src/node/modelLoader';
import { loadHuggingFaceFolder } from '../../src/node/neuralLoader';
import { ONNX_FIXTURES, REPO } from './helpers';

const LF = 'It was a fine morning.\nThe travellers set out\nalong the road to the town.\n\n"CHAPTER II."\n  Indented, with é and 🙂.\n';
const COPIES = { LF, CRLF: LF.replace(/\n/g, '\r\n'), CR: LF.replace(/\n/g, '\r'), mixed: LF.replace('\n', '\r\n').replace('\n\n', '\r\r\n') };

/** Every token's text is the document's own at its offsets, and the tokens cover the document in order. */
function assertOnDocument(tokens: readonly Token[], doc: string, label: string): void {
  let at = 0;
  let from = 0;
  for (const t of tokens) {
    // A sequence marker (<s>) takes no text.
    if (t.length > 0) assert.strictEqual(doc.slice(t.start, t.start + t.length), t.text, `${label}: token ${JSON.stringify(t.text)} at ${t.start}`);
    assert.ok(t.start >= from && t.start <= at, `${label}: token at ${t.start} after text up to ${at}`);
    from = t.start;
    at = Math.max(at, t.start + t.length);
  }
  assert.strictEqual(at, doc.length, `${label}: tokens end at ${at} of ${doc.length}`);
}

describe('line breaks: a document with CRLF or CR line breaks reads as its LF copy', function () {
  this.timeout(120_000);

  it('maps each position of the LF text back onto the document', () => {
    const doc = 'a\r\nb\rc\n\r\r\nd';
    const n = normalizeLineBreaks(doc);
    assert.strictEqual(n.text, 'a\nb\nc\n\n\nd');
    assert.deepStrictEqual([...n.toOriginal!], [0, 1, 3, 4, 5, 6, 7, 8, 10, 11]);
    assert.strictEqual(normalizeLineBreaks('no breaks\n').toOriginal, undefined);
  });

  it('counts a CRLF line break as one character, also split between two pieces of text', () => {
    assert.strictEqual(characterCount('a\r\nb🙂'), 4);
    assert.strictEqual(characterCount('a\rb\n'), 4);
    assert.strictEqual(characterCount('a\r') + characterCount('\nb', true), characterCount('a\nb'));
    for (const doc of Object.values(COPIES)) assert.strictEqual(characterCount(doc), characterCount(LF));
  });

  it('a completion that repeats the text after the cursor is recognised in a CRLF document', () => {
    assert.ok(repeatsTextAfterCursor('out\nalong the', 'out\r\nalong the road'));
    assert.ok(!repeatsTextAfterCursor('out\nacross', 'out\r\nalong the road'));
  });

  const models: [string, () => Promise<LanguageModel>][] = [
    ['gpt-classics', () => loadModel('gpt-classics')],
    ['tiny-llama', () => loadHuggingFaceFolder(path.join(ONNX_FIXTURES, 'tiny-llama'), 'tiny-llama', { device: 'native', dtype: { setting: 'fp32' } })],
    ['tiny-qwen2', () => loadHuggingFaceFolder(path.join(ONNX_FIXTURES, 'tiny-qwen2'), 'tiny-qwen2', { device: 'native', dtype: { setting: 'fp32' } })],
    ['tiny-llama as GGUF (llama.cpp)', () => openGguf(path.join(ONNX_FIXTURES, 'gguf', 'tiny-llama-f32.gguf'), 'tiny-llama', { threads: 1 })],
    ['ngram-classics', () => loadModel('ngram-classics')],
  ];
  for (const [name, load] of models) {
    describe(name, () => {
      let model: LanguageModel;
      before(async () => (model = await load()));
      after(() => model?.dispose?.());

      it('gives every copy the tokens and log-probs of the LF text, with offsets on the document', async () => {
        const lf = await scoreText(model, LF);
        for (const [label, doc] of Object.entries(COPIES)) {
          const tokens = model.tokenizer.encode(doc, true);
          assertOnDocument(tokens, doc, label);
          assert.deepStrictEqual(
            tokens.map((t) => t.id),
            model.tokenizer.encode(LF, true).map((t) => t.id),
            label,
          );
          const s = await scoreText(model, doc);
          assert.deepStrictEqual(
            s.tokens.map((t) => t.logProb),
            lf.tokens.map((t) => t.logProb),
            label,
          );
          assert.deepStrictEqual(s.summary, lf.summary, label);
        }
        // A token of the model's "\n" covers the document's "\r\n".
        const crlf = model.tokenizer.encode(COPIES.CRLF, true);
        assert.ok(
          crlf.some((t) => t.text.includes('\r\n')),
          JSON.stringify(crlf.map((t) => t.text)),
        );
        // Offsets after a start offset (a window of the document) shift by it.
        const shifted = model.tokenizer.encode(COPIES.CRLF.slice(10), false, 10);
        for (const t of shifted) if (t.length > 0) assert.strictEqual(COPIES.CRLF.slice(t.start, t.start + t.length), t.text);
      });

      it('scores a file read in small pieces (a CRLF split between them) as its LF copy', async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-crlf-'));
        try {
          const results = [];
          for (const doc of [LF, COPIES.CRLF]) {
            const file = path.join(dir, 'text.txt');
            fs.writeFileSync(file, doc);
            const totals = new ScoreTotals();
            const chars = await scoreFile(model, file, {}, async (scores) => scores.forEach((t) => totals.add(t)), 7);
            results.push(totals.summary(chars));
          }
          assert.deepStrictEqual(results[1], results[0]);
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      });

      it('streams tokens onto the document when a CRLF is split between pushes', () => {
        const stream = new TokenStream(model.tokenizer);
        const doc = COPIES.CRLF;
        const tokens: Token[] = [];
        const cut = doc.indexOf('\r\n') + 1;
        tokens.push(...stream.push(doc.slice(0, cut)), ...stream.push(doc.slice(cut)), ...stream.end());
        assertOnDocument(tokens, doc, 'streamed');
        assert.deepStrictEqual(
          tokens.map((t) => t.id),
          model.tokenizer.encode(doc, true).map((t) => t.id),
        );
      });
    });
  }

  it('lmp score gives an LF file and its CRLF copy the same result', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-crlf-cli-'));
    try {
      const out = (doc: string) => {
        const file = path.join(dir, 'text.txt');
        fs.writeFileSync(file, doc);
        const r = spawnSync(process.execPath, [path.join(REPO, 'dist', 'cli.js'), 'score', '--model', 'gpt-classics', '--json', file], { encoding: 'utf8' });
        assert.strictEqual(r.status, 0, r.stderr);
        return JSON.parse(r.stdout) as Record<string, unknown>;
      };
      const [lf, crlf] = [out(LF), out(COPIES.CRLF)];
      assert.deepStrictEqual(crlf, lf);
      assert.strictEqual(lf.chars, characterCount(LF));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
