/** Compare Models' progress line: VS Code's notification shows no number for a progress bar, so the message carries the percentage. */

/** "gpt-classics (2 of 3) · 33 %": the model being scored and the share of the models already scored. */
export function compareProgressMessage(label: string, index: number, count: number): string {
  return `${label} (${index + 1} of ${count}) · ${Math.floor((100 * index) / count)}%`;
}
