/**
 * What the document-entropy status bar item is doing, apart from VS Code (vscode/documentMetrics.ts
 * wires it): scoring a text (a job), waiting for a heat-map that scores the same document, or
 * neither; which number it shows, of which text and model; and the item's text. A text is named
 * by a key (document, version, scope: `textKey`), so a cursor move within the same text starts nothing.
 */

/** The key of a text: `uri@version:scope`, scope `document` or a selection's `start-end` offsets. */
export function textKey(uri: string, version: number, scope: string): string {
  return `${uri}@${version}:${scope}`;
}

/** The key without its version: the same document and scope before and after an edit. */
function withoutVersion(key: string): string {
  return key.replace(/@\d+:(?=[^:]*$)/, ':');
}

/** A scoring run: cancelled when another text, model or setting takes over. */
export interface MetricsJob {
  cancelled: boolean;
  readonly key: string;
}

/** The item's icon beside a number of the text as it is, and beside a "…" or a number of the text before an edit. */
export const SHOWN_ICON = '$(pulse)';
export const RECOMPUTING_ICON = '$(sync~spin)';

export class MetricsState<M> {
  private job: MetricsJob | undefined;
  /** The text whose number waits for the heat-map scoring the same document. */
  private waitingKey: string | undefined;
  private shownKey: string | undefined;
  private shownModel: M | undefined;
  /** The bits/char the item shows (maybe of the text before an edit); undefined: a "…". */
  number: string | undefined;
  /** What part of the text the number covers, when not all of it (`first 50,000 chars`). */
  private part: string | undefined;
  /** Whether the number is of the text as it is (no edit, scoring or wait since). */
  current = false;

  /** Whether `key` needs a run: not when the same text is being scored, waited for or shown (a cursor move), unless forced. */
  wants(key: string | undefined, force = false): boolean {
    if (force || key === undefined) return true;
    return this.job ? this.job.key !== key : (this.waitingKey ?? this.shownKey) !== key;
  }

  /** Another run comes: the job stops and the wait ends. */
  stop(): void {
    if (this.job) this.job.cancelled = true;
    this.job = undefined;
    this.waitingKey = undefined;
  }

  /** A run for `key`: the one before stops, and a number of another text goes (`dropIfOtherText`). */
  start(key: string): MetricsJob {
    this.stop();
    this.dropIfOtherText(key);
    this.job = { cancelled: false, key };
    return this.job;
  }

  /** The job's text waits for the heat-map instead of being scored (its scoring, if any, stops). False when no job runs. */
  waitForHeatmap(): boolean {
    const job = this.job;
    if (!job) return false;
    job.cancelled = true;
    this.job = undefined;
    this.waitingKey = job.key;
    return true;
  }

  /** Whether the number shown covers only part of its text (`shown`'s `part`). */
  get partial(): boolean {
    return this.number !== undefined && this.part !== undefined;
  }

  get waiting(): boolean {
    return this.waitingKey !== undefined;
  }

  /** The job failed or gave way: it no longer runs. */
  ended(job: MetricsJob): void {
    if (this.job === job) this.job = undefined;
  }

  /** The job's number, `bitsPerChar` under `model`, is shown; `part` says what part of the text it covers when not all. */
  shown(job: MetricsJob, model: M, bitsPerChar: string, part?: string): void {
    this.ended(job);
    this.shownKey = job.key;
    this.shownModel = model;
    this.number = bitsPerChar;
    this.part = part;
    this.current = true;
  }

  /** No number (the item hides, or failed). */
  hidden(): void {
    this.shownKey = undefined;
    this.number = undefined;
    this.part = undefined;
    this.current = false;
  }

  /** An edit: the number shown is of the text before it. */
  edited(): void {
    this.current = false;
  }

  /**
   * Another text than the one whose number is shown (another document, the selection instead of
   * the document or another selection): its number goes, as it is not a number of this text at
   * all (drive6: a selection's 5.57 shown as the document's "number before the last edit"). The
   * same document and scope after an edit keep it, marked as of the text before the edit. True
   * when it went.
   */
  dropIfOtherText(key: string | undefined): boolean {
    if (this.shownKey === undefined || this.shownKey === key) return false;
    if (key !== undefined && withoutVersion(this.shownKey) === withoutVersion(key)) {
      this.current = false;
      return false;
    }
    this.number = undefined;
    this.part = undefined;
    this.current = false;
    return true;
  }

  /** Another model than the one whose number is shown: its number goes. True when it went. */
  dropIfOtherModel(model: M | undefined): boolean {
    if (model === this.shownModel) return false;
    this.number = undefined;
    this.part = undefined;
    this.current = false;
    return true;
  }

  /**
   * The item's text: the number (or "…") with its icon and the part of the text it covers when not
   * all (drive22 M1: only the tooltip said so), and while a new one is coming how far it is (`12%`,
   * `heat-map 12%`), beside an old number too.
   */
  text(progress?: string): string {
    const icon = this.current && progress === undefined ? SHOWN_ICON : RECOMPUTING_ICON;
    const part = this.partial ? ` of ${this.part}` : '';
    return `${icon} ${this.number ?? '…'} bits/char${part}${progress !== undefined ? ` (${progress})` : ''}`;
  }
}
