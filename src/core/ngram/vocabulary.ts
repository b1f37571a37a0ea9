/** Word strings ↔ integer ids. Trained models put <unk>, <s>, </s> at 0, 1, 2 as KenLM does. */
import { BOS, EOS, UNK } from '../tokenizers/pretokenizers';

/** The most words a vocabulary holds: a JavaScript Map takes at most 2^24 entries. */
export const MAX_VOCABULARY = 16_000_000;

/** A vocabulary as a tokenizer reads it: the id of a word, the word of an id. */
export interface WordIds {
  readonly size: number;
  id(word: string): number | undefined;
  word(id: number): string;
  readonly unkId: number | undefined;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
}

export class Vocabulary implements WordIds {
  private readonly ids = new Map<string, number>();
  private readonly words: string[] = [];

  static withSpecials(): Vocabulary {
    const v = new Vocabulary();
    v.add(UNK);
    v.add(BOS);
    v.add(EOS);
    return v;
  }

  static fromWords(words: readonly string[]): Vocabulary {
    if (words.length > MAX_VOCABULARY) throw new Error(`${words.length} words are more than a vocabulary holds (${MAX_VOCABULARY})`);
    const v = new Vocabulary();
    for (let i = 0; i < words.length; i++) {
      if (v.add(words[i]) !== i) throw new Error(`duplicate vocabulary word ${JSON.stringify(words[i])}`);
    }
    return v;
  }

  get size(): number {
    return this.words.length;
  }

  /** Id of `word`, adding it if new. */
  add(word: string): number {
    let id = this.ids.get(word);
    if (id === undefined) {
      id = this.words.length;
      this.ids.set(word, id);
      this.words.push(word);
    }
    return id;
  }

  id(word: string): number | undefined {
    return this.ids.get(word);
  }

  word(id: number): string {
    const w = this.words[id];
    if (w === undefined) throw new RangeError(`no word with id ${id}`);
    return w;
  }

  // A word's id never changes once added: the specials' ids are looked up until they exist, then kept.
  private specials: Record<string, number | undefined> = {};
  private special(word: string): number | undefined {
    return (this.specials[word] ??= this.ids.get(word));
  }

  get unkId(): number | undefined {
    return this.special(UNK);
  }
  get bosId(): number | undefined {
    return this.special(BOS);
  }
  get eosId(): number | undefined {
    return this.special(EOS);
  }

  allWords(): readonly string[] {
    return this.words;
  }
}
