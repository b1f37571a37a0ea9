/**
 * An n-gram model's vocabulary sent from the worker thread that runs the model to the host, which
 * tokenizes. The worker builds all of it, the host nothing: the words' UTF-16 code units, where
 * each starts, and an open-addressing hash table of their ids, in typed arrays that the reply
 * moves to the host without a copy. The host's thread then does no work in proportion to the
 * vocabulary. (Indexing it there in a Map held that thread 45–60 ms at once when the Map grew past
 * 262,144 words, which V8 rehashes in one go; receiving the words as one string copied it, 50 ms
 * for 2,000,000 words.)
 */
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
}

/** The buffers a reply moves to the host instead of copying. */
export function packedBuffers(packed: PackedVocabulary): ArrayBuffer[] {
  return [packed.units.buffer, packed.starts.buffer, packed.slots.buffer] as ArrayBuffer[];
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** 32-bit FNV-1a over UTF-16 code units; the same for a word as a string and as packed units. */
function hashOfString(word: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), FNV_PRIME);
  return h >>> 0;
}

function hashOfUnits(units: Uint16Array, start: number, end: number): number {
  let h = FNV_OFFSET;
  for (let i = start; i < end; i++) h = Math.imul(h ^ units[i], FNV_PRIME);
  return h >>> 0;
}

/** The most code units `starts` can point into. */
const MAX_UNITS = 0xffffffff;

/** A power of two at least twice `count`: probes stay short with the table at most half full. */
function slotCount(count: number): number {
  let n = 2;
  while (n < 2 * count) n *= 2;
  return n;
}

export function packVocabulary(tokenizer: NgramTokenizer): PackedVocabulary {
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
  const slots = new Int32Array(slotCount(count)).fill(-1);
  const mask = slots.length - 1;
  for (let i = 0; i < count; i++) {
    let slot = hashOfUnits(units, starts[i], starts[i + 1]) & mask;
    while (slots[slot] >= 0) slot = (slot + 1) & mask;
    slots[slot] = i;
  }
  return { kind: tokenizer.kind, count, units, starts, slots };
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
    let slot = hashOfString(word) & this.mask;
    // At most one round of the table, should a broken one have no free slot.
    for (let probes = 0; probes < slots.length; probes++, slot = (slot + 1) & this.mask) {
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
