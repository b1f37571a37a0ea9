/**
 * log Σ exp over rows of logits, computed by the onnxruntime that runs the model, for the rows of
 * a pass that are scored (a heat-map, `lmp score`, a prompt's scores). On onnxruntime-node's CPU
 * provider this is several times faster than the JavaScript loop (logMath.ts), which runs on one
 * thread after each pass: at a vocabulary of 151,936 that loop took a third of the scoring time
 * (docs/BENCHMARKS.md). The exponentials are float32 and their sum double, within 1e-7 of
 * logMath's value; rows that come out non-finite are computed by logMath, whose rules for NaN and
 * infinite logits stay the only ones.
 */
import type { InferenceSession } from 'onnxruntime-common';
import { logSumExpOfLogits } from '../logMath';
import { onnxModelBytes, OnnxType } from './onnxGraphWriter';
import type { OrtModule } from './onnxCausalLm';

/**
 * About this many logits go through one run: a few rows of a large vocabulary, whose float32 and
 * double intermediates (16 bytes a logit, 8 MiB here) stay small next to the model's own pass.
 */
const LOGITS_PER_RUN = 2 ** 19;

/** Fewer logits than this are summed in JavaScript: a run of the runtime costs more than the loop over so few. */
const MIN_LOGITS = 2 ** 15;

/** max, then the sum of exp(x - max) in double: float32 sums over 150,000 terms were off by 2e-5. */
const GRAPH = onnxModelBytes({
  name: 'row_log_sum_exp',
  opset: 11,
  inputs: [{ name: 'logits', type: OnnxType.float, dims: ['rows', 'vocab'] }],
  outputs: [{ name: 'lse', type: OnnxType.double, dims: ['rows', 1] }],
  nodes: [
    { op: 'ReduceMax', inputs: ['logits'], outputs: ['max'], attributes: { axes: [1], keepdims: 1 } },
    { op: 'Sub', inputs: ['logits', 'max'], outputs: ['shifted'] },
    { op: 'Exp', inputs: ['shifted'], outputs: ['exp'] },
    { op: 'Cast', inputs: ['exp'], outputs: ['exp_double'], attributes: { to: OnnxType.double } },
    { op: 'ReduceSum', inputs: ['exp_double'], outputs: ['sum'], attributes: { axes: [1], keepdims: 1 } },
    { op: 'Log', inputs: ['sum'], outputs: ['log_sum'] },
    { op: 'Cast', inputs: ['max'], outputs: ['max_double'], attributes: { to: OnnxType.double } },
    { op: 'Add', inputs: ['log_sum', 'max_double'], outputs: ['lse'] },
  ],
});

export class RuntimeLogSumExp {
  private constructor(
    private readonly ort: OrtModule,
    private readonly session: InferenceSession,
  ) {}

  /** Undefined where the runtime cannot run the graph: the caller computes every row itself. */
  static async create(
    ort: OrtModule,
    options: { executionProviders?: InferenceSession.SessionOptions['executionProviders']; threads?: number },
  ): Promise<RuntimeLogSumExp | undefined> {
    try {
      const session = await ort.InferenceSession.create(GRAPH, {
        executionProviders: options.executionProviders,
        ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
        // Its threads would otherwise spin after each run, while the model's next pass wants the cores.
        extra: { session: { intra_op: { allow_spinning: '0' } } },
      });
      return new RuntimeLogSumExp(ort, session);
    } catch {
      return undefined;
    }
  }

  /** Whether `count` rows of `vocab` logits are worth a run (MIN_LOGITS). */
  worthRunning(count: number, vocab: number): boolean {
    return count * vocab >= MIN_LOGITS;
  }

  /** Writes log Σ exp of rows [first, first + count) of `logits` (rows of `vocab`) into out[0 .. count). */
  async rows(logits: Float32Array, vocab: number, first: number, count: number, out: Float64Array): Promise<void> {
    const perRun = Math.max(1, Math.floor(LOGITS_PER_RUN / vocab));
    for (let a = 0; a < count; a += perRun) {
      const n = Math.min(perRun, count - a);
      const start = (first + a) * vocab;
      const input = new this.ort.Tensor('float32', logits.subarray(start, start + n * vocab), [n, vocab]);
      const result = await this.session.run({ logits: input });
      const lse = result.lse.data as Float64Array;
      for (let r = 0; r < n; r++) {
        out[a + r] = Number.isFinite(lse[r]) ? lse[r] : logSumExpOfLogits(logits, start + r * vocab, vocab);
      }
      result.lse.dispose?.();
    }
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
