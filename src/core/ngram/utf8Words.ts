/**
 * Word ids straight from UTF-8 bytes: a hash of byte strings in front of a Vocabulary, so that
 * counting a corpus makes a JavaScript string only for each new word, not for every token.
 */
import { Vocabulary } from './vocabulary';

export class Utf8Words {
  /** The bytes of every word known here, one after the other; word id i is bytes[start[i] .. start[i+1]). */
  private bytes = new Uint8Array(1 << 16);
  private start = new Uint32Array(1024);
  /** Slot → word id + 1 (0 = empty). */
  private table: Uint32Array;
  private known = 0;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private readonly encoder = new TextEncoder();

  /**
   * `expectedWords`: about how many distinct words will come (the table starts with room for
   * them instead of growing to them, each time hashing every word again).
   */
  constructor(
    readonly vocab: Vocabulary,
    expectedWords = 0,
  ) {
    let slots = 1 << 12;
    while (slots < 2 * expectedWords) slots <<= 1;
    this.table = new Uint32Array(slots);
    for (const w of vocab.allWords()) this.remember(this.encoder.encode(w), 0);
  }

  /** The id of the word bytes[from .. to), added to the vocabulary if new. */
  id(bytes: Uint8Array, from: number, to: number): number {
    let h = 0x811c9dc5;
    for (let i = from; i < to; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
    const mask = this.table.length - 1;
    const len = to - from;
    for (let slot = (h ^ (h >>> 15)) & mask; ; slot = (slot + 1) & mask) {
      const id1 = this.table[slot];
      if (id1 === 0) break;
      const s = this.start[id1 - 1];
      if (this.start[id1] - s !== len) continue;
      let same = true;
      for (let i = 0; i < len; i++) {
        if (this.bytes[s + i] !== bytes[from + i]) {
          same = false;
          break;
        }
      }
      if (same) return id1 - 1;
    }
    return this.remember(bytes.subarray(from, to), h);
  }

  /** Adds a word seen for the first time here (its vocabulary id may exist already). */
  private remember(word: Uint8Array, hash: number): number {
    if (hash === 0) {
      hash = 0x811c9dc5;
      for (let i = 0; i < word.length; i++) hash = Math.imul(hash ^ word[i], 0x01000193);
    }
    const id = this.vocab.add(this.decoder.decode(word));
    if (id !== this.known) throw new Error('the vocabulary gained words behind the byte index');
    const end = this.start[this.known] + word.length;
    if (end > this.bytes.length) this.bytes = grown(this.bytes, end * 2);
    this.bytes.set(word, this.start[this.known]);
    if (this.known + 2 > this.start.length) this.start = grown(this.start, this.start.length * 2);
    this.known++;
    this.start[this.known] = end;
    if (this.known * 2 > this.table.length) this.rehash();
    else this.place(id, hash);
    return id;
  }

  private place(id: number, hash: number): void {
    const mask = this.table.length - 1;
    let slot = (hash ^ (hash >>> 15)) & mask;
    while (this.table[slot] !== 0) slot = (slot + 1) & mask;
    this.table[slot] = id + 1;
  }

  private rehash(): void {
    this.table = new Uint32Array(this.table.length * 2);
    for (let id = 0; id < this.known; id++) {
      let h = 0x811c9dc5;
      for (let i = this.start[id]; i < this.start[id + 1]; i++) h = Math.imul(h ^ this.bytes[i], 0x01000193);
      this.place(id, h);
    }
  }
}

function grown<T extends Uint8Array | Uint32Array>(a: T, length: number): T {
  const b = new (a.constructor as new (n: number) => T)(length);
  b.set(a);
  return b;
}
