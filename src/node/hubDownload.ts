/**
 * Downloads a model repository from a Hugging Face-compatible hub (`BASE/REPO/resolve/REV/FILE`):
 * the files a causal LM needs, each to a `.part` file that a later attempt resumes with an HTTP
 * Range request, verified against the server's size before it is moved into place.
 */
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as path from 'path';
import { CancelledError, LmError, type CancelSignal } from '../core/errors';

export const REQUIRED_FILES = ['config.json', 'tokenizer.json'];
export const OPTIONAL_FILES = ['tokenizer_config.json', 'generation_config.json'];
/** The first of these that the repository has is downloaded. */
export const GRAPH_CANDIDATES = ['onnx/model.onnx', 'onnx/decoder_model_merged.onnx', 'onnx/model_quantized.onnx', 'onnx/decoder_model_merged_quantized.onnx'];

export interface DownloadProgress {
  file: string;
  received: number;
  total: number | undefined;
}

export interface DownloadOptions {
  baseUrl: string;
  repo: string;
  revision?: string;
  /** Folder of the downloaded model (created). */
  target: string;
  signal?: CancelSignal;
  onProgress?: (p: DownloadProgress) => void;
}

const REPO_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

export function validateRepoId(repo: string): string {
  const r = repo.trim();
  if (!REPO_ID.test(r) || r.includes('..')) throw new LmError(`"${repo}" is not a Hugging Face repository id (expected owner/name, e.g. Xenova/distilgpt2)`);
  return r;
}

function fileUrl(o: DownloadOptions, file: string): URL {
  const base = o.baseUrl.endsWith('/') ? o.baseUrl : `${o.baseUrl}/`;
  return new URL(`${o.repo}/resolve/${encodeURIComponent(o.revision ?? 'main')}/${file}`, base);
}

function get(url: URL, headers: Record<string, string>, redirects = 5): Promise<http.IncomingMessage> {
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.get(url, { headers: { 'user-agent': 'lm-playground', ...headers }, timeout: 30_000 }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location && redirects > 0) {
        res.resume();
        resolve(get(new URL(res.headers.location, url), headers, redirects - 1));
      } else resolve(res);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url.host} for 30 s`)));
    req.on('error', reject);
  });
}

/** Downloads one file with resume; returns false when the hub does not have it (404). */
async function downloadFile(o: DownloadOptions, file: string, required: boolean): Promise<boolean> {
  const dest = path.join(o.target, file);
  if (fs.existsSync(dest)) return true;
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const part = `${dest}.part`;
  const have = fs.existsSync(part) ? fs.statSync(part).size : 0;
  const url = fileUrl(o, file);
  let res: http.IncomingMessage;
  try {
    res = await get(url, have > 0 ? { range: `bytes=${have}-` } : {});
  } catch (e) {
    throw new LmError(`cannot reach ${url.origin}: ${(e as Error).message}`);
  }
  const status = res.statusCode ?? 0;
  if (status === 404 || (status === 401 && !required)) {
    res.resume();
    if (required) throw new LmError(`${o.repo} has no ${file} at ${url.origin} (404): is it an ONNX export of a causal language model?`);
    return false;
  }
  if (status === 416 && have > 0) {
    // Range past the end: the part file is already complete.
    res.resume();
    fs.renameSync(part, dest);
    return true;
  }
  if (status !== 200 && status !== 206) {
    res.resume();
    throw new LmError(`downloading ${file} from ${url.origin} failed: HTTP ${status}`);
  }
  const resumed = status === 206;
  const length = Number(res.headers['content-length']);
  const total = Number.isFinite(length) ? (resumed ? have + length : length) : undefined;
  let received = resumed ? have : 0;
  const out = fs.createWriteStream(part, { flags: resumed ? 'a' : 'w' });
  await new Promise<void>((resolve, reject) => {
    let settled = false;
    // The first failure wins: destroying the response emits its own 'aborted'/'error' events.
    const fail = (e: Error) => {
      if (settled) return;
      settled = true;
      res.unpipe(out);
      res.destroy();
      // Keep what arrived (flushed to the .part file) so that the next attempt resumes from it.
      out.end(() => reject(e));
    };
    res.on('data', (chunk: Buffer) => {
      if (o.signal?.cancelled) return fail(new CancelledError());
      received += chunk.length;
      o.onProgress?.({ file, received, total });
    });
    res.on('error', (e) => fail(new LmError(`the download of ${file} broke off: ${e.message} (run the command again to resume)`)));
    res.on('aborted', () => fail(new LmError(`the download of ${file} broke off (run the command again to resume)`)));
    out.on('error', (e) => fail(new LmError(`cannot write ${part}: ${e.message}`)));
    out.on('finish', () => {
      if (!settled) resolve();
    });
    res.pipe(out);
  });
  const size = fs.statSync(part).size;
  if (total !== undefined && size !== total) {
    throw new LmError(`${file} is incomplete: ${size} of ${total} bytes (run the command again to resume)`);
  }
  fs.renameSync(part, dest);
  return true;
}

/** Downloads the files a causal LM needs; returns the model folder. Files already there are kept. */
export async function downloadModel(o: DownloadOptions): Promise<string> {
  validateRepoId(o.repo);
  for (const f of REQUIRED_FILES) await downloadFile(o, f, true);
  for (const f of OPTIONAL_FILES) await downloadFile(o, f, false);
  let graph = false;
  for (const f of GRAPH_CANDIDATES) {
    if (await downloadFile(o, f, false)) {
      graph = true;
      break;
    }
  }
  if (!graph) throw new LmError(`${o.repo} has none of ${GRAPH_CANDIDATES.join(', ')}: it needs an ONNX export (e.g. from the transformers.js conversion scripts)`);
  return o.target;
}
