/**
 * A garbage collection of this thread's heap, for the training's threads. The arrays they share
 * (hundreds of MiB) stay allocated for as long as some thread's heap holds an object for them, and
 * a thread that allocates little collects late or not at all: the tokenizing worker, idle between
 * sorts, held every array it had been sent (order 5 on the shared corpus: 572 MiB against 395).
 * Node offers no other way to collect than V8's gc() (its flag set at run time; without it,
 * nothing happens).
 */
import * as v8 from 'v8';
import * as vm from 'vm';

let gc: (() => void) | undefined;

/** Looked up on the first call (the flag is set then, not when the module loads). */
export function collectGarbage(): void {
  gc ??= findGc();
  gc();
}

function findGc(): () => void {
  try {
    v8.setFlagsFromString('--expose-gc');
    const found: unknown = vm.runInNewContext('gc');
    if (typeof found === 'function') return found as () => void;
  } catch {
    // No gc(): the arrays are freed when the heap is next collected, or the thread ends.
  }
  return () => undefined;
}
