/**
 * The logit lens and attention views (capabilities.inside `logit-lens`, `attention`): gpt-classics
 * against PyTorch (training/inside_reference.py, reference/inside.json), the lens's last layer
 * against the model's own distribution, attention rows that sum to 1, on the full-precision graph
 * and on the int8 graph that ships, native and WASM; models whose graphs lack the outputs say so.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { rankOf } from '../../src/core/distribution';
import { EngineConnection } from '../../src/core/engine/engineClient';
import { EngineServer } from '../../src/core/engine/engineServer';
import type { EngineResponse } from '../../src/core/engine/protocol';
import type { OnnxCausalLm } from '../../src/core/neural/onnxCausalLm';
import { loadHuggingFaceFolder } from '../../src/node/neuralLoader';
import { attentionHeatRows, lensRows, mostAttended, settlesAt, type InsideResult } from '../../src/playground/insideViews';
import type { GeneratedToken } from '../../src/core/generation';
import type { LensLayer } from '../../src/core/inside/logitLens';
import { LENS_TOP } from '../../src/webview/insideRequest';
import { CORPUS, REPO, TEST_LOAD_SPEC } from './helpers';

const MODEL_DIR = path.join(REPO, 'models', 'gpt-classics');
interface RefPosition {
  position: number;
  next_id: number;
  lens: { top_ids: number[]; top_logprobs: number[]; next_logprob: number; next_rank: number }[];
  attention: number[][][];
}
const REF: { input_ids: number[]; positions: RefPosition[] } = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'reference', 'inside.json'), 'utf8'));
/** The full-precision graph's lens (every layer, the last being the model's distribution) against PyTorch's: 5.5e-6 measured. */
const PYTORCH_TOLERANCE = 1e-5;

describe('inside views: logit lens and attention (gpt-classics)', function () {
  this.timeout(120_000);
  const models: OnnxCausalLm[] = [];
  after(() => Promise.all(models.map((m) => m.dispose())));
  const load = async (name: string, options: Parameters<typeof loadHuggingFaceFolder>[2]) => {
    const m = await loadHuggingFaceFolder(MODEL_DIR, name, options);
    models.push(m);
    return m;
  };

  it("matches PyTorch's lens (top tokens, the next token's log-prob and rank, every layer) and attention probabilities, native and WASM", async () => {
    for (const device of ['native', 'wasm'] as const) {
      const lm = await load(`gpt-classics fp32 ${device}`, { device, onnxFile: 'onnx/model.onnx' });
      assert.deepStrictEqual(lm.info.capabilities.inside, ['logit-lens', 'attention']);
      for (const ref of REF.positions) {
        const inside = await lm.inside(REF.input_ids.slice(0, ref.position + 1), ref.next_id, 5);
        const lens = inside.lens!;
        assert.strictEqual(lens.length, ref.lens.length, 'one lens row per hidden state: embeddings and after each block');
        for (const [layer, r] of ref.lens.entries()) {
          const where = `${device}, position ${ref.position}, layer ${layer}`;
          assert.deepStrictEqual(
            lens[layer].top.map((t) => t.id),
            r.top_ids,
            `${where}: top tokens ${JSON.stringify(lens[layer].top)} vs ${JSON.stringify(r)}`,
          );
          for (const [i, t] of lens[layer].top.entries())
            assert.ok(Math.abs(t.logProb - r.top_logprobs[i]) < PYTORCH_TOLERANCE, `${where}: ${t.logProb} vs ${r.top_logprobs[i]}`);
          assert.ok(
            Math.abs(lens[layer].actual.logProb - r.next_logprob) < PYTORCH_TOLERANCE,
            `${where}: next ${lens[layer].actual.logProb} vs ${r.next_logprob}`,
          );
          assert.strictEqual(lens[layer].actual.rank, r.next_rank, where);
        }
        const attention = inside.attention!;
        assert.strictEqual(attention.length, ref.attention.length);
        for (const [layer, heads] of ref.attention.entries()) {
          for (const [head, row] of heads.entries()) {
            const got = attention[layer][head];
            assert.strictEqual(got.length, row.length);
            const worst = Math.max(...row.map((w, j) => Math.abs(w - got[j])));
            assert.ok(worst < 1e-5, `${device}, position ${ref.position}, layer ${layer}, head ${head}: ${worst} off PyTorch`);
          }
        }
      }
    }
  });

  it("the lens's last layer is the model's own distribution (1e-5, all 4,096 tokens) and attention rows sum to 1, on the int8 graph that ships, native and WASM", async () => {
    const context = REF.input_ids.slice(0, 40);
    for (const device of ['native', 'wasm'] as const) {
      const lm = await load(`gpt-classics int8 ${device}`, { device, onnxFile: 'onnx/model_quantized.onnx' });
      const own = await lm.nextLogProbs(context);
      const inside = await lm.inside(context, REF.input_ids[40], lm.vocabSize);
      const last = inside.lens![inside.lens!.length - 1];
      assert.strictEqual(last.top.length, lm.vocabSize);
      // Probabilities within 1e-5 (1.1e-6 measured); log-probs within 3e-5 (the runtime sums the
      // output layer's products in float32, the lens in float64: 1.2e-5 native, 1.9e-5 WASM measured).
      let worstP = 0;
      let worstLog = 0;
      for (const t of last.top) {
        worstP = Math.max(worstP, Math.abs(Math.exp(t.logProb) - Math.exp(own[t.id])));
        worstLog = Math.max(worstLog, Math.abs(t.logProb - own[t.id]));
      }
      assert.ok(worstP < 1e-5 && worstLog < 3e-5, `${device}: the last layer is ${worstP} off the model's probabilities, ${worstLog} off its log-probs`);
      assert.strictEqual(last.actual.rank, rankOf(own, REF.input_ids[40]));
      // The earlier layers are other distributions, not copies of the last one.
      assert.ok(Math.abs(inside.lens![0].actual.logProb - last.actual.logProb) > 0.1);
      for (const [layer, heads] of inside.attention!.entries()) {
        assert.strictEqual(heads.length, 8);
        for (const [head, row] of heads.entries()) {
          assert.strictEqual(row.length, context.length, 'one weight per context token');
          const sum = row.reduce((a, b) => a + b, 0);
          assert.ok(Math.abs(sum - 1) < 1e-5, `${device}, layer ${layer}, head ${head}: the row sums to ${sum}`);
        }
      }
    }
  });

  it('reads only the context window: a longer context keeps its last 128 tokens', async () => {
    const lm = models[models.length - 1] ?? (await load('gpt-classics int8', { onnxFile: 'onnx/model_quantized.onnx' }));
    const context = [...REF.input_ids, ...REF.input_ids, ...REF.input_ids];
    assert.strictEqual(context.length, 144);
    const inside = await lm.inside(context, 11, 3);
    assert.deepStrictEqual(inside.ids, context.slice(16));
    assert.strictEqual(inside.dropped, 16);
    assert.strictEqual(inside.attention![0][0].length, 128);
  });

  it('through the engine: the inside op names every token it returns; a model without the outputs says what export it needs', async () => {
    const withOutputs = await load('gpt-classics', { onnxFile: 'onnx/model_quantized.onnx' });
    const without = await loadHuggingFaceFolder(path.join(REPO, 'test', 'fixtures', 'models', 'tiny-llama'), 'tiny-llama');
    models.push(without);
    assert.strictEqual(without.info.capabilities.inside, undefined);
    for (const [model, ok] of [
      [withOutputs, true],
      [without, false],
    ] as const) {
      const server = new EngineServer(
        async () => ({ model }),
        (r) => setImmediate(() => conn.receive(r as EngineResponse)),
      );
      const conn = new EngineConnection((req) => void server.handle(req));
      await conn.request({ op: 'load', spec: TEST_LOAD_SPEC });
      const request = conn.request({ op: 'inside', prompt: 'It was a dark', before: [], token: 267, k: 5 });
      if (ok) {
        const { inside, texts } = await request;
        for (const id of [...inside.ids, inside.actual, ...inside.lens!.flatMap((l) => l.top.map((t) => t.id))]) assert.strictEqual(typeof texts[id], 'string');
        assert.strictEqual(inside.ids.map((id) => texts[id]).join(''), '<|endoftext|>It was a dark');
      } else {
        await assert.rejects(request, /hidden_states\.N and attentions\.N/);
      }
    }
  });
});

describe('inside views of a long prompt: the window the token was drawn or scored in', function () {
  this.timeout(300_000);
  let model: OnnxCausalLm;
  let conn: EngineConnection;
  before(async () => {
    model = await loadHuggingFaceFolder(MODEL_DIR, 'gpt-classics', { onnxFile: 'onnx/model_quantized.onnx' });
    const server = new EngineServer(
      async () => ({ model }),
      (r) => setImmediate(() => conn.receive(r as EngineResponse)),
    );
    conn = new EngineConnection((req) => void server.handle(req));
    await conn.request({ op: 'load', spec: TEST_LOAD_SPEC });
  });
  after(() => model?.dispose());

  /** The lens's last row against the p, rank and alternatives the playground shows for the token (1e-5 in p). */
  function assertLastRowIsTheToken(lens: LensLayer[], token: GeneratedToken, where: string): void {
    const last = lens[lens.length - 1];
    const shown = `shown p ${Math.exp(token.logProb)} rank ${token.rank}, lens p ${Math.exp(last.actual.logProb)} rank ${last.actual.rank}`;
    assert.ok(Math.abs(Math.exp(last.actual.logProb) - Math.exp(token.logProb)) < 1e-5, `${where}: ${shown}`);
    assert.strictEqual(last.actual.rank, token.rank, `${where}: ${shown}`);
    assert.deepStrictEqual(
      last.top.map((t) => t.id),
      token.alternatives!.map((a) => a.id),
      `${where}: top 5 ${JSON.stringify(last.top)} vs ${JSON.stringify(token.alternatives)}`,
    );
    for (const [i, t] of last.top.entries())
      assert.ok(Math.abs(Math.exp(t.logProb) - Math.exp(token.alternatives![i].logProb)) < 1e-5, `${where}: top ${i + 1}`);
  }

  it('a 3,000-character prompt (over 1,000 tokens): the last lens row is the p, rank and top 5 shown for an echoed prompt token, a generated token and a branch token', async () => {
    const prompt = fs.readFileSync(path.join(CORPUS, 'valid', 'poirot_investigates.txt'), 'utf8').slice(0, 3000);
    const options = { maxTokens: 10, temperature: 0.7, seed: 0, topKPerToken: LENS_TOP, echoPrompt: true };
    const [c] = (await conn.request({ op: 'generate', prompt, options })).completions;
    const promptTokens = c.promptTokens!;
    assert.ok(promptTokens.length > 1000, `${promptTokens.length} prompt tokens`);
    // As the playground asks (playgroundPage.ts): a prompt token after the empty prompt's start of text, a generated one after the prompt.
    const echoed = 901;
    const forPrompt = await conn.request({
      op: 'inside',
      prompt: '',
      before: promptTokens.slice(0, echoed).map((t) => t.id),
      token: promptTokens[echoed].id,
      k: LENS_TOP,
    });
    assert.ok(forPrompt.inside.dropped > 0, 'the prompt is longer than the window');
    assertLastRowIsTheToken(forPrompt.inside.lens!, promptTokens[echoed], `prompt token ${echoed}`);
    for (const k of [0, 3, 9]) {
      const { inside } = await conn.request({
        op: 'inside',
        prompt,
        before: c.tokens.slice(0, k).map((t) => t.id),
        generated: 0,
        token: c.tokens[k].id,
        k: LENS_TOP,
      });
      assertLastRowIsTheToken(inside.lens!, c.tokens[k], `generated token ${k + 1}`);
    }
    // A branch from the last token's second choice: the window is the branch generation's, not the completion's.
    const continuation = [...c.tokens.slice(0, 9).map((t) => t.id), c.tokens[9].alternatives!.find((a) => a.id !== c.tokens[9].id)!.id];
    const [b] = (await conn.request({ op: 'generate', prompt, continuation, options: { ...options, echoPrompt: false, maxTokens: 70 } })).completions;
    for (const k of [0, 40, 69]) {
      const { inside } = await conn.request({
        op: 'inside',
        prompt,
        before: [...continuation, ...b.tokens.slice(0, k).map((t) => t.id)],
        generated: continuation.length,
        token: b.tokens[k].id,
        k: LENS_TOP,
      });
      assertLastRowIsTheToken(inside.lens!, b.tokens[k], `branch token ${k + 1}`);
    }
  });

  it('an echoed prompt with a start-of-text marker written in it: each token after the marker is read with the marker in its context', async () => {
    const prompt = 'The cat sat on the mat.<|endoftext|>Once upon a time there was a little house by the sea';
    const options = { maxTokens: 0, temperature: 0, seed: 0, topKPerToken: LENS_TOP, echoPrompt: true };
    const [c] = (await conn.request({ op: 'generate', prompt, options })).completions;
    const ids = c.promptIds!;
    const marker = model.bosId!;
    const markerAt = ids.lastIndexOf(marker);
    assert.ok(markerAt > 1, `the marker is a token of the prompt: ${JSON.stringify(ids)}`);
    const after = c.promptTokens!.filter((t) => t.position! > markerAt);
    assert.ok(after.length >= 8, `${after.length} echoed tokens after the marker`);
    assert.ok(
      c.promptTokens!.every((t) => t.position !== undefined && ids[t.position] === t.id),
      'every echoed token has its place among the ids',
    );
    for (const t of after) {
      // As the playground asks for an echoed token (playgroundPage.ts choosePromptToken).
      const { inside } = await conn.request({ op: 'inside', before: ids.slice(0, t.position), token: t.id, k: LENS_TOP });
      assertLastRowIsTheToken(inside.lens!, t, `prompt token ${JSON.stringify(t.text)} at ${t.position}`);
    }
  });
});

describe('inside views in words (src/playground/insideViews.ts)', () => {
  const layer = (n: number, rank: number, logProb: number) => ({
    layer: n,
    top: [{ id: 7, logProb: Math.log(0.5) }],
    actual: { logProb, rank },
    entropy: Math.LN2,
  });
  const result = (ranks: number[]): InsideResult => ({
    inside: {
      ids: [0, 5],
      dropped: 0,
      actual: 7,
      lens: ranks.map((r, n) => layer(n, r, Math.log(0.5))),
      attention: [[Float32Array.of(0.25, 0.75), Float32Array.of(0.75, 0.25), Float32Array.of(1, 0)]],
    },
    texts: { 0: '<|endoftext|>', 5: ' the', 7: '\n' },
  });

  it('names the layers, shows tokens with their whitespace drawn, and says from which layer the token stays first', () => {
    const r = result([40, 1, 3, 1, 1]);
    assert.deepStrictEqual(
      lensRows(r).map((row) => row.layer),
      ['embeddings', 'after block 1', 'after block 2', 'after block 3', 'after block 4 = output'],
    );
    assert.deepStrictEqual(lensRows(r)[0].top, [{ token: '⏎', p: '50.0%' }]);
    assert.strictEqual(lensRows(r)[0].entropy, '1.00 bits');
    assert.strictEqual(settlesAt(r), 3, 'first at block 1, lost at block 2, first again from block 3 on');
    assert.strictEqual(settlesAt(result([2, 2, 2, 2, 5])), undefined);
    assert.strictEqual(settlesAt(result([1, 1, 1, 1, 1])), 0);
  });

  it("puts the heads' mean first in the heat-map, and lists the most attended tokens", () => {
    const rows = attentionHeatRows(result([1]), 0);
    assert.deepStrictEqual(
      rows.map((r) => r.label),
      ['mean of 3 heads', 'head 1', 'head 2', 'head 3'],
    );
    assert.deepStrictEqual(Array.from(rows[0].weights), [2 / 3, 1 / 3].map(Math.fround));
    assert.deepStrictEqual(mostAttended(result([1]), rows[1].weights, 1), [{ token: '␣the', position: 1, weight: '75.0%' }]);
  });
});
