/**
 * A local model's two caches ("lanes") of token sequences: the main one, a window long, and a
 * small side one. The editor's surfaces share one model: the heat-map and the status bar walk a
 * long document, inline completions and the playground ask at the cursor, hovers at any line. With
 * one cache, a short request far from what it holds (a hover near the top of a long document,
 * another request of `lmp serve --concurrency 2`) threw the long sequence away, and the next
 * keystroke at the end read the whole document again (hostile G5: 83 ms → 60.8 s for 3,000 tokens
 * of a 135M model). So a request runs on the lane where it costs least: the tokens it has to run
 * now plus the cached tokens it throws away, which the long sequence's next request would run
 * again. A request the side lane cannot hold runs on the main one; ties go to the main one.
 *
 * That rule keeps a long sequence nobody asks for any more (the last completion of `lmp serve`)
 * while two new requests taking turns throw each other out of the other lane at every step. So a
 * request that takes up the sequence the last eviction threw away, when neither lane holds its
 * start, runs on the lane used least recently instead: from then on each of the two has a lane;
 * unless the sequence it throws away is more than STALE_LOSS_RATIO times the other lane's.
 */

/**
 * Tokens of the side lane: an inline completion's prompt or a hover's window (4,000 characters,
 * `lmPlayground.contextChars`) at two characters a token, and much less memory than a window.
 * At 1,024 a SmolLM2 tokenizer's 4,000 characters (about 1,450 tokens of English prose) did not
 * fit: the hover warm-up after every edit ran on the main lane and threw the document away, so
 * the status bar's next ten tokens read 7,700 again (drive7: three minutes on a 135M GGUF).
 */
export const SIDE_LANE_TOKENS = 2048;

export type Lane = 'main' | 'side';

/** How much longer than the other lane's sequence the least recently used lane's may be for the taking-turns rule to throw it away. */
const STALE_LOSS_RATIO = 3;

/** What running a request on one lane costs, in tokens. */
export interface LaneCost {
  /** Tokens the request runs (those after the prefix it shares with the lane's sequence). */
  run: number;
  /** Cached tokens the run throws away (0 when the request extends the sequence, or when the lane keeps the longer one). */
  lost: number;
}

/** The lane where a request costs least: `side` is undefined when the request does not fit the side lane. */
export function chooseLane(main: LaneCost, side: LaneCost | undefined): Lane {
  if (!side) return 'main';
  return side.run + side.lost < main.run + main.lost ? 'side' : 'main';
}

/** Which lane each request runs on, remembering when each lane was last used and the last sequence thrown away. */
export class LaneChooser {
  private clock = 0;
  private readonly used: Record<Lane, number> = { main: 0, side: 0 };
  /** The tokens the last eviction threw away. */
  private evicted: readonly number[] | undefined;

  /** The lane for `tokens` (the sequence as the caller stores it), given what each lane would cost. */
  choose(tokens: readonly number[], main: LaneCost, side: LaneCost | undefined): Lane {
    let lane = chooseLane(main, side);
    if (side && main.lost > 0 && side.lost > 0 && this.evicted && startsWith(tokens, this.evicted)) {
      const stale: Lane = this.used.side < this.used.main ? 'side' : 'main';
      const [lost, kept] = stale === 'main' ? [main.lost, side.lost] : [side.lost, main.lost];
      // Not when that throws away a sequence many times longer than the other lane's: an editor's
      // document (7,700 tokens) that the status bar asks for at every edit, against hover windows
      // of 1,500 taking turns in the side lane (drive8: minutes for the next number, 5 edits of 11).
      if (lost <= STALE_LOSS_RATIO * kept) lane = stale;
    }
    this.used[lane] = ++this.clock;
    return lane;
  }

  /** The lane chosen threw `tokens` away (its sequence before the run). */
  threwAway(tokens: readonly number[]): void {
    this.evicted = tokens.slice();
  }
}

function startsWith(a: readonly number[], prefix: readonly number[]): boolean {
  if (prefix.length === 0 || prefix.length > a.length) return false;
  for (let i = prefix.length - 1; i >= 0; i--) if (a[i] !== prefix[i]) return false;
  return true;
}
