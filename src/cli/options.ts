/** Command-line options: parsing and checked values. */
import type { ModelInfo } from '../core/model';
import { parseArgs } from 'util';
import { LmError } from '../core/errors';
import { DTYPES, PREFER_QUANTIZED, isDtypeSetting, type DtypeRequest } from '../core/neural/onnxVariants';
import type { NodeDevice } from '../node/neuralLoader';

export function parse<T extends Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>>(args: string[], options: T) {
  // `--seed -3`: parseArgs takes a value starting with a dash for an option ("ambiguous"); a
  // negative number after an option that takes a value is that value.
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = /^--(.+)$/.exec(args[i])?.[1];
    if (name !== undefined && Object.hasOwn(options, name) && options[name].type === 'string' && /^-[\d.]/.test(args[i + 1] ?? '')) {
      joined.push(`${args[i]}=${args[i + 1]}`);
      i++;
    } else joined.push(args[i]);
  }
  try {
    return parseArgs({ args: joined, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new LmError((e as Error).message);
  }
}

export function intOption(value: string | undefined, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  // Decimal digits only: Number() would also take 1e3, 0x10, 0b1 and " 7 ".
  const n = /^-?\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new LmError(`--${name} must be an integer from ${min} to ${max} in decimal digits, got ${JSON.stringify(value)}`);
  return n;
}

export function numberOption(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = value === 'inf' || value === 'Infinity' ? Infinity : Number(value);
  if (Number.isNaN(n) || value.trim() === '') throw new LmError(`--${name} must be a number, got ${JSON.stringify(value)}`);
  return n;
}

/** --dtype (a precision variant, default auto); --quantized, the older flag, prefers the 8-bit graph. */
export function dtypeOption(value: string | undefined, quantized: boolean | undefined): DtypeRequest {
  if (value !== undefined && !isDtypeSetting(value)) throw new LmError(`--dtype must be auto or one of ${DTYPES.join(', ')}, got ${JSON.stringify(value)}`);
  return { setting: value ?? 'auto', ...(quantized ? { prefer: PREFER_QUANTIZED } : {}) };
}

/** A GGUF file runs its own weights' type: an explicit --dtype, which picks among ONNX graphs, is said to be ignored. */
export function noteIgnoredDtype(value: string | undefined, model: { info: ModelInfo }): void {
  if (value === undefined || value === 'auto' || model.info.backend !== 'gguf') return;
  process.stderr.write(
    `lmp: --dtype ${value} is ignored: ${model.info.name} is a GGUF file, which runs the weights it holds (${model.info.precision ?? 'its own type'}); --dtype picks among an ONNX model's graphs\n`,
  );
}

/** A model's warning about its numbers (a non-normalised n-gram model), on stderr: its scores would otherwise be taken for probabilities. */
export function noteModelWarning(model: { info: ModelInfo }): void {
  if (model.info.warning) process.stderr.write(`lmp: warning: ${model.info.name}: ${model.info.warning}\n`);
}

export function deviceOption(value: string | undefined): NodeDevice {
  if (value === undefined || value === 'auto' || value === 'native' || value === 'wasm') return value ?? 'auto';
  throw new LmError(`--device must be auto, native or wasm, got ${JSON.stringify(value)}`);
}
