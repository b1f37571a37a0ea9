/**
 * Training benchmark: `lmp train-ngram --arpa` against KenLM's `lmplz` (when KENLM_BIN names a
 * KenLM build's bin folder), whole processes on the same text, orders 3, 4 and 5, the two taking
 * turns run by run: wall time, CPU time and peak memory by /usr/bin/time. Every run's ARPA is
 * checked against lmplz's: the same n-gram counts, and probabilities and backoffs within the
 * digits ARPA prints.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as readline from 'readline';
import { fmt, median } from './benchFigures';

export interface TrainingTarget {
  target: string;
  measured: string;
  meets: boolean | undefined;
}

interface ProcessCost {
  wall: number;
  cpu: number;
  /** Bytes. */
  peak: number;
}

/** Differences of log10 values between the two ARPA files above this are an error: both print about 7 digits. */
const ARPA_DIGITS_TOLERANCE = 1e-4;
/** Every so many n-grams of our file are looked up in KenLM's (all of them would take gigabytes of strings). */
const SAMPLE_EVERY = 17;

function timed(command: string, args: string[]): ProcessCost {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', command, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${r.stderr}`);
  const [wall, user, sys, kb] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  return { wall, cpu: user + sys, peak: kb * 1024 };
}

/** The n-gram counts of an ARPA header. */
async function arpaCounts(file: string): Promise<number[]> {
  const counts: number[] = [];
  const lines = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  for await (const line of lines) {
    const m = /^ngram (\d+)=(\d+)$/.exec(line);
    if (m) counts.push(Number(m[2]));
    else if (line.startsWith('\\1-grams:')) break;
  }
  lines.close();
  return counts;
}

/** Entries of an ARPA file: every `every`-th line of each section (or those named by `only`), as n-gram → [log10 p, log10 backoff]. */
async function arpaEntries(file: string, every: number, only?: Map<string, [number, number]>): Promise<Map<string, [number, number]>> {
  const out = new Map<string, [number, number]>();
  let section = 0;
  let i = 0;
  for await (const line of readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity })) {
    const m = /^\\(\d)-grams:$/.exec(line);
    if (m) {
      section = Number(m[1]);
      continue;
    }
    if (!section || !line || line.startsWith('\\')) continue;
    const f = line.split('\t');
    if (only ? !only.has(f[1]) : i++ % every !== 0 && section > 1) continue;
    out.set(f[1], [Number(f[0]), f[2] === undefined ? 0 : Number(f[2])]);
  }
  return out;
}

/** The largest difference between the sampled entries of ours and KenLM's file (an entry missing there is an error). */
async function compareArpa(ours: string, kenlm: string): Promise<number> {
  const mine = await arpaEntries(ours, SAMPLE_EVERY);
  const theirs = await arpaEntries(kenlm, 1, mine);
  let largest = 0;
  for (const [ngram, [p, b]] of mine) {
    const t = theirs.get(ngram);
    if (!t) throw new Error(`KenLM's ARPA has no ${JSON.stringify(ngram)}`);
    // <s> is never predicted: lmplz writes 0 for it, LM Playground -99 (both mean "not a word to predict").
    if (ngram !== '<s>') largest = Math.max(largest, Math.abs(p - t[0]));
    largest = Math.max(largest, Math.abs(b - t[1]));
  }
  if (!(largest <= ARPA_DIGITS_TOLERANCE)) throw new Error(`the ARPA files differ by up to ${largest} (log10) from KenLM's`);
  return largest;
}

export async function trainingSection(say: (s?: string) => void, targets: TrainingTarget[], root: string, corpus: string, runs: number): Promise<void> {
  const cli = path.join(root, 'dist', 'cli.js');
  const files = fs
    .readdirSync(path.join(corpus, 'train'))
    .sort()
    .map((f) => path.join(corpus, 'train', f));
  const kenlmBin = process.env.KENLM_BIN;
  const lmplz = kenlmBin ? path.join(kenlmBin, 'lmplz') : undefined;
  const haveKenlm = lmplz !== undefined && fs.existsSync(lmplz);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-train-bench-'));
  try {
    // lmplz reads one text: the files one after the other (each ends with a line feed, so the lines are the same).
    const joined = path.join(tmp, 'train.txt');
    fs.writeFileSync(joined, Buffer.concat(files.map((f) => fs.readFileSync(f))));
    say();
    say(
      `## Training (\`lmp train-ngram --arpa\` and KenLM \`lmplz -S 2G\`, whole processes, all of \`shared/corpus/en/train\`, ${fmt(fs.statSync(joined).size / 2 ** 20)} MiB)`,
    );
    say();
    if (!haveKenlm) {
      say(
        `KenLM is not there (${kenlmBin ? `no lmplz in KENLM_BIN=${kenlmBin}` : 'KENLM_BIN is not set'}; point it at a KenLM build's bin folder): LM Playground alone, no ratios and no targets judged.`,
      );
      say();
    }
    const loadBefore = os.loadavg()[0];
    say(
      `${runs} pairs of runs per order, the two programs taking turns (LM Playground first in odd pairs, lmplz first in even ones); wall and CPU time and peak memory (resident) by \`/usr/bin/time\`. Each figure is the median over the runs; each ratio is the median of the ratios within a pair (the two runs of a pair ran back to back under the same load).`,
    );
    say();
    say(
      "| order | LM Playground: wall, CPU, peak | KenLM lmplz: wall, CPU, peak | ratio wall / CPU / peak (median of pairs) | pairs' wall ratios | same ARPA |",
    );
    say('|---:|---:|---:|---:|---|---|');
    for (const order of [3, 4, 5]) {
      const ours: ProcessCost[] = [];
      const theirs: ProcessCost[] = [];
      const oursArpa = path.join(tmp, `lmp-${order}.arpa`);
      const kenlmArpa = path.join(tmp, `kenlm-${order}.arpa`);
      const runOurs = () => ours.push(timed(process.execPath, [cli, 'train-ngram', '--order', String(order), '--arpa', oursArpa, ...files]));
      const runKenlm = () => theirs.push(timed(lmplz!, ['-o', String(order), '-S', '2G', '--text', joined, '--arpa', kenlmArpa]));
      for (let r = 0; r < runs; r++) {
        if (!haveKenlm) runOurs();
        else if (r % 2 === 0) {
          runOurs();
          runKenlm();
        } else {
          runKenlm();
          runOurs();
        }
      }
      const cost = (c: ProcessCost[]) => ({ wall: median(c.map((x) => x.wall)), cpu: median(c.map((x) => x.cpu)), peak: median(c.map((x) => x.peak)) });
      const o = cost(ours);
      const show = (c: { wall: number; cpu: number; peak: number }) => `${fmt(c.wall)} s, ${fmt(c.cpu)} s, ${fmt(c.peak / 2 ** 20)} MiB`;
      if (!haveKenlm) {
        say(`| ${order} | ${show(o)} | — | — | — | — |`);
        continue;
      }
      const k = cost(theirs);
      const pairRatio = (key: keyof ProcessCost) => ours.map((x, i) => x[key] / theirs[i][key]);
      const wallRatios = pairRatio('wall');
      const ratio = { wall: median(wallRatios), cpu: median(pairRatio('cpu')), peak: median(pairRatio('peak')) };
      const countsOurs = await arpaCounts(oursArpa);
      const countsKenlm = await arpaCounts(kenlmArpa);
      if (countsOurs.join() !== countsKenlm.join())
        throw new Error(`order ${order}: LM Playground wrote ${countsOurs} n-grams per order, lmplz ${countsKenlm}`);
      const largest = await compareArpa(oursArpa, kenlmArpa);
      say(
        `| ${order} | ${show(o)} | ${show(k)} | ${fmt(ratio.wall)}× / ${fmt(ratio.cpu)}× / ${fmt(ratio.peak)}× | ${wallRatios.map((r) => fmt(r)).join(', ')} | counts ${countsOurs.map((c) => fmt(c, 7)).join(' / ')}; largest log10 difference ${largest === 0 ? '0' : largest.toExponential(1)} |`,
      );
      targets.push({
        target: `training order ${order}: wall ≤ 1.0× KenLM lmplz`,
        measured: `${fmt(ratio.wall)}× (median of ${runs} pairs)`,
        meets: ratio.wall <= 1,
      });
    }
    say();
    say(
      `Load average (1 minute) on ${os.cpus().length} cores: ${fmt(loadBefore, 2)} when the section began, ${fmt(os.loadavg()[0], 2)} when it ended (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC).`,
    );
    say();
    say(
      `"Same ARPA": the n-gram counts per order are lmplz's, and every ${SAMPLE_EVERY}th n-gram of each section above the unigrams (all unigrams) has lmplz's probability and backoff within ${ARPA_DIGITS_TOLERANCE} in log10 (both print about 7 significant digits); checked every run, the benchmark stops otherwise.`,
    );
    say(
      "LM Playground counts on two threads (one reads and tokenizes, the other counts); the tokenizing thread, done, then moves half of the records in every pass of the radix sorts (the counted n-grams into suffix order, each order into trie order), adjusts the counts of half of the n-grams, and makes and sorts each order's trie records while the counting thread estimates the order below; a third thread, started once the text is counted, writes the header and the lower orders of the ARPA, each as soon as the model has it, and the counting thread writes the highest, the file flushed to the disk as it is written; lmplz runs its own threads. On a shared machine both get what the other processes leave: the ratios of one run compare like with like better than the absolute times.",
    );
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
