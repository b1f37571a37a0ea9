/**
 * `device: auto` with a real GPU in an open playground: which of the two places runs the editor's
 * neural model faster, measured rather than assumed. A small model decodes faster natively on a
 * CPU than on many GPUs (each step is a handful of tiny kernels), so the model moves to the
 * playground's GPU only when a few timed decode steps there beat the native worker's. No vscode
 * import: unit-tested.
 */
import type { LanguageModel } from '../core/model';

/** Decode steps timed per device (after one prefill and one warm-up step): short, a fraction of a second natively. */
export const AUTO_DECODE_STEPS = 8;
/** The text the measurement decodes (the tokens are fed one by one, as a completion would). */
export const AUTO_SAMPLE_TEXT = 'It was a fine morning, and the travellers set out along the road to the town before the sun was high.';

export interface DecodeSpeed {
  /** Median milliseconds of one decode step (one token on the cache of the ones before). */
  msPerToken: number;
  steps: number;
}

/**
 * Times `steps` single-token steps: a prefill of the first tokens, one untimed warm-up step,
 * then each step asks for the distribution after one more token (the engine extends its cache).
 */
export async function measureDecode(
  model: LanguageModel,
  ids: readonly number[],
  steps = AUTO_DECODE_STEPS,
  now: () => number = () => performance.now(),
): Promise<DecodeSpeed> {
  const prefill = Math.max(1, ids.length - steps - 1);
  if (ids.length < prefill + 1 + steps) throw new Error(`the measurement needs ${prefill + 1 + steps} tokens, it has ${ids.length}`);
  await model.nextLogProbs(ids.slice(0, prefill));
  await model.nextLogProbs(ids.slice(0, prefill + 1));
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const start = now();
    await model.nextLogProbs(ids.slice(0, prefill + 2 + i));
    times.push(now() - start);
  }
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  return { msPerToken: times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2, steps };
}

/**
 * Longest the measurement may take on one device. A page that stops answering (a hung or lost GPU)
 * would otherwise hold the load, and every feature waiting for the model, for good.
 */
export const AUTO_MEASURE_TIMEOUT_MS = 15_000;

/** Starts a timer and returns what stops it. */
export type Schedule = (run: () => void, ms: number) => () => void;

const systemSchedule: Schedule = (run, ms) => {
  const handle = setTimeout(run, ms);
  return () => clearTimeout(handle);
};

/** `task`, or a rejection naming `what` once `ms` have passed without it settling. */
export function withinDeadline<T>(task: Promise<T>, ms: number, what: string, schedule: Schedule = systemSchedule): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const stop = schedule(() => reject(new Error(`${what} took more than ${ms / 1000} s`)), ms);
    task.then(
      (v) => {
        stop();
        resolve(v);
      },
      (e: unknown) => {
        stop();
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

export interface AutoChoice {
  device: 'webgpu' | 'native';
  webgpu: DecodeSpeed;
  local: DecodeSpeed;
  /** The device the local worker runs on ("native", or "wasm" where there is no native runtime). */
  localDevice: string;
  adapter: string;
  /** One line for the log and the status bar tooltip. */
  summary: string;
}

/** Keeps the faster: the playground's GPU only when its median step is shorter than the local worker's. */
export function chooseAutoDevice(webgpu: DecodeSpeed, local: DecodeSpeed, localDevice: string, adapter: string): AutoChoice {
  const device = webgpu.msPerToken < local.msPerToken ? 'webgpu' : 'native';
  const ms = (s: DecodeSpeed) => `${s.msPerToken.toFixed(1)} ms/token`;
  const summary = `device auto measured ${webgpu.steps} decode steps: WebGPU (${adapter}) ${ms(webgpu)}, ${localDevice} ${ms(local)}: runs on ${device === 'webgpu' ? 'WebGPU' : localDevice}`;
  return { device, webgpu, local, localDevice, adapter, summary };
}
