/**
 * The radix sort of radixSort.ts on two threads, for records in shared memory: each thread moves
 * half of the records in every pass, in step with the other. Each pass, the two threads' digit
 * counts give every digit's places (the first thread's records of a digit before the second's),
 * so the result is the one-thread sort's, record for record. While it moves its half, a thread
 * counts the next pass's digits of the records it writes, apart for each half of the target, so
 * that each thread knows the counts of the half it reads next without reading it again.
 *
 * Pure JavaScript (SharedArrayBuffer, Atomics): the thread that helps is the caller's business.
 */
import { LmError } from '../errors';
import { copyRecord, digitPlan, radixSortRecords } from './radixSort';

/** Below this many records a sort is done on one thread: a pass over them takes less than meeting the other thread. */
export const SHARED_SORT_MIN_RECORDS = 1 << 16;

/** A sort of records in shared memory that two threads run together (see sortShare). */
export interface SharedSortJob {
  records: Uint32Array;
  spare: Uint32Array;
  count: number;
  stride: number;
  key: number;
  limit: number;
  sortedBits: number;
  /** Shared: the barrier's two words, then the digit counts the threads exchange. */
  sync: Int32Array;
}

/** Another thread that runs `sortShare(job, 1)` on its own when asked (its memory is shared with this one). */
export interface SortHelper {
  start(job: SharedSortJob): void;
}

/** A Uint32Array over shared memory when the runtime has it (a browser page without cross-origin isolation does not). */
export function sharedUint32(length: number): Uint32Array {
  return typeof SharedArrayBuffer === 'function' ? new Uint32Array(new SharedArrayBuffer(length * 4)) : new Uint32Array(length);
}

/** Whether an array lies in shared memory, which a helper thread can sort or fill with this one. */
export const isShared = (a: Uint32Array): boolean => typeof SharedArrayBuffer === 'function' && a.buffer instanceof SharedArrayBuffer;

/**
 * radixSortRecords, on two threads when a helper is given and both arrays are shared memory (and
 * there are enough records); the same result either way, in the same array.
 */
export function sortRecords(
  records: Uint32Array,
  spare: Uint32Array,
  count: number,
  stride: number,
  key: number,
  limit: number,
  sortedBits = 0,
  helper?: SortHelper,
): Uint32Array {
  const { passes, digitBits } = digitPlan(limit, sortedBits);
  if (!helper || passes === 0 || count < SHARED_SORT_MIN_RECORDS || !isShared(records) || !isShared(spare))
    return radixSortRecords(records, spare, count, stride, key, limit, sortedBits);
  const digits = 1 << digitBits;
  // Two barrier words, each thread's digit counts of its half, and the next pass's counts by thread and target half.
  const sync = new Int32Array(new SharedArrayBuffer((2 + 2 * digits + 4 * digits) * 4));
  const job: SharedSortJob = { records, spare, count, stride, key, limit, sortedBits, sync };
  helper.start(job);
  return sortShare(job, 0);
}

/**
 * How long a thread waits at a barrier for the other: its share of a pass takes about what this
 * thread's took (seconds for a corpus of hundreds of MB); a thread that stopped would never come.
 */
const BARRIER_TIMEOUT_MS = 120_000;

/** Both threads arrive before either goes on (a generation count, so that it can be used again). */
export function barrier(sync: Int32Array): void {
  const generation = Atomics.load(sync, 1);
  if (Atomics.add(sync, 0, 1) === 1) {
    Atomics.store(sync, 0, 0);
    Atomics.add(sync, 1, 1);
    Atomics.notify(sync, 1);
    return;
  }
  const until = Date.now() + BARRIER_TIMEOUT_MS;
  while (Atomics.load(sync, 1) === generation) {
    const left = until - Date.now();
    if (left <= 0) throw new LmError(`the thread helping to sort did not answer for ${BARRIER_TIMEOUT_MS / 1000} s (it stopped?)`);
    Atomics.wait(sync, 1, generation, left);
  }
}

/**
 * One thread's share of a shared sort: `party` 0 moves the first half of the records in each pass,
 * 1 the second half. Returns the array that holds the sorted records (the same for both).
 */
export function sortShare(job: SharedSortJob, party: 0 | 1): Uint32Array {
  const { records, spare, count, stride, key, limit, sortedBits, sync } = job;
  const { passes, digitBits } = digitPlan(limit, sortedBits);
  if (passes === 0) return records;
  const digits = 1 << digitBits;
  const mask = digits - 1;
  const half = count >>> 1;
  const lo = party === 0 ? 0 : half;
  const hi = party === 0 ? half : count;
  // counts: each thread's digit counts of the half it reads; next: counted by each thread while it moves, target's first half then second.
  const countsAt = (t: number) => new Int32Array(sync.buffer, (2 + t * digits) * 4, digits);
  const nextAt = (t: number) => new Int32Array(sync.buffer, (2 + 2 * digits + 2 * t * digits) * 4, 2 * digits);
  const first = countsAt(0);
  const second = countsAt(1);
  const mine = party === 0 ? first : second;
  const nextMine = nextAt(party);
  const nextFirst = nextAt(0);
  const nextSecond = nextAt(1);
  mine.fill(0);
  for (let i = lo, at = lo * stride + key; i < hi; i++, at += stride) mine[(records[at] >>> sortedBits) & mask]++;
  const place = new Uint32Array(digits);
  let from = records;
  let to = spare;
  for (let p = 0, shift = sortedBits; p < passes; p++, shift += digitBits) {
    barrier(sync);
    // Digit d's records go after all records of smaller digits; the first thread's before the second's.
    let sum = 0;
    for (let d = 0; d < digits; d++) {
      place[d] = sum + (party === 1 ? first[d] : 0);
      sum += first[d] + second[d];
    }
    const lastPass = p + 1 === passes;
    nextMine.fill(0);
    moveShare(from, to, lo, hi, stride, key, shift, lastPass ? 32 : shift + digitBits, mask, place, half, nextMine);
    // Both halves written (and their next counts): each thread's half to read next is whole.
    barrier(sync);
    const at = party === 0 ? 0 : digits;
    if (!lastPass) for (let d = 0; d < digits; d++) mine[d] = nextFirst[at + d] + nextSecond[at + d];
    const t = from;
    from = to;
    to = t;
  }
  return from;
}

/**
 * Records lo..hi-1 of `from` to the places their digit (key >>> shift) gives in `to`, counting the
 * next pass's digit (key >>> nextShift; none when nextShift is 32) in `next`: its first `mask + 1`
 * for records written below `half`, the rest for those above.
 */
function moveShare(
  from: Uint32Array,
  to: Uint32Array,
  lo: number,
  hi: number,
  stride: number,
  key: number,
  shift: number,
  nextShift: number,
  mask: number,
  place: Uint32Array,
  half: number,
  next: Int32Array,
): void {
  const counting = nextShift !== 32;
  const upper = mask + 1;
  for (let i = lo, at = lo * stride; i < hi; i++, at += stride) {
    const k = from[at + key];
    const slot = place[(k >>> shift) & mask]++;
    if (counting) next[(slot < half ? 0 : upper) + ((k >>> nextShift) & mask)]++;
    copyRecord(from, at, to, slot * stride, stride);
  }
}
