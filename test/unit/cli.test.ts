import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { REPO } from './helpers';

const CLI = path.join(REPO, 'dist', 'cli.js');

function lmp(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('lmp command line', function () {
  this.timeout(60000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-cli-'));
    assert.ok(fs.existsSync(CLI), 'dist/cli.js is built by npm run build');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('trains an ARPA model, scores with KenLM fields, and generates reproducibly', () => {
    const train = path.join(dir, 'train.txt');
    fs.writeFileSync(train, 'the cat sat on the mat\nthe dog sat on the log\nthe cat ate the fish\n'.repeat(3));
    const arpa = path.join(dir, 'm.arpa');
    const t = lmp('train-ngram', '--order', '3', '--arpa', arpa, '--discount-fallback', train);
    assert.strictEqual(t.code, 0, t.stderr);
    assert.match(fs.readFileSync(arpa, 'utf8'), /^\\data\\\nngram 1=12\n/);
    const test = path.join(dir, 'test.txt');
    fs.writeFileSync(test, 'the cat sat on the log\n\nthe zebra sat\n');
    const s = lmp('score', '--model', arpa, '--json', test);
    assert.strictEqual(s.code, 0, s.stderr);
    const j = JSON.parse(s.stdout);
    assert.strictEqual(j.tokens, 6 + 1 + 1 + 3 + 1); // words + one </s> per line, the empty line too
    assert.strictEqual(j.oov, 1);
    assert.strictEqual(j.chars, [...fs.readFileSync(test, 'utf8')].length);
    for (const k of ['logprob_nats', 'bits_per_token', 'bits_per_char', 'perplexity', 'perplexity_including_oov', 'perplexity_excluding_oov']) assert.strictEqual(typeof j[k], 'number', k);
    assert.ok(Math.abs(j.bits_per_token - -j.logprob_nats / Math.LN2 / j.tokens) < 1e-9);
    assert.ok(j.perplexity_excluding_oov < j.perplexity_including_oov);
    const g1 = lmp('generate', '--model', arpa, '--prompt', 'the cat', '--seed', '5', '--num-completions', '3', '--max-tokens', '6', '--json', '--top-k-per-token', '2');
    const g2 = lmp('generate', '--model', arpa, '--prompt', 'the cat', '--seed', '5', '--num-completions', '3', '--max-tokens', '6', '--json', '--top-k-per-token', '2');
    assert.strictEqual(g1.code, 0, g1.stderr);
    assert.deepStrictEqual(JSON.parse(g1.stdout), JSON.parse(g2.stdout));
    const completions = JSON.parse(g1.stdout).completions;
    assert.strictEqual(completions.length, 3);
    for (const c of completions) assert.ok(['length', 'eos', 'stop'].includes(c.finish_reason));
  });

  it('prints errors to stderr with a non-zero exit code', () => {
    const cases: [string[], RegExp][] = [
      [['frobnicate'], /unknown command/],
      [['score', '--model', path.join(dir, 'missing.arpa'), __filename], /model not found/],
      [['score', '--model', 'ngram-classics'], /at least one FILE/],
      [['train-ngram', '--order', '9', '--arpa', 'x.arpa', __filename], /--order must be an integer from 1 to 6/],
      [['generate', '--model', 'ngram-classics', '--prompt', 'hi', '--temperature', 'hot'], /--temperature must be a number/],
      [['score', '--model', 'ngram-classics', path.join(dir, 'nofile.txt')], /cannot read .*nofile\.txt: ENOENT/],
      [['score', '--bogus'], /Unknown option/],
    ];
    for (const [args, message] of cases) {
      const r = lmp(...args);
      assert.notStrictEqual(r.code, 0, args.join(' '));
      assert.match(r.stderr, message);
      assert.match(r.stderr, /^lmp: /);
    }
  });
});
