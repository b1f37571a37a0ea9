/**
 * The n-gram file's check of the trie's links (linksHold, the fast passes run on every load)
 * against its definition, one loop per parent, on random tries and on every kind of forgery.
 */
import * as assert from 'assert';
import { linksHold } from '../../src/core/ngram/binaryFormat';

/** The definition: ranges ascend and stay inside words; within each range, ids in the vocabulary and strictly ascending. */
function linksHoldByDefinition(cs: Uint32Array, count: number, words: Uint32Array, V: number): boolean {
  for (let p = 0; p < count; p++) {
    if (cs[p + 1] < cs[p] || cs[p + 1] > words.length) return false;
    for (let c = cs[p]; c < cs[p + 1]; c++) if (words[c] >= V || (c > cs[p] && words[c] <= words[c - 1])) return false;
  }
  return true;
}

/** A seeded generator (mulberry32), so that a failure repeats. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** A valid trie level: `count` parents with 0 to `fanout` children each, ids ascending below V within each range. */
function validLevel(rand: () => number, count: number, fanout: number, V: number): { cs: Uint32Array; words: Uint32Array } {
  const cs = new Uint32Array(count + 1);
  const words: number[] = [];
  for (let p = 0; p < count; p++) {
    const children = Math.floor(rand() * (fanout + 1));
    let w = Math.floor(rand() * 3);
    for (let c = 0; c < children && w < V; c++) {
      words.push(w);
      w += 1 + Math.floor(rand() * 4);
    }
    cs[p + 1] = words.length;
  }
  return { cs, words: Uint32Array.from(words) };
}

describe('n-gram file: the check of the trie links', () => {
  it('accepts valid tries of every shape: empty ranges, single children, a range at the very end, word 0 after word 0 in the next range', () => {
    const rand = random(1);
    for (let t = 0; t < 300; t++) {
      const count = 1 + Math.floor(rand() * 200);
      const V = 2 + Math.floor(rand() * 60);
      const { cs, words } = validLevel(rand, count, Math.floor(rand() * 5), V);
      assert.ok(linksHoldByDefinition(cs, count, words, V));
      assert.ok(linksHold(cs, count, words, V), `trie ${t}`);
    }
  });

  it('agrees with the definition on every forgery: a word changed, ranges moved, an id at or above the vocabulary', () => {
    const rand = random(2);
    let refused = 0;
    for (let t = 0; t < 3000; t++) {
      const count = 1 + Math.floor(rand() * 100);
      const V = 2 + Math.floor(rand() * 40);
      const { cs, words } = validLevel(rand, count, 1 + Math.floor(rand() * 4), V);
      if (words.length === 0) continue;
      const kind = t % 4;
      if (kind === 0) words[Math.floor(rand() * words.length)] = Math.floor(rand() * (V + 2));
      else if (kind === 1) {
        // A boundary moved inside the words, keeping both ends (cs[0] = 0 and cs[count] = words.length).
        if (count < 2) continue;
        cs[1 + Math.floor(rand() * (count - 1))] = Math.floor(rand() * (words.length + 1));
      } else if (kind === 2) words[Math.floor(rand() * words.length)] = V + Math.floor(rand() * 2 ** 31);
      else {
        // Two neighbours swapped: out of order when they share a range.
        const c = Math.floor(rand() * (words.length - 1));
        [words[c], words[c + 1]] = [words[c + 1], words[c]];
      }
      const expected = linksHoldByDefinition(cs, count, words, V);
      if (!expected) refused++;
      assert.strictEqual(linksHold(cs, count, words, V), expected, `forgery ${t} (kind ${kind})`);
    }
    assert.ok(refused > 1000, `only ${refused} forgeries were bad tries`);
  });
});
