/**
 * The embedded neural model against references computed outside this code base's TypeScript and
 * outside onnxruntime (training/reference.py, in the model folder's reference/): token ids from the training
 * script's own BPE in Python, and PyTorch's log-probs over the whole vocabulary on real text.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { OnnxCausalLm } from '../../src/core/neural/onnxCausalLm';
import { loadHuggingFaceFolder } from '../../src/node/neuralLoader';
import { REPO } from './helpers';

const MODEL_DIR = process.env.LMP_TEST_NEURAL_MODEL ?? path.join(REPO, 'models', 'gpt-classics');
const REFERENCE_DIR = path.join(MODEL_DIR, 'reference');
const readJson = (name: string) => JSON.parse(fs.readFileSync(path.join(REFERENCE_DIR, name), 'utf8'));

/** Most a log-prob of the ONNX graph on onnxruntime may differ from PyTorch's (float32 both). */
const PYTORCH_TOLERANCE = 1e-4;

describe('gpt-classics against independent references (training/reference.py)', function () {
  this.timeout(120000);
  let lm: OnnxCausalLm;
  before(async () => {
    lm = await loadHuggingFaceFolder(MODEL_DIR, 'gpt-classics');
  });
  after(() => lm?.dispose());

  it("tokenizes a passage of the valid split as the training script's own BPE (Python) does", () => {
    const ref: { text: string; ids: number[] } = readJson('tokens.json');
    assert.ok(ref.ids.length > 1000, `${ref.ids.length} reference tokens`);
    // The tokenizer itself: the model's own (lm.tokenizer) reads the passage's CRLF line as LF.
    const tokens = lm.fileTokenizer.encode(ref.text, false);
    const ids = tokens.map((t) => t.id);
    const first = ids.findIndex((id, i) => id !== ref.ids[i]);
    assert.ok(first < 0 && ids.length === ref.ids.length, `the ids differ from token ${first}: ${JSON.stringify(tokens[first]?.text)}`);
    assert.strictEqual(lm.tokenizer.decode(ref.ids, false), ref.text);
  });

  it("gives PyTorch's log-probs for every token of the vocabulary, at positions across a whole context window of real text (native and WASM)", async () => {
    const ref: { input_ids: number[]; positions: number[]; vocab_size: number; logprobs: string; argmax_per_position: number[] } = readJson('logits.json');
    const tokens: { ids: number[] } = readJson('tokens.json');
    // The window is <|endoftext|> and the passage's first tokens, as the Python BPE gives them.
    assert.strictEqual(ref.input_ids[0], lm.bosId);
    assert.deepStrictEqual(ref.input_ids.slice(1), tokens.ids.slice(0, ref.input_ids.length - 1));
    assert.strictEqual(ref.input_ids.length, lm.info.contextLength);
    assert.strictEqual(ref.vocab_size, lm.vocabSize);
    assert.deepStrictEqual([ref.positions[0], ref.positions[ref.positions.length - 1]], [0, ref.input_ids.length - 1]);
    const bytes = fs.readFileSync(path.join(REFERENCE_DIR, ref.logprobs));
    const rows = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    assert.strictEqual(rows.byteLength, ref.positions.length * ref.vocab_size * 4);
    const wasm = await loadHuggingFaceFolder(MODEL_DIR, 'gpt-classics on WASM', { device: 'wasm' });
    try {
      for (const model of [lm, wasm]) {
        for (const [r, position] of ref.positions.entries()) {
          const logProbs = await model.nextLogProbs(ref.input_ids.slice(0, position + 1));
          let worst = 0;
          for (let v = 0; v < ref.vocab_size; v++) {
            const diff = Math.abs(logProbs[v] - rows.getFloat32((r * ref.vocab_size + v) * 4, true));
            if (!(diff <= worst)) worst = diff;
          }
          assert.ok(worst < PYTORCH_TOLERANCE, `${model.info.device}, position ${position}: a log-prob differs from PyTorch's by ${worst}`);
        }
      }
    } finally {
      await wasm.dispose();
    }
    for (let p = 0; p < ref.input_ids.length; p++) {
      const logProbs = await lm.nextLogProbs(ref.input_ids.slice(0, p + 1));
      let best = 0;
      for (let v = 1; v < logProbs.length; v++) if (logProbs[v] > logProbs[best]) best = v;
      assert.strictEqual(best, ref.argmax_per_position[p], `argmax at position ${p}`);
    }
  });
});
