/**
 * An n-gram model's vocabulary sent from the worker thread that runs the model to the host, which
 * tokenizes. The worker builds all of it, the host nothing: the words' UTF-16 code units, where
 * each starts, and an open-addressing hash table of their ids, in typed arrays that the reply
 * moves to the host without a copy. The host's thread then does no work in proportion to the
 * vocabulary. (Indexing it there in a Map held that thread 45–60 ms at once when the Map grew past
 * 262,144 words, which V8 rehashes in one go; receiving the words as one string copied it, 50 ms
 * for 2,000,000 words.)
 */
import { randomSeed } from '../random';
import type { PretokenizerKind } from '../tokenizers/pretokenizers';
import { BOS, EOS, UNK } from '../tokenizers/pretokenizers';
import { NgramTokenizer } from './ngramLanguageModel';
import type { WordIds } from './vocabulary';

export interface PackedVocabulary {
  kind: PretokenizerKind;
  count: number;
  /** The words' UTF-16 code units, in id order, one after another. */
  units: Uint16Array;
  /** Where word i starts in `units`; entry `count` is `units.length`. */
  starts: Uint32Array;
  /** Open addressing with linear probing: a word's id at its hash's slot or the first free one after it; -1 where free. */
  slots: Int32Array;
  /** The hash's seed (hashOfString). */
  seed: number;
  /** The most slots any word lies past its hash's: a lookup looks no further. */
  longestProbe: number;
}

/** The buffers a reply moves to the host instead of copying. */
export function packedBuffers(packed: PackedVocabulary): ArrayBuffer[] {
  return [packed.units.buffer, packed.starts.buffer, packed.slots.buffer] as ArrayBuffer[];
}

/**
 * A seeded 32-bit hash of UTF-16 code units (a multiply-xor step per unit and MurmurHash3's
 * finaliser), the same for a word as a string and as packed units. Seeded per load: with a fixed
 * hash a model file can be written whose words all share one slot, so that every lookup on the
 * host walks all of them (hostile32: 65,539 such words made tokenizing 33,000 characters take
 * 313 ms instead of 2).
 */
export function hashOfString(word: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < word.length; i++) h = mixUnit(h, word.charCodeAt(i));
  return finish(h, word.length);
}

function hashOfUnits(units: Uint16Array, start: number, end: number, seed: number): number {
  let h = seed;
  for (let i = start; i < end; i++) h = mixUnit(h, units[i]);
  return finish(h, end - start);
}

function mixUnit(h: number, unit: number): number {
  h = Math.imul(h ^ unit, 0x5bd1e995);
  return h ^ (h >>> 15);
}

function finish(h: number, length: number): number {
  h ^= length;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The most slots a word may lie past its hash's: far above what a vocabulary meets by chance (its
 * longest run is a few dozen at a million words), far below what a host can afford to walk per word.
 */
const MAX_PROBES = 256;
/** Seeds tried before the vocabulary is refused as built to collide. */
const SEEDS_TRIED = 4;

/** The most code units `starts` can point into. */
const MAX_UNITS = 0xffffffff;

/** A power of two at least twice `count`: probes stay short with the table at most half full. */
function slotCount(count: number): number {
  let n = 2;
  while (n < 2 * count) n *= 2;
  return n;
}

/**
 * `nextSeed` gives the hash's seed, again when a seed gives too long a run of slots (tests choose
 * it): random per load, so that crafted collisions for one seed are not collisions for another.
 */
export function packVocabulary(tokenizer: NgramTokenizer, nextSeed: () => number = randomSeed): PackedVocabulary {
  const { vocab } = tokenizer;
  const count = vocab.size;
  const starts = new Uint32Array(count + 1);
  let total = 0;
  for (let i = 0; i < count; i++) {
    total += vocab.word(i).length;
    // Checked before the Uint32Array wraps it round.
    if (total > MAX_UNITS) throw new Error(`the vocabulary's words hold more than ${MAX_UNITS} characters, more than the host can be sent`);
    starts[i + 1] = total;
  }
  const units = new Uint16Array(starts[count]);
  for (let i = 0; i < count; i++) {
    const word = vocab.word(i);
    for (let j = 0; j < word.length; j++) units[starts[i] + j] = word.charCodeAt(j);
  }
  for (let attempt = 0; attempt < SEEDS_TRIED; attempt++) {
    const seed = nextSeed();
    const table = slotTable(units, starts, seed);
    if (table) return { kind: tokenizer.kind, count, units, starts, seed, ...table };
  }
  throw new Error(
    `the vocabulary's ${count} words collide in the hash table under ${SEEDS_TRIED} random seeds (more than ${MAX_PROBES} words share a run of slots), as in a file built to collide`,
  );
}

/** The open-addressing table of the words under `seed`, or undefined when a word lies more than MAX_PROBES slots past its own. */
function slotTable(units: Uint16Array, starts: Uint32Array, seed: number): { slots: Int32Array; longestProbe: number } | undefined {
  const count = starts.length - 1;
  const slots = new Int32Array(slotCount(count)).fill(-1);
  const mask = slots.length - 1;
  let longestProbe = 0;
  for (let i = 0; i < count; i++) {
    let slot = hashOfUnits(units, starts[i], starts[i + 1], seed) & mask;
    let probe = 0;
    while (slots[slot] >= 0) {
      slot = (slot + 1) & mask;
      // Given up at once: a crafted file would otherwise cost the worker time in the square of its words.
      if (++probe > MAX_PROBES) return undefined;
    }
    slots[slot] = i;
    longestProbe = Math.max(longestProbe, probe);
  }
  return { slots, longestProbe };
}

/** Code units turned into a string this many at a time: one argument each. */
const UNITS_PER_CALL = 4096;

/** The words of a packed vocabulary, looked up in the table the worker built. */
export class PackedWordIds implements WordIds {
  private readonly mask: number;
  readonly unkId: number | undefined;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;

  /** Checks that the parts' sizes agree; not each word, which would be the work in proportion to the vocabulary this avoids. */
  constructor(private readonly packed: PackedVocabulary) {
    const { units, count, starts, slots } = packed;
    if (starts.length !== count + 1 || starts[0] !== 0 || starts[count] !== units.length) {
      throw new Error(`the packed vocabulary's ${count} words do not fit its ${units.length} code units`);
    }
    if (slots.length < 2 * count || (slots.length & (slots.length - 1)) !== 0) {
      throw new Error(`the packed vocabulary's table has ${slots.length} slots for ${count} words`);
    }
    if (!(Number.isInteger(packed.longestProbe) && packed.longestProbe >= 0 && packed.longestProbe <= MAX_PROBES)) {
      throw new Error(`the packed vocabulary's longest probe (${packed.longestProbe}) is outside 0 to ${MAX_PROBES}`);
    }
    this.mask = slots.length - 1;
    this.unkId = this.id(UNK);
    this.bosId = this.id(BOS);
    this.eosId = this.id(EOS);
  }

  get size(): number {
    return this.packed.count;
  }

  id(word: string): number | undefined {
    const { units, starts, slots } = this.packed;
    let slot = hashOfString(word, this.packed.seed) & this.mask;
    for (let probe = 0; probe <= this.packed.longestProbe; probe++, slot = (slot + 1) & this.mask) {
      const id = slots[slot];
      if (id < 0) return undefined;
      const start = starts[id];
      if (starts[id + 1] - start !== word.length) continue;
      let j = 0;
      while (j < word.length && units[start + j] === word.charCodeAt(j)) j++;
      if (j === word.length) return id;
    }
    return undefined;
  }

  word(id: number): string {
    if (!(Number.isInteger(id) && id >= 0 && id < this.packed.count)) throw new RangeError(`no word with id ${id}`);
    const { units, starts } = this.packed;
    let word = '';
    for (let i = starts[id]; i < starts[id + 1]; i += UNITS_PER_CALL)
      word += String.fromCharCode(...units.subarray(i, Math.min(i + UNITS_PER_CALL, starts[id + 1])));
    return word;
  }
}

/** The host's tokenizer for a packed vocabulary: nothing is indexed, so it is ready at once whatever the vocabulary's size. */
export function unpackTokenizer(packed: PackedVocabulary): NgramTokenizer {
  return new NgramTokenizer(packed.kind, new PackedWordIds(packed));
}
