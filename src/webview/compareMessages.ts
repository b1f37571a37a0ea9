/** What the Compare Models panel shows (sent once, as JSON in the page). */
import type { ScoreSummary } from '../core/scoring';
import type { Curve } from '../editor/cumulativeSurprisal';

export interface CompareResult extends ScoreSummary {
  name: string;
  origin: string;
  active: boolean;
  description: string;
  scoreMs: number;
  loadMs: number;
  curve: Curve;
  /** A model trained on the workspace that learnt from this document: its figure is not a prediction of unseen text. */
  trainedOnText?: boolean;
}

export interface CompareView {
  title: string;
  chars: number;
  /** Best (lowest bits per character) first. */
  results: CompareResult[];
  failures: string[];
  /** Models left out by a cancel (shown so that the table is not read as the whole list). */
  notScored: string[];
}
