/**
 * Loading n-gram models, against KenLM in the same run (KENLM_BIN: the folder of a KenLM build's
 * lmplz, query and build_binary; the section says when it is absent): whole processes, `lmp score`
 * against `query`, timed and measured (peak memory) by /usr/bin/time, runs taking turns so that a
 * shared machine's load drifts over both alike. Each pair is checked to give the same perplexity.
 * With BENCH_HUGE_ARPA=1, also an ARPA file of over 2 GB made from the corpus's model by
 * concatenating vocabularies (slow; made in a temporary folder and deleted).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { arpaText } from '../src/core/ngram/arpaWriter';
import { KneserNeyTrainer } from '../src/core/ngram/kneserNey';
import type { NgramModel } from '../src/core/ngram/ngramModel';
import { addTextToTrainer } from '../src/core/ngram/textTraining';
import { BOS, EOS, UNK } from '../src/core/tokenizers/pretokenizers';
import { loadNgramFile } from '../src/node/backends/ngramBackend';
import { recognizeModel } from '../src/node/modelLoader';
import { fmt, median, type Say } from './benchFigures';

export interface LoadTarget {
  target: string;
  measured: string;
  meets: boolean | undefined;
}

const mib = (bytes: number) => `${fmt(bytes / 2 ** 20)} MiB`;

interface Run {
  seconds: number;
  /** User + system CPU seconds. */
  cpu: number;
  rss: number;
  stdout: string;
}

/** A whole process under /usr/bin/time: wall seconds, peak memory, its output; `stdin` a file. */
function timed(command: string, args: string[], stdin?: string): Run {
  const fd = stdin ? fs.openSync(stdin, 'r') : 'ignore';
  try {
    const r = spawnSync('/usr/bin/time', ['-f', 'TIME %e %M %U %S', command, ...args], { stdio: [fd, 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 1 << 28 });
    const m = /TIME ([\d.]+) (\d+) ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
    if (r.status !== 0 || !m) throw new Error(`${path.basename(command)} ${args.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
    return { seconds: Number(m[1]), rss: Number(m[2]) * 1024, cpu: Number(m[3]) + Number(m[4]), stdout: r.stdout };
  } finally {
    if (typeof fd === 'number') fs.closeSync(fd);
  }
}

/** Perplexity including OOVs, as each prints it. */
const lmpPerplexity = (r: Run) => (JSON.parse(r.stdout) as { perplexity_including_oov: number }).perplexity_including_oov;
function kenlmPerplexity(r: Run): number {
  const m = /Perplexity including OOVs:\s*([\d.eE+-]+)/.exec(r.stdout);
  if (!m) throw new Error(`no perplexity in query's output: ${r.stdout.slice(0, 500)}`);
  return Number(m[1]);
}

interface Pair {
  ours: Run[];
  kenlm: Run[];
}

/** `lmp score --model MODEL TEXT` and (when given) `query MODEL < TEXT`, taking turns; checks the perplexities agree. */
function scorePair(cli: string, model: string, text: string, runs: number, query?: string, kenlmModel = model): Pair {
  const pair: Pair = { ours: [], kenlm: [] };
  for (let i = 0; i < runs; i++) {
    pair.ours.push(timed(process.execPath, [cli, 'score', '--json', '--model', model, text]));
    if (query) pair.kenlm.push(timed(query, ['-v', 'summary', kenlmModel], text));
  }
  if (query) {
    const a = lmpPerplexity(pair.ours[0]);
    const b = kenlmPerplexity(pair.kenlm[0]);
    if (!(Math.abs(a - b) <= 1e-5 * b)) throw new Error(`perplexity of ${path.basename(model)}: lmp ${a}, KenLM query ${b}`);
  }
  return pair;
}

const wall = (runs: Run[]) => median(runs.map((r) => r.seconds));
const peak = (runs: Run[]) => median(runs.map((r) => r.rss));
const cpu = (runs: Run[]) => median(runs.map((r) => r.cpu));

/** Medians of wall and CPU (user + system) seconds of `fn` in this process: CPU time shows what a loaded shared machine's wall time hides. */
/**
 * The first load of `file` in a fresh Node process (its code runs unoptimised until V8 compiles
 * the hot loops), medians over `runs` processes: what a user waits for once per session.
 */
function firstLoadSeconds(runs: number, file: string): { wall: number; cpu: number } {
  const loader = path.join(__dirname, '..', 'src', 'node', 'backends', 'ngramBackend.js');
  const script = `const { loadNgramFile } = require(${JSON.stringify(loader)});
const t = process.hrtime.bigint(), c = process.cpuUsage();
loadNgramFile(${JSON.stringify(file)}).then(() => { const u = process.cpuUsage(c); console.log(Number(process.hrtime.bigint() - t) / 1e9, (u.user + u.system) / 1e6); });`;
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    const [wall, cpu] = r.stdout.trim().split(' ').map(Number);
    if (r.status !== 0 || !(wall > 0)) throw new Error(`the first load of ${file} failed: ${r.stderr}`);
    walls.push(wall);
    cpus.push(cpu);
  }
  return { wall: median(walls), cpu: median(cpus) };
}

async function inProcessSeconds(runs: number, fn: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    const c = process.cpuUsage();
    await fn();
    const used = process.cpuUsage(c);
    walls.push(Number(process.hrtime.bigint() - t) / 1e9);
    cpus.push((used.user + used.system) / 1e6);
  }
  return { wall: median(walls), cpu: median(cpus) };
}

/** The order-4 ARPA of the training split, by KenLM's lmplz when given, else by `lmp`'s own trainer. */
function corpusArpa(dir: string, trainFiles: string[], lmplz: string | undefined): string {
  const trainText = path.join(dir, 'train.txt');
  fs.writeFileSync(trainText, Buffer.concat(trainFiles.map((f) => fs.readFileSync(f))));
  const arpa = path.join(dir, 'model.arpa');
  if (lmplz) {
    const r = spawnSync(lmplz, ['-o', '4', '-S', '1G', '--text', trainText, '--arpa', arpa], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`lmplz failed: ${r.stderr.slice(-2000)}`);
  } else {
    const t = new KneserNeyTrainer({ order: 4 });
    for (const f of trainFiles) addTextToTrainer(t, fs.readFileSync(f, 'utf8'), 'whitespace');
    fs.writeFileSync(arpa, arpaText(t.build().model));
  }
  return arpa;
}

/** The text of the issue's comparison: a 430 KB novel of the training split. */
const comparisonText = (corpus: string) => path.join(corpus, 'train', 'the_man_in_the_brown_suit.txt');

const trainFilesOf = (corpus: string) =>
  fs
    .readdirSync(path.join(corpus, 'train'))
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => path.join(corpus, 'train', f));

/**
 * Only the ARPA file of over 2 GB (BENCH_HUGE_ARPA=only): it takes minutes, so that it can run
 * under the shared bench lock apart from the rest of the section.
 */
export function hugeArpaSection(say: Say, targets: LoadTarget[], root: string, corpus: string): void {
  const bin = process.env.KENLM_BIN;
  const tool = (name: string) => (bin && fs.existsSync(path.join(bin, name)) ? path.join(bin, name) : undefined);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-bench-huge-'));
  try {
    const arpa = corpusArpa(dir, trainFilesOf(corpus), tool('lmplz'));
    hugeArpa(say, targets, arpa, path.join(root, 'dist', 'cli.js'), comparisonText(corpus), dir, tool('query'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function ngramLoadSection(say: Say, targets: LoadTarget[], root: string, corpus: string, runs: number): Promise<void> {
  const cli = path.join(root, 'dist', 'cli.js');
  const bin = process.env.KENLM_BIN;
  const tool = (name: string) => (bin && fs.existsSync(path.join(bin, name)) ? path.join(bin, name) : undefined);
  const [lmplz, query, buildBinary] = ['lmplz', 'query', 'build_binary'].map(tool);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-bench-load-'));
  try {
    const trainFiles = trainFilesOf(corpus);
    const arpa = corpusArpa(dir, trainFiles, lmplz);
    const text = comparisonText(corpus);
    const arpaBytes = fs.statSync(arpa).size;
    say();
    say(`## Loading n-gram models (order 4 on \`shared/corpus/en/train\`, ${lmplz ? "KenLM's `lmplz -o 4`" : '`lmp train-ngram`'}: ${mib(arpaBytes)} of ARPA)`);
    say();
    say(
      query
        ? `KenLM side by side (KENLM_BIN=${bin}). Whole processes, timed by /usr/bin/time (wall time, peak resident memory), medians of ${runs} runs taking turns; the text is \`train/the_man_in_the_brown_suit.txt\` (${fmt(fs.statSync(text).size / 1000)} KB). Both give the same perplexity on each model (checked every run).`
        : 'KenLM is absent (set KENLM_BIN to the bin folder of a KenLM build, with lmplz, query and build_binary, to compare): LM Playground alone.',
    );
    say();
    say('| load the model and score the text | LM Playground `lmp score` | KenLM `query` | ratio |');
    say('|---|---:|---:|---:|');
    const fromArpa = scorePair(cli, arpa, text, runs, query);
    const cell = (p: Pair, get: (r: Run[]) => number, unit: (x: number) => string) =>
      `| ${unit(get(p.ours))} | ${p.kenlm.length ? unit(get(p.kenlm)) : '—'} | ${p.kenlm.length ? `${fmt(get(p.ours) / get(p.kenlm))}×` : '—'} |`;
    const seconds = (x: number) => `${fmt(x)} s`;
    say(`| ARPA text, wall ${cell(fromArpa, wall, seconds)}`);
    say(`| ARPA text, CPU (user + system) ${cell(fromArpa, cpu, seconds)}`);
    say(`| ARPA text, peak memory ${cell(fromArpa, peak, mib)}`);
    if (query) {
      const timeRatio = wall(fromArpa.ours) / wall(fromArpa.kenlm);
      const memRatio = peak(fromArpa.ours) / peak(fromArpa.kenlm);
      const cpuRatio = cpu(fromArpa.ours) / cpu(fromArpa.kenlm);
      targets.push({
        target: 'ARPA load + score ≤ 2× KenLM `query`, wall time',
        measured: `${fmt(timeRatio)}× (CPU ${fmt(cpuRatio)}×)`,
        meets: timeRatio <= 2,
      });
      targets.push({ target: 'ARPA load + score ≤ 3× KenLM `query`, peak memory', measured: `${fmt(memRatio)}×`, meets: memRatio <= 3 });
    }
    // Binary formats: ours by lmp convert; KenLM's probing and trie by build_binary.
    const ngram = path.join(dir, 'model.ngram');
    const convert = timed(process.execPath, [cli, 'convert', arpa, ngram]);
    const probing = path.join(dir, 'model.probing');
    const trie = path.join(dir, 'model.trie');
    const built: Record<string, Run> = {};
    if (buildBinary) {
      built.probing = timed(buildBinary, ['probing', arpa, probing]);
      built.trie = timed(buildBinary, ['trie', arpa, trie]);
    }
    const fromBinary = scorePair(cli, ngram, text, runs, query, probing);
    say(
      `| binary (\`lmp convert\` / \`build_binary probing\`), wall ${query ? cell(fromBinary, wall, seconds) : `| ${seconds(wall(fromBinary.ours))} | — | — |`}`,
    );
    say(`| binary, peak memory ${query ? cell(fromBinary, peak, mib) : `| ${mib(peak(fromBinary.ours))} | — | — |`}`);
    say(
      `| conversion ARPA → binary, wall | ${seconds(convert.seconds)} (\`lmp convert\`), peak memory ${mib(convert.rss)} | ${buildBinary ? `probing ${seconds(built.probing.seconds)}, ${mib(built.probing.rss)}; trie ${seconds(built.trie.seconds)}, ${mib(built.trie.rss)}` : '—'} | — |`,
    );

    // Bytes per n-gram.
    const model = (await loadNgramFile(ngram)).ngram;
    const ngrams = model.counts.reduce((a, b) => a + b, 0);
    say();
    say(`Memory per n-gram (${fmt(ngrams, 7)} n-grams, ${model.counts.map((c) => fmt(c, 7)).join(' / ')}):`);
    say();
    say('| format | bytes | bytes per n-gram |');
    say('|---|---:|---:|');
    say(
      `| LM Playground compact trie (typed arrays in memory: words, log10 p, backoff, child ranges; float32) | ${mib(model.byteSize())} | ${fmt(model.byteSize() / ngrams)} |`,
    );
    say(
      `| LM Playground \`.ngram\` file (the arrays, the vocabulary, a header) | ${mib(fs.statSync(ngram).size)} | ${fmt(fs.statSync(ngram).size / ngrams)} |`,
    );
    if (buildBinary) {
      for (const [name, file] of [
        ['KenLM `build_binary probing` file', probing],
        ['KenLM `build_binary trie` file (no quantisation)', trie],
      ] as const)
        say(`| ${name} | ${mib(fs.statSync(file).size)} | ${fmt(fs.statSync(file).size / ngrams)} |`);
    }

    // Load time of binaries in this process, and of the embedded model.
    const binaryLoad = await inProcessSeconds(runs, () => loadNgramFile(ngram));
    const embeddedFile = recognizeModel('ngram-classics').location;
    const embeddedLoad = await inProcessSeconds(runs, () => loadNgramFile(embeddedFile));
    const embeddedFirst = firstLoadSeconds(runs, embeddedFile);
    const embedded = (await loadNgramFile(embeddedFile)).ngram;
    const plainEmbedded = path.join(dir, 'classics.ngram');
    timed(process.execPath, [cli, 'convert', embeddedFile, plainEmbedded]);
    const plainLoad = await inProcessSeconds(runs, () => loadNgramFile(plainEmbedded));
    const arpaLoad = await inProcessSeconds(Math.min(runs, 3), () => loadNgramFile(arpa));
    say();
    say(`Load time in this process (\`loadNgramFile\`, medians of ${runs}; the ARPA of 3):`);
    say();
    say('| model | file | load, wall | CPU |');
    say('|---|---:|---:|---:|');
    const row = (label: string, bytes: number, t: { wall: number; cpu: number }) =>
      say(`| ${label} | ${mib(bytes)} | ${seconds(t.wall)} | ${seconds(t.cpu)} |`);
    row('the ARPA above', arpaBytes, arpaLoad);
    row('the same as `.ngram` (`lmp convert`)', fs.statSync(ngram).size, binaryLoad);
    row(
      `embedded \`ngram-classics\` as shipped (\`${path.basename(embeddedFile)}\`, byte planes, ${fmt(
        embedded.counts.reduce((a, b) => a + b, 0),
        7,
      )} n-grams)`,
      fs.statSync(embeddedFile).size,
      embeddedLoad,
    );
    row('the same, the first load in a fresh Node process (code not yet optimised; median of one per process)', fs.statSync(embeddedFile).size, embeddedFirst);
    row('embedded `ngram-classics` as `.ngram` (`lmp convert`, plain arrays)', fs.statSync(plainEmbedded).size, plainLoad);
    targets.push({
      target: 'embedded n-gram model loads in ≤ 0.1 s (as shipped)',
      measured: `${seconds(embeddedLoad.wall)} (CPU ${seconds(embeddedLoad.cpu)}); the first load in a fresh process ${seconds(embeddedFirst.wall)} (CPU ${seconds(embeddedFirst.cpu)})`,
      meets: embeddedLoad.wall <= 0.1,
    });
    targets.push({
      target: 'embedded n-gram model loads in ≤ 0.1 s (as a plain `.ngram`)',
      measured: `${seconds(plainLoad.wall)} (CPU ${seconds(plainLoad.cpu)})`,
      meets: plainLoad.wall <= 0.1,
    });

    queriesPerSecond(say, model, corpus, runs, cli, ngram, query, probing, dir);
    if (process.env.BENCH_HUGE_ARPA === '1') hugeArpa(say, targets, arpa, cli, text, dir, query);
    else
      say(
        '\nThe ARPA file of over 2 GB is made and loaded with BENCH_HUGE_ARPA=1 (slow: it writes and reads 2 GB), or alone with BENCH_HUGE_ARPA=only (printed, not written here).',
      );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Lookups per second: in this process, p(w | 3 words) over the valid split's words; whole
 * processes, scoring a text 10 times longer minus scoring it once, so that loading cancels out.
 */
function queriesPerSecond(
  say: Say,
  model: NgramModel,
  corpus: string,
  runs: number,
  cli: string,
  ngram: string,
  query: string | undefined,
  probing: string,
  dir: string,
): void {
  const valid = fs.readFileSync(path.join(corpus, 'valid', 'poirot_investigates.txt'), 'utf8');
  const v = model.vocab;
  const ids = valid
    .split(/\s+/)
    .filter(Boolean)
    .map((w) => v.id(w) ?? v.unkId!);
  const times: number[] = [];
  let sum = 0;
  for (let r = 0; r < runs; r++) {
    const t = process.hrtime.bigint();
    for (let i = 3; i < ids.length; i++) sum += model.logProb10(ids.slice(i - 3, i), ids[i]);
    times.push(Number(process.hrtime.bigint() - t) / 1e9);
  }
  if (!Number.isFinite(sum)) throw new Error('a lookup gave no number');
  const inProcess = (ids.length - 3) / median(times);
  const once = path.join(corpus, 'valid', 'poirot_investigates.txt');
  const tenTimes = path.join(dir, 'valid10.txt');
  fs.writeFileSync(tenTimes, Buffer.concat(Array.from({ length: 10 }, () => fs.readFileSync(once))));
  const short = scorePair(cli, ngram, once, runs, query, probing);
  const long = scorePair(cli, ngram, tenTimes, runs, query, probing);
  const tokens = (r: Run) => (JSON.parse(r.stdout) as { tokens: number }).tokens;
  const extra = tokens(long.ours[0]) - tokens(short.ours[0]);
  const ours = extra / (wall(long.ours) - wall(short.ours));
  say();
  say('Queries per second:');
  say();
  say('| | LM Playground | KenLM | ratio |');
  say('|---|---:|---:|---:|');
  say(`| p(w \\| 3 words) in this process, \`logProb10\`, valid split's words | ${fmt(inProcess)} /s | — | — |`);
  if (query) {
    const kenlm = extra / (wall(long.kenlm) - wall(short.kenlm));
    say(
      `| whole process, scoring valid ×10 minus valid ×1 (${fmt(extra, 7)} tokens; \`lmp score\` from \`.ngram\`, \`query\` from probing) | ${fmt(ours)} /s | ${fmt(kenlm)} /s | ${fmt(ours / kenlm)}× |`,
    );
  } else say(`| whole process, scoring valid ×10 minus valid ×1 (${fmt(extra, 7)} tokens) | ${fmt(ours)} /s | — | — |`);
}

/**
 * An ARPA file of over 2 GB: copies of the model with each copy's words renamed (word → word_c),
 * `<s>`, `</s>` and `<unk>` shared (their n-grams only in copy 0). Copy 0 is the model itself, so
 * the text's perplexity must be the small model's (both programs are checked to give it).
 */
function hugeArpa(say: Say, targets: LoadTarget[], arpa: string, cli: string, text: string, dir: string, query: string | undefined): void {
  const huge = path.join(dir, 'huge.arpa');
  const lines = fs.readFileSync(arpa, 'utf8').split('\n');
  const sections: string[][] = [];
  const counts: number[] = [];
  let current: string[] | undefined;
  for (const line of lines) {
    const m = /^\\(\d)-grams:$/.exec(line);
    if (m) sections.push((current = []));
    else if (line === '\\end\\' || line === '') current = undefined;
    else if (current) current.push(line);
  }
  const special = new Set([BOS, EOS, UNK]);
  const onlySpecials = sections.map(
    (s) =>
      s.filter((l) =>
        l
          .split('\t')[1]
          .split(' ')
          .every((w) => special.has(w)),
      ).length,
  );
  const copies = Math.ceil((2.1 * 2 ** 30) / fs.statSync(arpa).size);
  // A renamed word must not be a word of the model already (the file would repeat a unigram).
  const words = new Set(sections[0].map((l) => l.split('\t')[1]));
  for (const w of words) for (let c = 1; c < copies; c++) if (words.has(`${w}_${c}`)) throw new Error(`renaming ${w} in copy ${c} gives a word of the model`);
  sections.forEach((s, k) => counts.push(copies * s.length - (copies - 1) * onlySpecials[k]));
  const fd = fs.openSync(huge, 'w');
  const started = Date.now();
  try {
    fs.writeSync(fd, `\\data\\\n${counts.map((c, k) => `ngram ${k + 1}=${c}`).join('\n')}\n`);
    sections.forEach((s, k) => {
      fs.writeSync(fd, `\n\\${k + 1}-grams:\n`);
      fs.writeSync(fd, s.join('\n') + '\n');
      for (let c = 1; c < copies; c++) {
        let out = '';
        for (const line of s) {
          const f = line.split('\t');
          const words = f[1].split(' ');
          if (words.every((w) => special.has(w))) continue;
          f[1] = words.map((w) => (special.has(w) ? w : `${w}_${c}`)).join(' ');
          out += f.join('\t') + '\n';
          if (out.length > 1 << 22) {
            fs.writeSync(fd, out);
            out = '';
          }
        }
        fs.writeSync(fd, out);
      }
    });
    fs.writeSync(fd, '\n\\end\\\n');
  } finally {
    fs.closeSync(fd);
  }
  const size = fs.statSync(huge).size;
  const made = (Date.now() - started) / 1000;
  const pair = scorePair(cli, huge, text, 1, query);
  const small = scorePair(cli, arpa, text, 1);
  const same = lmpPerplexity(pair.ours[0]) === lmpPerplexity(small.ours[0]);
  if (!same) throw new Error(`the huge ARPA's copy 0 scores ${lmpPerplexity(pair.ours[0])}, the model itself ${lmpPerplexity(small.ours[0])}`);
  fs.rmSync(huge, { force: true });
  say();
  say(
    `An ARPA file of ${fmt(size / 2 ** 30)} GiB (${fmt(
      counts.reduce((a, b) => a + b, 0),
      4,
    )} n-grams, ${copies} copies of the model with renamed words; made in ${fmt(made)} s, deleted after), loaded and the text scored once, whole processes; the perplexity is the model's (checked${query ? ', both programs' : ''}):`,
  );
  say();
  say('| | LM Playground `lmp score` | KenLM `query` | ratio |');
  say('|---|---:|---:|---:|');
  const k = pair.kenlm[0];
  const o = pair.ours[0];
  say(`| wall | ${fmt(o.seconds)} s | ${k ? `${fmt(k.seconds)} s` : '—'} | ${k ? `${fmt(o.seconds / k.seconds)}×` : '—'} |`);
  say(`| CPU (user + system) | ${fmt(o.cpu)} s | ${k ? `${fmt(k.cpu)} s` : '—'} | ${k ? `${fmt(o.cpu / k.cpu)}×` : '—'} |`);
  say(`| peak memory | ${mib(o.rss)} | ${k ? mib(k.rss) : '—'} | ${k ? `${fmt(o.rss / k.rss)}×` : '—'} |`);
  targets.push({ target: 'an ARPA file of over 2 GB loads', measured: `${fmt(size / 2 ** 30)} GiB in ${fmt(o.seconds)} s, ${mib(o.rss)}`, meets: size > 2e9 });
}
