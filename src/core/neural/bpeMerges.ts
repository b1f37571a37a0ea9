/**
 * Byte-pair merges over a sequence of symbols in O(n log n): a linked list of symbols and a binary
 * heap of candidate merges ordered by (rank, position), so that a text that is one long word (a
 * SentencePiece layout without pre-tokenizer hands BPE the whole text) costs no more than its words.
 * The rule is Hugging Face's: repeatedly merge the adjacent pair with the lowest merge rank, the
 * leftmost of equal ranks.
 */
import { ModelFormatError } from '../errors';

export class BpeMerges {
  /** rank of the merge of (left, right), keyed by left * vocabSize + right. */
  private readonly rankOf = new Map<number, number>();
  /** Token id produced by the merge of each rank. */
  private readonly merged: Int32Array;

  /**
   * `merges` in rank order, as tokenizer.json writes them ("a b" or ["a", "b"]); each part and
   * their concatenation must be tokens of `vocab`.
   */
  constructor(
    private readonly vocab: ReadonlyMap<string, number>,
    private readonly vocabSize: number,
    merges: readonly unknown[],
    fileName: string,
  ) {
    this.merged = new Int32Array(merges.length);
    merges.forEach((m, rank) => {
      const pair = typeof m === 'string' ? splitMerge(m) : m;
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
        throw new ModelFormatError(`merge ${rank} is ${JSON.stringify(m)}, not two tokens ("a b" or ["a", "b"])`, fileName);
      }
      const [a, b] = pair as [string, string];
      const left = vocab.get(a);
      const right = vocab.get(b);
      const result = vocab.get(a + b);
      if (left === undefined || right === undefined || result === undefined) {
        const missing = [a, b, a + b].find((t) => !vocab.has(t));
        throw new ModelFormatError(
          `merge ${rank} (${JSON.stringify(a)} + ${JSON.stringify(b)}) uses ${JSON.stringify(missing)}, which is not in the vocabulary`,
          fileName,
        );
      }
      const key = left * vocabSize + right;
      // A repeated merge keeps its first (best) rank, as the Hugging Face implementation does.
      if (!this.rankOf.has(key)) this.rankOf.set(key, rank);
      this.merged[rank] = result;
    });
  }

  /** The token of `text` when the vocabulary has it as a whole. */
  token(text: string): number | undefined {
    return this.vocab.get(text);
  }

  /**
   * Merges `ids` (length n; -1 for a symbol outside the vocabulary, which never merges) in place.
   * Returns `next`: the surviving symbols are 0, next[0], next[next[0]], … until -1; a merged
   * symbol keeps the position of its left part and spans up to the start of the next survivor.
   */
  merge(ids: Int32Array, n: number): Int32Array {
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    const heap = new MergeHeap(n);
    const V = this.vocabSize;
    const push = (pos: number) => {
      const right = next[pos];
      if (right < 0 || ids[pos] < 0 || ids[right] < 0) return;
      const rank = this.rankOf.get(ids[pos] * V + ids[right]);
      if (rank !== undefined) heap.push(rank, pos);
    };
    for (let i = 0; i + 1 < n; i++) push(i);
    while (heap.size > 0) {
      const rank = heap.topRank();
      const pos = heap.pop();
      // Stale entries: the symbol was merged into its left neighbour (removed), or it or its right
      // neighbour changed since the entry was pushed, so that the pair is no longer this merge.
      const right = next[pos];
      if (ids[pos] < 0 || right < 0 || ids[right] < 0 || this.rankOf.get(ids[pos] * V + ids[right]) !== rank) continue;
      ids[pos] = this.merged[rank];
      ids[right] = -2;
      const after = next[right];
      next[pos] = after;
      if (after >= 0) prev[after] = pos;
      if (prev[pos] >= 0) push(prev[pos]);
      push(pos);
    }
    return next;
  }
}

/** "a b" → ["a", "b"]: tokenizer.json's older merge format (tokens never hold a space there). */
function splitMerge(m: string): [string, string] | undefined {
  const space = m.indexOf(' ');
  return space > 0 ? [m.slice(0, space), m.slice(space + 1)] : undefined;
}

/** A binary min-heap of (rank, position) pairs, ordered by rank and then position. */
class MergeHeap {
  private ranks: Int32Array;
  private positions: Int32Array;
  size = 0;

  constructor(capacity: number) {
    this.ranks = new Int32Array(Math.max(16, capacity));
    this.positions = new Int32Array(Math.max(16, capacity));
  }

  topRank(): number {
    return this.ranks[0];
  }

  push(rank: number, pos: number): void {
    if (this.size === this.ranks.length) this.grow();
    const r = this.ranks;
    const p = this.positions;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (r[parent] < rank || (r[parent] === rank && p[parent] < pos)) break;
      r[i] = r[parent];
      p[i] = p[parent];
      i = parent;
    }
    r[i] = rank;
    p[i] = pos;
  }

  /** Removes the smallest entry and returns its position. */
  pop(): number {
    const r = this.ranks;
    const p = this.positions;
    const top = p[0];
    const n = --this.size;
    const rank = r[n];
    const pos = p[n];
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && (r[child + 1] < r[child] || (r[child + 1] === r[child] && p[child + 1] < p[child]))) child++;
      if (rank < r[child] || (rank === r[child] && pos < p[child])) break;
      r[i] = r[child];
      p[i] = p[child];
      i = child;
    }
    r[i] = rank;
    p[i] = pos;
    return top;
  }

  private grow(): void {
    const ranks = new Int32Array(this.ranks.length * 2);
    const positions = new Int32Array(this.positions.length * 2);
    ranks.set(this.ranks);
    positions.set(this.positions);
    this.ranks = ranks;
    this.positions = positions;
  }
}
