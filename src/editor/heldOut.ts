/** Held-out text for judging a model trained on a workspace: the last tenth of each file. */
const HELD_OUT = 0.1;

/** Training and held-out text of one file; the held-out part starts at a line start. */
export function splitHeldOut(text: string): { train: string; heldOut: string } {
  const cut = text.lastIndexOf('\n', Math.floor(text.length * (1 - HELD_OUT)));
  if (cut <= 0) return { train: text, heldOut: '' };
  return { train: text.slice(0, cut + 1), heldOut: text.slice(cut + 1) };
}
