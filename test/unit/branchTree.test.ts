/** The playground's tree of continuations: where branches hang, their paths and path probabilities. */
import * as assert from 'assert';
import type { GeneratedToken } from '../../src/core/generation';
import { BranchTree, branchSeed } from '../../src/playground/branchTree';
import { branchHead } from '../../src/webview/branchView';
import { summarizeCompletion } from '../../src/playground/completionSummary';

const alts = [
  { id: 10, text: ' cat', logProb: Math.log(0.5) },
  { id: 11, text: ' dog', logProb: Math.log(0.3) },
  { id: 12, text: ' mat', logProb: Math.log(0.2) },
];
const tok = (id: number, text: string, p: number): GeneratedToken => ({ id, text, logProb: Math.log(p), alternatives: alts });
const texts = (tokens: GeneratedToken[]) => tokens.map((t) => t.text).join('');

describe('branch tree', () => {
  const root = [tok(10, ' cat', 0.5), tok(20, ' sat', 0.9), tok(21, ' on', 0.8), tok(22, ' it', 0.4)];

  it('hangs a branch where it diverged; its path is the shared prefix, the alternative, then its own tokens', () => {
    const tree = new BranchTree(root, 'length');
    const { branch, existed } = tree.branchFrom(0, 1, alts[1]);
    assert.strictEqual(existed, false);
    assert.deepStrictEqual([branch.parent, branch.at, branch.tokens[0].text, branch.tokens[0].rank], [0, 1, ' dog', 2]);
    tree.finish(branch.id, [tok(30, ' ran', 0.25)], 'eos');
    assert.strictEqual(texts(tree.path(branch.id)), ' cat dog ran');
    // p(path) = 0.5 × 0.3 × 0.25, from the prompt.
    assert.ok(Math.abs(tree.pathLogProb(branch.id) - Math.log(0.5 * 0.3 * 0.25)) < 1e-12);
    assert.ok(Math.abs(tree.pathLogProb(0) - Math.log(0.5 * 0.9 * 0.8 * 0.4)) < 1e-12);
    assert.deepStrictEqual(tree.divergence(branch.id), { index: 1, replaced: root[1], chosen: branch.tokens[0] });
    // The completion keeps every token.
    assert.strictEqual(texts(tree.path(0)), ' cat sat on it');
  });

  it('a choice on a shared token of a branch hangs from the branch that owns the token', () => {
    const tree = new BranchTree(root, 'length');
    const b = tree.branchFrom(0, 2, alts[2]).branch; // " cat sat mat"
    tree.finish(b.id, [tok(40, ' again', 0.5)], 'length');
    // Index 0 in b's row is the completion's token: the new branch leaves the completion.
    const c = tree.branchFrom(b.id, 0, alts[1]).branch;
    assert.deepStrictEqual([c.parent, c.at], [0, 0]);
    // Index 3 is b's own: a branch of the branch, two levels down.
    const d = tree.branchFrom(b.id, 3, alts[0]).branch;
    assert.deepStrictEqual([d.parent, d.at, tree.depth(d.id)], [b.id, 3, 2]);
    assert.strictEqual(texts(tree.path(d.id)), ' cat sat mat cat');
    // Depth first, children by where they diverge.
    assert.deepStrictEqual(
      tree.ordered().map((x) => x.id),
      [0, c.id, b.id, d.id],
    );
  });

  it('the same choice twice is the same branch; choosing the parent’s token at a branch’s own place is the parent', () => {
    const tree = new BranchTree(root, 'length');
    const b = tree.branchFrom(0, 1, alts[1]).branch;
    assert.deepStrictEqual(tree.branchFrom(0, 1, alts[1]), { branch: b, existed: true });
    assert.strictEqual(tree.size, 2);
    // At b's first token, the completion's own token (" sat", id 20) is the completion.
    assert.strictEqual(tree.branchFrom(b.id, 1, { id: 20, text: ' sat', logProb: Math.log(0.9) }).branch.id, 0);
    // Another alternative there is a sibling of b, not its child.
    assert.strictEqual(tree.branchFrom(b.id, 1, alts[2]).branch.parent, 0);
    assert.throws(() => tree.owner(0, 9), /no token 9/);
  });
});

describe("a branch's row head", () => {
  const root = [tok(10, ' cat', 0.5), tok(20, ' sat', 0.9)];

  it('says "failed: <reason>" for a generation that failed, "stopped" only for one that was stopped', () => {
    const tree = new BranchTree(root, 'length');
    const failed = tree.branchFrom(0, 1, alts[1]).branch;
    tree.fail(failed.id, 'the server refused');
    assert.match(branchHead(tree, failed.id, false), / · failed: the server refused$/);
    const stopped = tree.branchFrom(0, 1, alts[2]).branch;
    assert.match(branchHead(tree, stopped.id, false), / · stopped$/);
    assert.match(branchHead(tree, stopped.id, true), / · generating…$/);
  });

  it("gives a path's p below the smallest double as a power of ten from log₂ p, never 0%", () => {
    const tree = new BranchTree(root, 'length');
    const { branch } = tree.branchFrom(0, 1, alts[1]);
    // 300 tokens of p = 0.07: ln p(path) ≈ −798, p ≈ 10⁻³⁴⁶.
    tree.finish(
      branch.id,
      Array.from({ length: 300 }, (_, i) => tok(40 + i, ' x', 0.07)),
      'length',
    );
    const lp = tree.pathLogProb(branch.id);
    assert.strictEqual(Math.exp(lp), 0, 'the product underflows a double');
    const log10Percent = lp / Math.LN10 + 2;
    const exponent = Math.floor(log10Percent);
    const head = branchHead(tree, branch.id, false);
    assert.ok(
      head.includes(`p = ${(10 ** (log10Percent - exponent)).toFixed(2)}×10⁻${[...String(-exponent)].map((c) => '⁰¹²³⁴⁵⁶⁷⁸⁹'[Number(c)]).join('')}%`),
      head,
    );
    assert.ok(!head.includes('p = 0%'), head);
  });
});

describe('a branch of its own', () => {
  it("gets a seed made from the run's and its path, not the run's own (which would replay the run's draws), in the CLI's range", () => {
    const seeds = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const s = branchSeed(7, [10, 20, i]);
      assert.ok(Number.isInteger(s) && s >= 0 && s < 2 ** 32, `${s}`);
      assert.notStrictEqual(s, 7);
      seeds.add(s);
    }
    assert.strictEqual(seeds.size, 1000, 'different paths, different seeds');
    assert.strictEqual(branchSeed(7, [10, 20]), branchSeed(7, [10, 20]), 'the same path, the same seed');
    assert.notStrictEqual(branchSeed(7, [10, 20]), branchSeed(8, [10, 20]));
  });

  it('a stopped or failed branch resumes: it keeps its tokens, and its continuation is added after them', () => {
    const tree = new BranchTree([tok(10, ' cat', 0.5), tok(20, ' sat', 0.9)], 'length');
    const { branch } = tree.branchFrom(0, 1, alts[1]);
    tree.append(branch.id, [tok(30, ' ran', 0.25)]);
    tree.fail(branch.id, 'the engine stopped');
    tree.resume(branch.id);
    assert.match(branchHead(tree, branch.id, true), /generating…$/);
    tree.finish(branch.id, [tok(31, ' off', 0.5)], 'eos', 2);
    assert.strictEqual(texts(tree.path(branch.id)), ' cat dog ran off');
    assert.match(branchHead(tree, branch.id, false), /the model ended the text$/);
  });
});

describe("a stopped run's summary", () => {
  it('says "stopped" and the seed that made it', () => {
    const c = {
      text: ' cat sat',
      tokens: [tok(10, ' cat', 0.5), tok(20, ' sat', 0.9)],
      logProb: Math.log(0.45),
      finishReason: 'stopped' as const,
      seed: 5,
      index: 0,
    };
    assert.match(summarizeCompletion(c, { scoring: false, numCompletions: 1, stopSequences: [] }).meta, /· 2 tokens · stopped · seed 5$/);
  });
});
