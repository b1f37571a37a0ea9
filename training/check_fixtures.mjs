// Checks the fixture models that make_fixtures.py writes against their PyTorch reference, with
// onnxruntime-node (graph loaded from its path) and onnxruntime-web's WASM backend in Node (graph
// and external data handed over as bytes, `externalData: [{ path, data }]`).
//
//     node training/check_fixtures.mjs [test/fixtures/models]
//
// The tokenizer.json (through @huggingface/tokenizers) must give the reference tokenizer's ids and
// decode them back to the text. For every onnx/*.onnx variant: the log-probabilities of the
// reference text in one pass, with their differences from the fp32 reference, and greedy decoding
// with the KV cache (prefill, then one token per step). fp32 variants must match PyTorch to 1e-4
// relative and its greedy tokens; model_q4.onnx likewise PyTorch with the same 4-bit weights.
// Exits 1 when one does not, or when a variant fails to load or run.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const ortNode = require('onnxruntime-node');
const ortWeb = require('onnxruntime-web');
const { Tokenizer } = await import('@huggingface/tokenizers');
ortWeb.env.wasm.numThreads = 1;

const root = path.resolve(process.argv[2] ?? path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'test', 'fixtures', 'models'));

function halfToFloat(h) {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

function floats(tensor) {
  return tensor.type === 'float16' ? Float64Array.from(tensor.data, halfToFloat) : Float64Array.from(tensor.data);
}

function logSoftmax(row) {
  let max = -Infinity;
  for (const x of row) max = Math.max(max, x);
  let sum = 0;
  for (const x of row) sum += Math.exp(x - max);
  const lse = max + Math.log(sum);
  return row.map((x) => x - lse);
}

function int64(values, dims) {
  return [BigInt64Array.from(values.map(BigInt)), dims];
}

/** Runs one forward step; returns the logits rows and the present tensors. */
async function step(ort, session, ids, pastLength, past, keep) {
  const t = ids.length;
  const feeds = {
    input_ids: new ort.Tensor('int64', ...int64(ids, [1, t])),
    attention_mask: new ort.Tensor('int64', ...int64(Array(pastLength + t).fill(1), [1, pastLength + t])),
  };
  if (session.inputNames.includes('position_ids')) {
    feeds.position_ids = new ort.Tensor('int64', ...int64(ids.map((_, i) => pastLength + i), [1, t]));
  }
  if (session.inputNames.includes('num_logits_to_keep')) {
    feeds.num_logits_to_keep = new ort.Tensor('int64', BigInt64Array.from([BigInt(keep)]), []);
  }
  for (const meta of session.inputMetadata) {
    if (!meta.name.startsWith('past_key_values.')) continue;
    const present = past?.[meta.name.replace('past_key_values.', 'present.')];
    if (present) feeds[meta.name] = present;
    else {
      const dims = [1, meta.shape[1], 0, meta.shape[3]];
      feeds[meta.name] = new ort.Tensor(meta.type, meta.type === 'float16' ? new Uint16Array(0) : new Float32Array(0), dims);
    }
  }
  const out = await session.run(feeds);
  const [, rows, vocab] = out.logits.dims;
  const data = floats(out.logits);
  const logits = [];
  for (let r = 0; r < rows; r++) logits.push(data.subarray(r * vocab, (r + 1) * vocab));
  const presents = {};
  for (const name of session.outputNames) if (name.startsWith('present.')) presents[name] = out[name];
  return { logits, presents, logitsType: out.logits.type };
}

async function check(ort, session, ref, wantGreedy) {
  const ids = ref.input_ids;
  const { logits, logitsType } = await step(ort, session, ids, 0, null, 0);
  const logprobs = [];
  for (let i = 0; i + 1 < ids.length; i++) logprobs.push(logSoftmax(logits[i])[ids[i + 1]]);
  const { maxAbs, meanAbs, maxRel } = compare(logprobs, ref.token_logprobs);
  let top5Same = 0;
  for (const { position, ids: want } of ref.top5) {
    const lp = logSoftmax(logits[position]);
    const got = [...lp.keys()].sort((a, b) => lp[b] - lp[a]).slice(0, 5);
    if (got.join() === want.join()) top5Same++;
  }
  // Greedy decoding with the cache: prefill the prompt, then one token per step.
  const prompt = ref.greedy.prompt_ids;
  let { logits: l, presents } = await step(ort, session, prompt, 0, null, 1);
  const generated = [];
  let length = prompt.length;
  for (let k = 0; k < wantGreedy.length; k++) {
    const last = l[l.length - 1];
    let best = 0;
    for (let v = 1; v < last.length; v++) if (last[v] > last[best]) best = v;
    generated.push(best);
    ({ logits: l, presents } = await step(ort, session, [best], length, presents, 1));
    length++;
  }
  const greedySame = generated.findIndex((id, k) => id !== wantGreedy[k]);
  return { maxAbs, meanAbs, maxRel, top5Same, greedyAgree: greedySame < 0 ? generated.length : greedySame, logitsType, logprobs };
}

function compare(got, want) {
  let maxAbs = 0;
  let sumAbs = 0;
  let maxRel = 0;
  want.forEach((w, i) => {
    const d = Math.abs(got[i] - w);
    maxAbs = Math.max(maxAbs, d);
    sumAbs += d;
    maxRel = Math.max(maxRel, d / Math.max(Math.abs(w), 1e-3));
  });
  return { maxAbs, meanAbs: sumAbs / want.length, maxRel };
}

function externalDataFiles(onnxPath) {
  const dir = path.dirname(onnxPath);
  const base = path.basename(onnxPath);
  return fs.readdirSync(dir).filter((f) => f === `${base}_data` || f.startsWith(`${base}_data_`));
}

let failed = false;
for (const name of fs.readdirSync(root).filter((n) => fs.existsSync(path.join(root, n, 'reference.json')))) {
  const folder = path.join(root, name);
  const ref = JSON.parse(fs.readFileSync(path.join(folder, 'reference.json'), 'utf8'));
  console.log(`${name}: ${ref.input_ids.length} tokens, reference total log-prob ${ref.total_logprob.toFixed(4)}`);
  const readJson = (f) => JSON.parse(fs.readFileSync(path.join(folder, f), 'utf8'));
  const tokenizer = new Tokenizer(readJson('tokenizer.json'), readJson('tokenizer_config.json'));
  const ids = tokenizer.encode(ref.text, { add_special_tokens: ref.add_bos }).ids;
  const back = tokenizer.decode(ids, { skip_special_tokens: true, clean_up_tokenization_spaces: false });
  const sameIds = ids.join() === ref.input_ids.join();
  failed ||= !sameIds || back !== ref.text;
  console.log(`  tokenizer.json: ids ${sameIds ? 'same as' : 'DIFFER from'} the reference tokenizer's, decode ${back === ref.text ? 'gives the text back' : 'DIFFERS: ' + JSON.stringify(back)}`);
  const onnxDir = path.join(folder, 'onnx');
  for (const file of fs.readdirSync(onnxDir).filter((f) => f.endsWith('.onnx')).sort()) {
    const full = path.join(onnxDir, file);
    const data = externalDataFiles(full);
    const fp32 = !/_(fp16|q4|q4f16|int8|uint8|bnb4|quantized)\.onnx$/.test(file);
    for (const [label, ort, open] of [
      ['node (path)', ortNode, () => ortNode.InferenceSession.create(full)],
      [
        'web wasm (bytes' + (data.length ? ' + externalData' : '') + ')',
        ortWeb,
        () =>
          ortWeb.InferenceSession.create(fs.readFileSync(full), {
            executionProviders: ['wasm'],
            externalData: data.map((f) => ({ path: f, data: fs.readFileSync(path.join(onnxDir, f)) })),
          }),
      ],
    ]) {
      try {
        // model_q4.onnx computes in float32 with 4-bit weights: the q4 reference is exact for it.
        const isQ4 = file === 'model_q4.onnx';
        const session = await open();
        const r = await check(ort, session, ref, isQ4 ? ref.greedy.q4_new_ids : ref.greedy.new_ids);
        await session.release();
        const q4 = isQ4 ? compare(r.logprobs, ref.q4_token_logprobs) : undefined;
        const ok = (!fp32 && !isQ4) || ((q4 ?? r).maxRel <= 1e-4 && r.greedyAgree === ref.greedy.new_ids.length);
        failed ||= !ok;
        console.log(
          `  ${file.padEnd(18)} ${label.padEnd(34)} logits ${r.logitsType.padEnd(7)} log-prob |diff| max ${r.maxAbs.toExponential(2)} mean ${r.meanAbs.toExponential(2)} (max rel ${r.maxRel.toExponential(2)})` +
            (q4 ? `  vs q4 reference: max rel ${q4.maxRel.toExponential(2)}` : '') +
            `  top-5 same ${r.top5Same}/${ref.top5.length}  greedy ${r.greedyAgree}/${ref.greedy.new_ids.length}${isQ4 ? ' (vs q4 greedy)' : ''}` +
            (data.length ? `  external data: ${data.join(', ')}` : '') +
            (ok ? '' : '  FAIL (fp32, and q4 against its reference, must be within 1e-4 relative, greedy the same)'),
        );
      } catch (e) {
        failed = true;
        console.log(`  ${file.padEnd(18)} ${label.padEnd(34)} FAILED: ${String(e.message ?? e).split('\n')[0]}`);
      }
    }
  }
}
process.exit(failed ? 1 : 0);
