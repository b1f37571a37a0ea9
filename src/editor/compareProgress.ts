/** Compare Models' progress line: VS Code's notification shows no number for a progress bar, so the message carries the percentage. */

/**
 * "gpt-classics (2 of 3) · 50%": the model being scored and the share of the work done, the models
 * before it and `share` (0 to 1) of its own text: on a long text one model takes most of the run,
 * and a share counted in whole models stood still meanwhile (drive13 M3).
 */
export function compareProgressMessage(label: string, index: number, count: number, share = 0): string {
  return `${label} (${index + 1} of ${count}) · ${comparePercent(index, count, share)}%`;
}

/** The whole percent of a comparison done: `index` models of `count` and `share` of the next. */
export function comparePercent(index: number, count: number, share = 0): number {
  return Math.floor((100 * (index + Math.min(1, Math.max(0, share)))) / count);
}
