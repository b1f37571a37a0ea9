/**
 * A model through `lmp serve` on loopback against the same model in this process, as the editor
 * uses each: the heat-map's tokens per second (local: the tokenizer, then `scoreInChunks`'s
 * windows with ranks; remote: `scoreInServerChunks` with the heat-map's settings) and the hover's
 * latency (local: the window before the token, its distribution and the word's parts; remote: the
 * line sent with its context, `serverHoverAt`). The two take turns run by run.
 */
import { contextWindow } from '../src/core/contextWindow';
import type { LanguageModel } from '../src/core/model';
import { chunkContextStart, scoreInChunks } from '../src/editor/chunkedScoring';
import { hoverFactsAt } from '../src/editor/hoverFacts';
import { heatmapServerOptions, scoreInServerChunks, serverHoverAt } from '../src/editor/serverScoring';
import { openRemote } from '../src/node/backends/remoteBackend';
import { loadModel } from '../src/node/modelLoader';
import { startServe } from './serveProcess';

export interface RemoteBench {
  /** Characters of text the heat-map scores. */
  chars: number;
  /** Tokens each heat-map run scored: local, remote. */
  tokens: { local: number; remote: number };
  /** Heat-map tokens per second, per run. */
  heatmap: { local: number[]; remote: number[] };
  /** Hover latency in ms, every hover of every run. */
  hover: { local: number[]; remote: number[] };
  hovers: number;
}

/** The editor's default lmPlayground.contextChars and hover top-k. */
const CONTEXT_CHARS = 4000;
const HOVER_TOP_K = 5;
/** The default lmPlayground.heatmap.rankThresholds[0]: the first colour's rank. */
const FIRST_RANK_THRESHOLD = 10;

/** Word starts spread over the text, each on a line with text before it. */
function hoverOffsets(text: string, n: number): number[] {
  const out: number[] = [];
  for (let k = 1; out.length < n && k <= 4 * n; k++) {
    let at = Math.floor((k * text.length) / (4 * n + 1));
    while (at < text.length && !/\s/.test(text[at])) at++;
    while (at < text.length && /\s/.test(text[at])) at++;
    if (at < text.length && at > CONTEXT_CHARS / 4 && !out.includes(at)) out.push(at);
  }
  return out.slice(0, n);
}

function lineAround(text: string, offset: number): { text: string; start: number; end: number } {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  const nl = text.indexOf('\n', offset);
  const end = nl < 0 ? text.length : nl;
  return { text: text.slice(start, end), start, end };
}

async function localHeatmap(model: LanguageModel, text: string): Promise<number> {
  const tokens = model.tokenizer.encode(text, true);
  const ids = tokens.map((t) => t.id);
  let scored = 0;
  await scoreInChunks(model, ids, 1, ids.length, { onChunk: (_s, r) => (scored += r.logProbs.length) });
  return scored;
}

async function remoteHeatmap(model: LanguageModel, text: string): Promise<number> {
  let scored = 0;
  const read = (a: number, b: number) => text.slice(a, b);
  await scoreInServerChunks(model.server!, read, 0, text.length, {
    ...heatmapServerOptions(model.info.contextLength, CONTEXT_CHARS, FIRST_RANK_THRESHOLD),
    onChunk: (tokens) => (scored += tokens.length),
  });
  return scored;
}

/** The local hover as the editor computes it outside the heat-map (vscode/tokenHover.ts). */
async function localHover(model: LanguageModel, text: string, offset: number): Promise<void> {
  const line = lineAround(text, offset);
  const readFrom = Math.max(0, offset - CONTEXT_CHARS - 1);
  const raw = text.slice(readFrom, line.end);
  const w = contextWindow(raw, offset - readFrom, CONTEXT_CHARS, model.tokenizer);
  const start = readFrom + w.start;
  const atStart = w.atStart && (readFrom === 0 || w.start > 0);
  const fromDocumentStart = start === 0 && atStart;
  const W = Math.max(1, model.info.contextLength);
  const facts = await hoverFactsAt(
    model,
    {
      tokens: model.tokenizer.encode(raw.slice(w.start), atStart, start),
      fromDocumentStart,
      contextStart: fromDocumentStart ? (i) => chunkContextStart(model, i) : (i) => Math.max(0, i - (W - 1)),
    },
    offset,
    line,
    HOVER_TOP_K,
  );
  if (!facts) throw new Error(`no local hover at ${offset}`);
}

async function remoteHover(model: LanguageModel, text: string, offset: number): Promise<void> {
  const line = lineAround(text, offset);
  const windowStart = Math.max(0, offset - CONTEXT_CHARS);
  const facts = await serverHoverAt(model.server!, model.info.name, (a, b) => text.slice(a, b), offset, line, windowStart, {
    topK: HOVER_TOP_K,
    contextTokensHint: model.info.contextLength,
  });
  if (!facts) throw new Error(`no remote hover at ${offset}`);
  if (facts.alternatives.length === 0) throw new Error(`the remote hover at ${offset} has no alternatives`);
}

export async function benchRemote(cli: string, spec: string, text: string, runs: number, hovers = 24): Promise<RemoteBench> {
  const serve = await startServe(cli, spec);
  const local = await loadModel(spec);
  let remote: LanguageModel | undefined;
  try {
    remote = await openRemote(`${serve.baseURL}#${spec}`);
    const offsets = hoverOffsets(text, hovers);
    const out: RemoteBench = {
      chars: text.length,
      tokens: { local: 0, remote: 0 },
      heatmap: { local: [], remote: [] },
      hover: { local: [], remote: [] },
      hovers: offsets.length,
    };
    // Warm-up: the first calls pay for lazy initialisation on both sides.
    await localHeatmap(local, text.slice(0, 2000));
    await remoteHeatmap(remote, text.slice(0, 2000));
    for (let run = 0; run < runs; run++) {
      let t = performance.now();
      out.tokens.local = await localHeatmap(local, text);
      out.heatmap.local.push(out.tokens.local / ((performance.now() - t) / 1000));
      t = performance.now();
      out.tokens.remote = await remoteHeatmap(remote, text);
      out.heatmap.remote.push(out.tokens.remote / ((performance.now() - t) / 1000));
      for (const offset of offsets) {
        t = performance.now();
        await localHover(local, text, offset);
        out.hover.local.push(performance.now() - t);
        t = performance.now();
        await remoteHover(remote, text, offset);
        out.hover.remote.push(performance.now() - t);
      }
    }
    return out;
  } finally {
    remote?.dispose?.();
    local.dispose?.();
    await serve.stop();
  }
}
