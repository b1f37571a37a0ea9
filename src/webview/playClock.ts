/**
 * How long the Shannon game's model column has left, from its speed since the game's text was
 * set: a 135M-parameter model on a loaded machine plays a few characters a second, so a long
 * text takes hours, which the panel says rather than leave the user waiting.
 */
import { plural } from '../core/numberFormat';

export class PlayClock {
  private start: { computed: number; total: number; at: number } | undefined;

  constructor(private readonly now: () => number = () => Date.now()) {}

  /** " About 12 minutes left at this speed." once the rest is known to take over a minute; else "". */
  timeLeft(computed: number, total: number): string {
    const at = this.now();
    if (!this.start || this.start.total !== total || computed < this.start.computed) this.start = { computed, total, at };
    const done = computed - this.start.computed;
    const seconds = (at - this.start.at) / 1000;
    if (computed >= total || done <= 0 || seconds < 3) return '';
    const left = ((total - computed) * seconds) / done;
    if (left < 60) return '';
    return left < 5400
      ? ` About ${plural(Math.round(left / 60), 'minute')} left at this speed.`
      : ` About ${Math.round(left / 3600)} hours left at this speed: a smaller model, or a shorter text, plays faster.`;
  }
}
