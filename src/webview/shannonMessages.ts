/** Messages between the Shannon game panel (webview) and the extension, which owns the game. */
import type { AlphabetKind } from '../core/shannon/alphabet';
import type { GameStats } from '../core/shannon/game';
import type { BoundsReading } from '../core/shannon/bounds';
import type { ShannonPageMessage } from '../core/shannon/validation';

export interface PlayedRow {
  position: number;
  char: string;
  guesses: number;
  wrong: string;
  modelRank?: number;
  modelBits?: number;
}

export interface ShannonView {
  game?: {
    /** Changes with each new game. */
    id: string;
    title: string;
    /** Which of `sources` it was started from ('editor' for a file or selection). */
    source: string;
    alphabet: AlphabetKind;
    window: number;
    symbols: string[];
    length: number;
    position: number;
    visible: string;
    pending: string[];
    finished: boolean;
  };
  stats?: GameStats;
  /** The last played characters, newest first. */
  recent: PlayedRow[];
  pooled: { alphabet: AlphabetKind; games: number; played: number; bounds: BoundsReading }[];
  sources: { id: string; label: string }[];
  model: { name?: string; computed: number; total: number; error?: string; /** Over every character it has played. */ bitsPerChar?: number };
  /** Feedback on the last key, e.g. "wrong" or "not in the alphabet". */
  feedback?: { kind: 'right' | 'wrong' | 'forced' | 'repeated' | 'outside' | 'finished' | 'info' | 'error'; text: string };
}

export type ToPanel = { type: 'view'; view: ShannonView };

/** Checked by checkPageMessage before the extension acts on it. */
export type FromPanel = ShannonPageMessage;
