/**
 * The size of the next piece of a long request cut into pieces of about `targetMs` each (the
 * heat-map's chunks, the status bar's scoring): scaled by how far the last piece was from the
 * target, at most 4× up or down at a time, at least 16 tokens, at most 8,192.
 */
export function nextPieceSize(size: number, tookMs: number, targetMs: number): number {
  return Math.max(16, Math.min(8192, Math.round(size * Math.min(4, Math.max(0.25, targetMs / Math.max(1, tookMs))))));
}
