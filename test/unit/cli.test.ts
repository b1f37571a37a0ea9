import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { scoreFile } from '../../src/cli/score';
import { LmError } from '../../src/core/errors';
import type { LanguageModel, Token, Tokenizer } from '../../src/core/model';
import type { OnnxCausalLm } from '../../src/core/neural/onnxCausalLm';
import { DEFAULT_FALLBACK_DISCOUNTS, KneserNeyTrainer } from '../../src/core/ngram/kneserNey';
import { NgramLanguageModel } from '../../src/core/ngram/ngramLanguageModel';
import { addTextToTrainer } from '../../src/core/ngram/textTraining';
import { writeNgramBinary } from '../../src/core/ngram/binaryFormat';
import { ngramFromBytes } from '../../src/core/ngram/ngramFromBytes';
import { describePosition, ScoreTotals, summarize, type TokenScore } from '../../src/core/scoring';
import { characterCount } from '../../src/core/tokenizers/lineBreaks';
import { TokenStream } from '../../src/core/tokenStream';
import { loadHuggingFaceFolder } from '../../src/node/neuralLoader';
import { CORPUS, corpusFiles, ONNX_FIXTURES, REPO } from './helpers';

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

  it('warns on stderr when an ARPA model is not normalised (hostile H12), and not for a normalised one', () => {
    const text = path.join(dir, 'h12.txt');
    fs.writeFileSync(text, 'a b a\n');
    const model = (p: number) => {
      const file = path.join(dir, `h12-${p}.arpa`);
      fs.writeFileSync(
        file,
        `\\data\\\nngram 1=5\n\n\\1-grams:\n-1\t<unk>\n0\t<s>\n${Math.log10(0.3)}\t</s>\n${Math.log10(p)}\ta\n${Math.log10(0.3)}\tb\n\n\\end\\\n`,
      );
      return file;
    };
    const bad = lmp('score', '--model', model(0.54), text);
    assert.strictEqual(bad.code, 0, bad.stderr);
    assert.match(bad.stderr, /lmp: warning: .*1-gram probabilities sum to 1\.24, not 1/);
    const good = lmp('score', '--model', model(0.3), text);
    assert.strictEqual(good.code, 0, good.stderr);
    assert.doesNotMatch(good.stderr, /warning/);
  });

  it('converts an ARPA file (plain or gzipped) to a checksummed binary that scores the same', () => {
    const train = path.join(dir, 'conv-train.txt');
    fs.writeFileSync(train, 'the cat sat on the mat\nthe dog sat on the log\nthe cat ate the fish\n'.repeat(3));
    const arpa = path.join(dir, 'conv.arpa');
    assert.strictEqual(lmp('train-ngram', '--order', '3', '--arpa', arpa, '--discount-fallback', train).code, 0);
    fs.writeFileSync(`${arpa}.gz`, zlib.gzipSync(fs.readFileSync(arpa)));
    const expected = JSON.parse(lmp('score', '--model', arpa, '--json', train).stdout);
    for (const [input, output] of [
      [arpa, path.join(dir, 'conv.ngram')],
      [`${arpa}.gz`, path.join(dir, 'conv.ngram.gz')],
    ]) {
      const c = lmp('convert', input, output, '--name', 'converted');
      assert.strictEqual(c.code, 0, c.stderr);
      assert.strictEqual(c.stdout, `${output}\n`);
      assert.match(c.stderr, /^read .* \(12 1-grams, \d+ 2-grams, \d+ 3-grams\) in [\d.]+ s, wrote .* in [\d.]+ s\n$/);
      const s = JSON.parse(lmp('score', '--model', output, '--json', train).stdout);
      assert.strictEqual(s.model, 'converted');
      assert.strictEqual(s.logprob_nats, expected.logprob_nats);
    }
    // A flipped byte of the binary is caught by its checksum.
    const bytes = fs.readFileSync(path.join(dir, 'conv.ngram'));
    bytes[bytes.length >> 1] ^= 1;
    fs.writeFileSync(path.join(dir, 'flipped.ngram'), bytes);
    assert.match(lmp('score', '--model', path.join(dir, 'flipped.ngram'), train).stderr, /checksum does not match/);
    const same = lmp('convert', arpa, arpa);
    assert.strictEqual(same.code, 1);
    assert.match(same.stderr, /is the input/);
    assert.match(lmp('convert', arpa).stderr, /give IN/);
  });

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
    for (const k of ['logprob_nats', 'bits_per_token', 'bits_per_char', 'perplexity', 'perplexity_including_oov', 'perplexity_excluding_oov'])
      assert.strictEqual(typeof j[k], 'number', k);
    assert.ok(Math.abs(j.bits_per_token - -j.logprob_nats / Math.LN2 / j.tokens) < 1e-9);
    assert.ok(j.perplexity_excluding_oov < j.perplexity_including_oov);
    const g1 = lmp(
      'generate',
      '--model',
      arpa,
      '--prompt',
      'the cat',
      '--seed',
      '5',
      '--num-completions',
      '3',
      '--max-tokens',
      '6',
      '--json',
      '--top-k-per-token',
      '2',
    );
    const g2 = lmp(
      'generate',
      '--model',
      arpa,
      '--prompt',
      'the cat',
      '--seed',
      '5',
      '--num-completions',
      '3',
      '--max-tokens',
      '6',
      '--json',
      '--top-k-per-token',
      '2',
    );
    assert.strictEqual(g1.code, 0, g1.stderr);
    assert.deepStrictEqual(JSON.parse(g1.stdout), JSON.parse(g2.stdout));
    const completions = JSON.parse(g1.stdout).completions;
    assert.strictEqual(completions.length, 3);
    for (const c of completions) assert.ok(['length', 'eos', 'stop'].includes(c.finish_reason));
  });

  it("generate's JSON names the token that ended a completion (stopped_by), which its text leaves out", () => {
    // A space as the stop sequence: the first token that holds one ends the completion, and is not in its text.
    const g = lmp(
      'generate',
      '--model',
      'ngram-classics',
      '--prompt',
      'It was a fine morning',
      '--temperature',
      '0',
      '--max-tokens',
      '8',
      '--stop',
      ' ',
      '--json',
    );
    assert.strictEqual(g.code, 0, g.stderr);
    const [c] = JSON.parse(g.stdout).completions;
    assert.strictEqual(c.finish_reason, 'stop');
    assert.ok(c.stopped_by.text.includes(' ') && !c.text.includes(' '), JSON.stringify(c));
    assert.ok(c.stopped_by.logprob < 0 && Number.isFinite(c.stopped_by.logprob), JSON.stringify(c.stopped_by));
    // Cut at max tokens: none.
    const cut = lmp('generate', '--model', 'ngram-classics', '--prompt', 'It was a fine morning', '--temperature', '0', '--max-tokens', '2', '--json');
    const [d] = JSON.parse(cut.stdout).completions;
    assert.strictEqual(d.finish_reason, 'length');
    assert.strictEqual(d.stopped_by, undefined);
  });

  it('writes byte planes (format 3) for a .gz binary, format 2 otherwise, both scoring the same', () => {
    const train = path.join(dir, 'planes-train.txt');
    fs.writeFileSync(train, 'the cat sat on the mat.\nThe dog sat on the log.\n'.repeat(5));
    const outputs: [string, number][] = [
      [path.join(dir, 'p.ngram.gz'), 3],
      [path.join(dir, 'p.ngram'), 2],
    ];
    const scores = outputs.map(([file, version]) => {
      const t = lmp('train-ngram', '--order', '3', '--tokens', 'editor', '--discount-fallback', '--binary', file, train);
      assert.strictEqual(t.code, 0, t.stderr);
      const bytes = file.endsWith('.gz') ? zlib.gunzipSync(fs.readFileSync(file)) : fs.readFileSync(file);
      assert.strictEqual(bytes.readUInt32LE(8), version, file);
      const s = lmp('score', '--model', file, '--json', '--details', train);
      assert.strictEqual(s.code, 0, s.stderr);
      const { model, ...rest } = JSON.parse(s.stdout);
      assert.strictEqual(model, path.basename(file).replace(/\.[^.]*$/, ''));
      return rest;
    });
    assert.deepStrictEqual(scores[1], scores[0]);
  });

  it('trains editor tokens on a file larger than its read chunks as on the whole text (one sequence across chunks)', () => {
    // Over more than one 4 MB chunk, with CRLF breaks and non-ASCII text falling on the chunks' edges.
    const books = corpusFiles('train').map((f) => fs.readFileSync(f, 'utf8'));
    const text = '\uFEFF' + [books[0].replace(/\n/g, '\r\n'), ...books.slice(1), books[0].replace(/e/g, 'é'), books[1].toUpperCase()].join('');
    const train = path.join(dir, 'big-editor.txt');
    fs.writeFileSync(train, text);
    const out = path.join(dir, 'big-editor.ngram');
    const t = lmp('train-ngram', '--order', '3', '--tokens', 'editor', '--binary', out, train);
    assert.strictEqual(t.code, 0, t.stderr);
    const whole = new KneserNeyTrainer({ order: 3 });
    // The byte-order mark at the start is not text: left out, as the editor and workspace training leave it out.
    addTextToTrainer(whole, text.slice(1), 'editor');
    const meta = { name: 'x', tokenizer: 'editor' as const };
    const fromCli = ngramFromBytes(fs.readFileSync(out), 'x', 'x');
    assert.ok(Buffer.byteLength(text) > 4 << 20, 'more than one chunk');
    assert.deepStrictEqual(writeNgramBinary(fromCli.ngram, meta), writeNgramBinary(whole.build().model, meta));
    fs.rmSync(train);
    fs.rmSync(out);
  });

  it("trains on the shared corpus and scores its valid text with KenLM's figures (lmplz -o 3, query)", () => {
    // KenLM's lmplz -o 3 on train/*.txt and query on valid/poirot_investigates.txt, as recorded in
    // the foundation issue to query's 6 significant digits: 60,198 tokens, 5,402 OOVs, perplexity
    // 795.936 including OOVs and 371.817 excluding them.
    const arpa = path.join(dir, 'corpus-3gram.arpa');
    const t = lmp('train-ngram', '--order', '3', '--arpa', arpa, ...corpusFiles('train'));
    assert.strictEqual(t.code, 0, t.stderr);
    const s = lmp('score', '--model', arpa, '--json', path.join(CORPUS, 'valid', 'poirot_investigates.txt'));
    fs.rmSync(arpa);
    assert.strictEqual(s.code, 0, s.stderr);
    const j = JSON.parse(s.stdout);
    assert.deepStrictEqual(
      [j.tokens, j.oov, j.perplexity_including_oov.toPrecision(6), j.perplexity_excluding_oov.toPrecision(6)],
      [60198, 5402, '795.936', '371.817'],
    );
  });

  it('an empty text gives null for every average, in JSON and text, and says why (hostile13 L6)', () => {
    const empty = path.join(dir, 'empty.txt');
    fs.writeFileSync(empty, '');
    const arpa = path.join(dir, 'l6.arpa');
    const train = path.join(dir, 'l6-train.txt');
    fs.writeFileSync(train, 'a b a\nb a b\n'.repeat(4));
    assert.strictEqual(lmp('train-ngram', '--order', '2', '--arpa', arpa, '--discount-fallback', train).code, 0);
    for (const model of [arpa, 'gpt-classics']) {
      const j = lmp('score', '--model', model, '--json', empty);
      assert.strictEqual(j.code, 0, j.stderr);
      assert.match(j.stderr, /no token was scored \(the text is empty\)/);
      const r = JSON.parse(j.stdout);
      assert.strictEqual(r.tokens, 0);
      for (const k of ['bits_per_token', 'bits_per_char', 'perplexity', 'perplexity_including_oov', 'perplexity_excluding_oov']) {
        if (k in r || model === arpa) assert.strictEqual(r[k], null, `${model} ${k}`);
      }
      const t = lmp('score', '--model', model, empty);
      assert.match(t.stdout, /^perplexity\tnull$/m);
    }
    // One token of an n-gram model is scored (its </s>): figures, not nulls.
    const nl = path.join(dir, 'newline.txt');
    fs.writeFileSync(nl, '\n');
    const one = JSON.parse(lmp('score', '--model', arpa, '--json', nl).stdout);
    assert.strictEqual(one.tokens, 1);
    assert.ok(one.perplexity > 1 && Number.isFinite(one.perplexity_including_oov), JSON.stringify(one));
  });

  it('a neural model with no begin-of-text token scores all but the first token and says so (hostile13 L7)', () => {
    const folder = path.join(dir, 'no-bos');
    fs.cpSync(path.join(ONNX_FIXTURES, 'tiny-llama'), folder, { recursive: true });
    const edit = (name: string, change: (j: Record<string, unknown>) => void) => {
      const file = path.join(folder, name);
      const j = JSON.parse(fs.readFileSync(file, 'utf8'));
      change(j);
      fs.writeFileSync(file, JSON.stringify(j));
    };
    const text = path.join(dir, 'bos.txt');
    fs.writeFileSync(text, 'The cat sat on the mat.');
    const withBos = lmp('score', '--model', folder, '--dtype', 'fp32', '--json', text);
    assert.strictEqual(withBos.code, 0, withBos.stderr);
    assert.doesNotMatch(withBos.stderr, /begin-of-text/);
    // No begin token anywhere, nor an end token that a model without one starts from (GPT-2's way).
    for (const name of ['config.json', 'generation_config.json']) {
      edit(name, (j) => {
        delete j.bos_token_id;
        delete j.eos_token_id;
      });
    }
    edit('tokenizer_config.json', (j) => {
      delete j.bos_token;
      delete j.eos_token;
      j.add_bos_token = false;
    });
    // tokenizer.json's own template still puts <s> first: that is the model's begin-of-text token (hostile14 L7).
    const fromTemplate = lmp('score', '--model', folder, '--dtype', 'fp32', '--json', text);
    assert.strictEqual(fromTemplate.code, 0, fromTemplate.stderr);
    assert.doesNotMatch(fromTemplate.stderr, /begin-of-text/);
    assert.deepStrictEqual(JSON.parse(fromTemplate.stdout), JSON.parse(withBos.stdout));
    edit('tokenizer.json', (j) => {
      j.post_processor = null;
    });
    const noBos = lmp('score', '--model', folder, '--dtype', 'fp32', '--json', text);
    assert.strictEqual(noBos.code, 0, noBos.stderr);
    assert.match(noBos.stderr, /no-bos has no begin-of-text token: each file's first token is given as context, not scored/);
    assert.strictEqual(JSON.parse(noBos.stdout).tokens, JSON.parse(withBos.stdout).tokens - 1);
    // One character: its one token is given, so none is scored, and the note says why (hostile14 L6).
    const one = path.join(dir, 'one.txt');
    fs.writeFileSync(one, 'a');
    const oneScored = lmp('score', '--model', folder, '--dtype', 'fp32', '--json', one);
    assert.strictEqual(JSON.parse(oneScored.stdout).tokens, 0);
    assert.match(oneScored.stderr, /no token was scored \(the text's only token is given as context\)/);
  });

  it('prints errors to stderr with a non-zero exit code', () => {
    const cases: [string[], RegExp][] = [
      [['frobnicate'], /unknown command/],
      [['score', '--model', path.join(dir, 'missing.arpa'), __filename], /model not found/],
      [['score', '--model', 'ngram-classics'], /at least one FILE/],
      [['train-ngram', '--order', '9', '--arpa', 'x.arpa', __filename], /--order must be an integer from 1 to 6/],
      [['generate', '--model', 'ngram-classics', '--prompt', 'hi', '--temperature', 'hot'], /--temperature must be a number/],
      [['score', '--model', 'ngram-classics', path.join(dir, 'nofile.txt')], /cannot read .*nofile\.txt: no such file \(ENOENT\)/],
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

describe('lmp score on long texts and --prompt-file', function () {
  this.timeout(120000);
  let dir: string;
  let arpa: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-cli-long-'));
    const train = path.join(dir, 'train.txt');
    fs.writeFileSync(train, 'the cat sat on the mat\nthe dog sat on the log\nthe cat ate the fish\n'.repeat(3));
    arpa = path.join(dir, 'm.arpa');
    const t = lmp('train-ngram', '--order', '3', '--arpa', arpa, '--discount-fallback', train);
    assert.strictEqual(t.code, 0, t.stderr);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('scores a text of 175,000 tokens (its scores were once spread into call arguments)', () => {
    const file = path.join(dir, 'long.txt');
    fs.writeFileSync(file, 'the cat sat on the mat\n'.repeat(25000));
    const s = lmp('score', '--model', arpa, '--json', file);
    assert.strictEqual(s.code, 0, s.stderr);
    const j = JSON.parse(s.stdout);
    assert.strictEqual(j.tokens, 25000 * 7);
    assert.ok(Number.isFinite(j.logprob_nats) && j.logprob_nats < 0);
  });

  it('streams --details as JSON whose token list adds up to the totals, and as text lines before the totals', () => {
    const file = path.join(dir, 'short.txt');
    fs.writeFileSync(file, 'the cat sat\nthe zebra ate the fish\n');
    const s = lmp('score', '--model', arpa, '--json', '--details', '--top-k', '2', file);
    assert.strictEqual(s.code, 0, s.stderr);
    const j = JSON.parse(s.stdout);
    assert.strictEqual(j.token_scores.length, j.tokens);
    assert.ok(Math.abs(j.token_scores.reduce((a: number, t: { logprob: number }) => a + t.logprob, 0) - j.logprob_nats) < 1e-9);
    assert.deepStrictEqual(
      j.token_scores.map((t: { text: string }) => t.text),
      ['the', 'cat', 'sat', '</s>', 'the', 'zebra', 'ate', 'the', 'fish', '</s>'],
    );
    assert.strictEqual(j.token_scores[5].oov, true);
    assert.strictEqual(j.token_scores[0].top.length, 2);
    const t = lmp('score', '--model', arpa, '--details', file);
    assert.strictEqual(t.code, 0, t.stderr);
    const lines = t.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^"the"\t-\d+\.\d{4} nats\trank \d+$/);
    assert.strictEqual(lines.length, j.tokens + Object.keys(j).length - 1);
    assert.match(lines[j.tokens], /^model\t/);
  });

  it('--details shows a token holding part of a character as its bytes, as the hover does; JSON keeps its span (drive16 L3)', () => {
    const file = path.join(dir, 'bytes.txt');
    fs.writeFileSync(file, 'Café: it’s a 🙂 day.\n');
    for (const model of [path.join(ONNX_FIXTURES, 'tiny-llama'), 'gpt-classics']) {
      const t = lmp('score', '--model', model, '--details', file);
      assert.strictEqual(t.code, 0, t.stderr);
      const j = lmp('score', '--model', model, '--details', '--json', file);
      assert.strictEqual(j.code, 0, j.stderr);
      const spans: { text: string }[] = JSON.parse(j.stdout).token_scores;
      const shown = t.stdout
        .trimEnd()
        .split('\n')
        .slice(0, spans.length)
        .map((l) => JSON.parse(l.split('\t')[0]) as string);
      // The emoji's four bytes at least go through byte tokens in both vocabularies.
      const bytes = shown.filter((s) => /^(<0x[0-9A-F]{2}>)+$/.test(s));
      assert.ok(bytes.length >= 2, `${model}: ${JSON.stringify(shown)}`);
      assert.ok(!shown.includes(''), `${model}: no token shown as "": ${JSON.stringify(shown)}`);
      // Every other token is shown as its span, and one with none (SentencePiece's space before the first word: drive18 L1) as " "; the spans still add up to the text.
      shown.forEach((s, i) =>
        assert.ok(
          bytes.includes(s) || s === spans[i].text || (spans[i].text === '' && s === ' '),
          `${model}: token ${i} ${JSON.stringify(s)} against ${JSON.stringify(spans[i].text)}`,
        ),
      );
      if (model.endsWith('tiny-llama')) assert.strictEqual(shown[0], ' ', `${model}: the space SentencePiece puts before the first word`);
      assert.ok(
        spans
          .map((s) => s.text)
          .join('')
          .includes('🙂'),
        model,
      );
    }
  });

  it("reads the prompt from --prompt-file or standard input, beyond the command line's limit", () => {
    const prompt = 'the dog sat on the log\n'.repeat(8000) + 'the cat'; // 176 KB: more than one argument may hold
    const file = path.join(dir, 'prompt.txt');
    fs.writeFileSync(file, prompt);
    const args = ['generate', '--model', arpa, '--seed', '3', '--max-tokens', '4', '--json'];
    const f = lmp(...args, '--prompt-file', file);
    assert.strictEqual(f.code, 0, f.stderr);
    assert.strictEqual(JSON.parse(f.stdout).prompt, prompt);
    const r = spawnSync(process.execPath, [CLI, ...args, '--prompt-file', '-'], { input: prompt, encoding: 'utf8' });
    assert.strictEqual(r.status, 0, r.stderr);
    assert.deepStrictEqual(JSON.parse(r.stdout), JSON.parse(f.stdout));
    const small = lmp(...args, '--prompt', 'the cat');
    const smallFile = path.join(dir, 'small-prompt.txt');
    fs.writeFileSync(smallFile, 'the cat');
    assert.deepStrictEqual(JSON.parse(lmp(...args, '--prompt-file', smallFile).stdout), JSON.parse(small.stdout));
    const both = lmp(...args, '--prompt', 'x', '--prompt-file', file);
    assert.strictEqual(both.code, 1);
    assert.match(both.stderr, /^lmp: give --prompt TEXT or --prompt-file FILE, not both/);
    const none = lmp(...args);
    assert.match(none.stderr, /^lmp: give --prompt TEXT or --prompt-file FILE/);
    const missing = lmp(...args, '--prompt-file', path.join(dir, 'nope.txt'));
    assert.match(missing.stderr, /^lmp: cannot read .*nope\.txt: no such file \(ENOENT\)/);
  });
});

describe('streamed tokenization and scoring equal the whole text', function () {
  this.timeout(120000);
  const TRICKY =
    "It's  a\ttest.\r\nDon't  stop—“quoted” text…  \n\n\n   spaced   out\u00a0nbsp 12,345.67 café naïve 😀 emoji\r\rCR only\n \n\t\nend's a <|endoftext|> b\f\vx  ";
  // Punctuation everywhere (the editor tokenizer cuts after it), apostrophes inside and around words.
  const MINIFIED = `{"a":[1,2.5e-3,"x'y"],"b":{"c":"don’t…'"},'q':a.b.c,d'e'',"😀":"😀."}..;;'x'y' a. ’b`;
  let dir: string;
  let editor: NgramLanguageModel;
  let whitespace: NgramLanguageModel;
  let neural: OnnxCausalLm;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-stream-'));
    const corpus = fs.readFileSync(corpusFiles('valid')[0], 'utf8').slice(0, 60000);
    const model = (kind: 'editor' | 'whitespace') => {
      const t = new KneserNeyTrainer({ order: 3, discountFallback: DEFAULT_FALLBACK_DISCOUNTS });
      addTextToTrainer(t, corpus, kind);
      return new NgramLanguageModel(t.build().model, kind, kind);
    };
    editor = model('editor');
    whitespace = model('whitespace');
    neural = await loadHuggingFaceFolder(path.join(REPO, 'models', 'gpt-classics'), 'gpt-classics');
  });
  after(() => {
    neural?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const shape = (tokens: Token[]) => tokens.map((t) => [t.id, t.text, t.start, t.length]);

  function streamed(tokenizer: Tokenizer, pieces: string[]): Token[] {
    const s = new TokenStream(tokenizer);
    const out: Token[] = [];
    for (const p of pieces) for (const t of s.push(p)) out.push(t);
    for (const t of s.end()) out.push(t);
    return out;
  }

  it('gives the tokens of the whole text with a seam at every position, for every tokenizer', () => {
    for (const [name, tokenizer] of [
      ['editor', editor.tokenizer],
      ['whitespace', whitespace.tokenizer],
      ['gpt-classics', neural.tokenizer],
    ] as const) {
      assert.ok(tokenizer.cutPoint, `${name} has cut rules`);
      for (const text of [TRICKY, TRICKY.trim(), '\n' + TRICKY, MINIFIED, 'x', '']) {
        const whole = shape(tokenizer.encode(text, true));
        for (let c = 0; c <= text.length; c++) {
          assert.deepStrictEqual(shape(streamed(tokenizer, [text.slice(0, c), text.slice(c)])), whole, `${name}, seam at ${c} of ${JSON.stringify(text)}`);
        }
        const singles = Array.from(text);
        assert.deepStrictEqual(shape(streamed(tokenizer, singles)), whole, `${name}, one character at a time`);
      }
    }
  });

  it('refuses a run without any place to cut beyond its limit, before holding more', () => {
    const s = new TokenStream(editor.tokenizer, 1000);
    assert.strictEqual(s.push('word '.repeat(100)).length > 0, true);
    s.push('x'.repeat(600));
    assert.throws(
      () => s.push('y'.repeat(600)),
      (e: Error) =>
        e instanceof LmError &&
        /^cannot tokenize the text in pieces: 1,\d{3} characters from character 499 on have no place to cut \(it is a single word of letters and digits\); at most 1,000 are held$/.test(
          e.message,
        ),
    );
  });

  /** Scores from the model's own whole-sequence calls, as lmp score computed them before streaming. */
  async function reference(model: LanguageModel, text: string, details: boolean) {
    const tokens = model.tokenizer.encode(text, true);
    const ids = tokens.map((t) => t.id);
    const logProbs = await model.sequenceLogProbs(ids, 1);
    const out: TokenScore[] = [];
    for (let i = 1; i < tokens.length; i++) {
      if (ids[i] === model.bosId) continue;
      const s: TokenScore = { ...tokens[i], logProb: logProbs[i - 1], oov: model.unkId !== undefined && ids[i] === model.unkId };
      if (details) Object.assign(s, describePosition(model, await model.nextLogProbs(ids.slice(0, i)), ids[i], 3));
      out.push(s);
    }
    return out;
  }

  async function compare(model: LanguageModel, text: string, details: boolean, chunkSizes: number[]) {
    const file = path.join(dir, 'text.txt');
    fs.writeFileSync(file, text);
    const expected = await reference(model, text, details);
    assert.ok(expected.length > 0);
    for (const chunk of chunkSizes) {
      const got: TokenScore[] = [];
      const chars = await scoreFile(
        model,
        file,
        { details, topK: 3 },
        async (s) => {
          for (const t of s) got.push(t);
        },
        chunk,
      );
      assert.strictEqual(chars, characterCount(text), 'characters, a CRLF line break counting as one');
      assert.strictEqual(got.length, expected.length, `${model.info.name}, chunks of ${chunk} bytes`);
      for (let i = 0; i < got.length; i++) {
        const [g, e] = [got[i], expected[i]];
        const where = `${model.info.name}, chunks of ${chunk} bytes, token ${i} ${JSON.stringify(e.text)}`;
        assert.deepStrictEqual([g.id, g.text, g.start, g.length, g.oov], [e.id, e.text, e.start, e.length, e.oov], where);
        assert.ok(Math.abs(g.logProb - e.logProb) < 1e-9, `${where}: ${g.logProb} vs ${e.logProb}`);
        if (details) {
          assert.strictEqual(g.rank, e.rank, where);
          // A neural model's details come from the window's pass, the reference's from a KV-cache step: float32 rounding apart.
          const tolerance = model.info.capabilities.context === 'window' ? 1e-4 : 1e-9;
          assert.ok(Math.abs(g.entropy! - e.entropy!) < tolerance, `${where}: entropy ${g.entropy} vs ${e.entropy}`);
          assert.deepStrictEqual(
            g.alternatives!.map((a) => a.id),
            e.alternatives!.map((a) => a.id),
            where,
          );
        }
      }
      const totals = new ScoreTotals();
      for (const t of got) totals.add(t);
      assert.ok(Math.abs(totals.summary(chars).logProbNats - summarize(expected, chars).logProbNats) < 1e-9);
    }
  }

  it('n-gram models: the same scores and details with files read a few bytes at a time', async () => {
    const text = TRICKY.repeat(20);
    await compare(editor, text, true, [1, 2, 3, 7, 1 << 20]);
    await compare(whitespace, text, true, [1, 5, 1 << 20]);
  });

  it('gpt-classics: the same scores over several context windows, and the same details within one', async () => {
    const long = fs.readFileSync(corpusFiles('valid')[0], 'utf8').slice(5000, 7000);
    assert.ok(neural.tokenizer.encode(long, true).length > 3 * neural.config.contextLength);
    await compare(neural, long, false, [3, 100, 1 << 20]);
    await compare(neural, TRICKY, true, [2, 1 << 20]);
  });
});
