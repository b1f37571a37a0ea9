/**
 * The tree of continuations of one completion: "branch from here" on any alternative of a
 * generated token continues the generation from that choice, and the new branch hangs from the
 * branch that owns the token, at that token. Nothing is replaced: every branch keeps its tokens.
 * A branch's path is its ancestors' tokens up to where it diverged, then its own; its probability
 * is the product of its path's tokens' p (from the prompt on, the prompt not counted).
 */
import type { FinishReason, GeneratedToken } from '../core/generation';
import type { Alternative } from '../core/scoring';

export interface Branch {
  id: number;
  /** The branch it left; undefined for the completion itself. */
  parent?: number;
  /** Index in the path of its first own token: where it diverged (0 for the completion). */
  at: number;
  /** Its own tokens: for a branch, the chosen alternative first, then what was generated after it. */
  tokens: GeneratedToken[];
  /** Why its generation ended; undefined while it runs (or when it was stopped, or failed). */
  finishReason?: FinishReason;
  /** Why its generation failed (the engine's error), when it did. */
  failed?: string;
  /** The seed of each generation that made its tokens (branchSeed): one, or more when a stopped branch was continued. */
  seeds?: number[];
}

/**
 * A branch's own seed, from the run's and the path it continues (the prompt's tokens not
 * included): a branch started with the run's seed would replay the run's random draws from its
 * first token on (at T = ∞ the branch would repeat the completion word for word). In [0, 2³²), as
 * `lmp generate --seed` takes it, so the row's seed reproduces the branch.
 */
export function branchSeed(seed: number, path: readonly number[]): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const id of [...path, path.length]) {
    h = Math.imul(h ^ id, 0x01000193) >>> 0;
    h = (h ^ (h >>> 15)) >>> 0;
  }
  return h;
}

export class BranchTree {
  private readonly branches: Branch[] = [];

  constructor(tokens: readonly GeneratedToken[], finishReason?: FinishReason) {
    this.branches.push({ id: 0, at: 0, tokens: [...tokens], finishReason });
  }

  get size(): number {
    return this.branches.length;
  }

  branch(id: number): Branch {
    const b = this.branches[id];
    if (!b) throw new Error(`no branch ${id}`);
    return b;
  }

  /** Every branch, each after its parent (depth first, children in the order they were made). */
  ordered(): Branch[] {
    const out: Branch[] = [];
    const visit = (b: Branch) => {
      out.push(b);
      for (const c of this.children(b.id)) visit(c);
    };
    visit(this.branches[0]);
    return out;
  }

  children(id: number): Branch[] {
    return this.branches.filter((b) => b.parent === id).sort((a, b) => a.at - b.at || a.id - b.id);
  }

  depth(id: number): number {
    let d = 0;
    for (let b = this.branch(id); b.parent !== undefined; b = this.branch(b.parent)) d++;
    return d;
  }

  /** The tokens from the prompt to the branch's end. */
  path(id: number): GeneratedToken[] {
    const b = this.branch(id);
    return b.parent === undefined ? [...b.tokens] : [...this.path(b.parent).slice(0, b.at), ...b.tokens];
  }

  /** ln p of the branch's path: Σ ln p of its tokens. */
  pathLogProb(id: number): number {
    return this.path(id).reduce((s, t) => s + t.logProb, 0);
  }

  /**
   * The branch a new choice at path index `index` of branch `id` leaves: the one whose own tokens
   * hold that index, except that a branch's first token (its own choice) is its parent's place.
   */
  owner(id: number, index: number): Branch {
    let b = this.branch(id);
    while (b.parent !== undefined && index <= b.at) b = this.branch(b.parent);
    if (index < b.at || index >= b.at + b.tokens.length) throw new Error(`branch ${id} has no token ${index}`);
    return b;
  }

  /**
   * A branch at path index `index` of branch `id` that takes `alternative` instead of the token
   * there; an existing one when that choice was already made (same place, same token), which may
   * be the branch that owns the place.
   */
  branchFrom(id: number, index: number, alternative: Alternative): { branch: Branch; existed: boolean } {
    const owner = this.owner(id, index);
    const replaced = owner.tokens[index - owner.at];
    // The branch that already continues with that token there.
    if (alternative.id === replaced.id) return { branch: owner, existed: true };
    const existing = this.children(owner.id).find((c) => c.at === index && c.tokens[0]?.id === alternative.id);
    if (existing) return { branch: existing, existed: true };
    const rank = replaced.alternatives?.findIndex((a) => a.id === alternative.id);
    const first: GeneratedToken = {
      id: alternative.id,
      text: alternative.text,
      logProb: alternative.logProb,
      // Alternatives are the most probable tokens in order: the position is the rank.
      ...(rank !== undefined && rank >= 0 ? { rank: rank + 1 } : {}),
      ...(replaced.alternatives ? { alternatives: replaced.alternatives } : {}),
      ...(alternative.bytes ? { bytes: alternative.bytes } : {}),
    };
    const branch: Branch = { id: this.branches.length, parent: owner.id, at: index, tokens: [first] };
    this.branches.push(branch);
    return { branch, existed: false };
  }

  /** Tokens generated after a branch's chosen token. */
  append(id: number, tokens: readonly GeneratedToken[]): void {
    this.branch(id).tokens.push(...tokens);
  }

  /** The end of a generation that made the branch's tokens from its own token `from` on (1: after its choice; more when a stopped branch is continued). */
  finish(id: number, tokens: readonly GeneratedToken[], finishReason: FinishReason, from = 1): void {
    const b = this.branch(id);
    b.tokens.splice(from, b.tokens.length - from, ...tokens);
    b.finishReason = finishReason;
  }

  /** A branch that was stopped or failed, continued where it ended: it is running again, with no reason to show. */
  resume(id: number): void {
    const b = this.branch(id);
    b.failed = undefined;
    b.finishReason = undefined;
  }

  /** A generation that ended in an error: the branch keeps what it made, and says why. */
  fail(id: number, reason: string): void {
    this.branch(id).failed = reason;
  }

  /** Where a branch left its parent: the token it replaced and the one it took, at which path index. */
  divergence(id: number): { index: number; replaced: GeneratedToken; chosen: GeneratedToken } | undefined {
    const b = this.branch(id);
    if (b.parent === undefined) return undefined;
    const parent = this.branch(b.parent);
    return { index: b.at, replaced: parent.tokens[b.at - parent.at], chosen: b.tokens[0] };
  }
}
