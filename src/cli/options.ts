/** Command-line options: parsing and checked values. */
import { parseArgs } from 'util';
import { LmError } from '../core/errors';
import type { NodeDevice } from '../node/neuralLoader';

export function parse<T extends Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new LmError((e as Error).message);
  }
}

export function intOption(value: string | undefined, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new LmError(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return n;
}

export function numberOption(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = value === 'inf' || value === 'Infinity' ? Infinity : Number(value);
  if (Number.isNaN(n) || value.trim() === '') throw new LmError(`--${name} must be a number, got ${JSON.stringify(value)}`);
  return n;
}

export function deviceOption(value: string | undefined): NodeDevice {
  if (value === undefined || value === 'auto' || value === 'native' || value === 'wasm') return value ?? 'auto';
  throw new LmError(`--device must be auto, native or wasm, got ${JSON.stringify(value)}`);
}
