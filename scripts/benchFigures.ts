/** How the benchmark scripts summarise and print their figures, shared so that every table reads alike. */
export { median } from '../src/node/neuralBench';

/** A figure to 3 significant digits, with thousands separators. */
export const fmt = (x: number, digits = 3): string => Number(x.toPrecision(digits)).toLocaleString('en-US');

/** Where a section writes its lines (the console and docs/BENCHMARKS.md). */
export type Say = (s?: string) => void;
