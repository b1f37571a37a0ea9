/**
 * Where a tooltip goes so that it stays inside the panel: below its anchor when it fits, else
 * above, else on the roomier side clamped to the viewport; its left edge clamped the same way.
 * Viewport coordinates (the tooltip is `position: fixed`). Pure, for unit tests.
 */

export interface AnchorRect {
  left: number;
  top: number;
  bottom: number;
}

export interface Size {
  width: number;
  height: number;
}

/** Pixels between the anchor and the tooltip, and kept free at the viewport's edges. */
export const TOOLTIP_GAP = 4;

export function placeTooltip(anchor: AnchorRect, tip: Size, viewport: Size): { left: number; top: number; side: 'below' | 'above' } {
  const clamp = (x: number, lo: number, hi: number) => Math.max(lo, Math.min(x, hi));
  const left = clamp(anchor.left, TOOLTIP_GAP, Math.max(TOOLTIP_GAP, viewport.width - tip.width - TOOLTIP_GAP));
  const below = anchor.bottom + TOOLTIP_GAP;
  const above = anchor.top - TOOLTIP_GAP - tip.height;
  const maxTop = Math.max(TOOLTIP_GAP, viewport.height - tip.height - TOOLTIP_GAP);
  if (below + tip.height <= viewport.height - TOOLTIP_GAP) return { left, top: below, side: 'below' };
  if (above >= TOOLTIP_GAP) return { left, top: above, side: 'above' };
  // Fits on neither side: the side with more room, clamped (the tooltip scrolls if taller than the panel).
  const roomBelow = viewport.height - anchor.bottom;
  return roomBelow >= anchor.top
    ? { left, top: clamp(below, TOOLTIP_GAP, maxTop), side: 'below' }
    : { left, top: clamp(above, TOOLTIP_GAP, maxTop), side: 'above' };
}
