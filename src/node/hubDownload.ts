/**
 * Downloads a model repository from a Hugging Face-compatible hub (`BASE/REPO/resolve/REV/FILE`):
 * the files a causal LM needs (core/neural/hfLayout.ts: the JSON files, one precision variant of the
 * graph and the external data files that graph names), each to a `.part` file that a later attempt resumes with an HTTP
 * Range request. Nothing the hub says is taken on trust: sizes are capped while streaming and
 * checked against Content-Length and Content-Range, a silent server times out, redirects are
 * bounded. A state file in the model folder records the verified files; the folder counts as a
 * model only once every file is verified and the caller's test load passed.
 */
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as path from 'path';
import { CancelledError, LmError, ModelFormatError } from '../core/errors';
import { MAX_ONNX_GRAPH_BYTES } from '../core/modelLimits';
import { HUB_ONNX_GRAPHS, ONNX_GRAPHS, OPTIONAL_FILES, REQUIRED_FILES, TOKENIZER_FILE } from '../core/neural/hfLayout';
import { readExternalDataNames } from './externalData';
import { MAX_CONFIG_JSON_BYTES, MAX_TOKENIZER_JSON_BYTES } from './neuralLoader';

/** Largest answer of the hub's file listing read. */
export const MAX_LISTING_BYTES = 4 << 20;

/** No response headers within this time: the hub is given up on. */
export const CONNECT_TIMEOUT_MS = 30_000;
/** No body bytes for this long after the headers (or the last bytes): the transfer is given up on. */
export const IDLE_TIMEOUT_MS = 60_000;
export const MAX_REDIRECTS = 5;
/**
 * A slow trickle that never goes idle long enough for IDLE_TIMEOUT_MS: in every RATE_WINDOW_MS the
 * hub must send at least MIN_BYTES_PER_SECOND on average, or the file is given up on (resumable).
 */
export const RATE_WINDOW_MS = 120_000;
export const MIN_BYTES_PER_SECOND = 1024;
/** The same limits as the loader's, so that a file the hub gives is one the loader reads. */
export const MAX_TOKENIZER_FILE_BYTES = MAX_TOKENIZER_JSON_BYTES;
/** Other JSON files (config.json, tokenizer_config.json, generation_config.json). */
export const MAX_CONFIG_FILE_BYTES = MAX_CONFIG_JSON_BYTES;
/** The smallest `lmPlayground.hub.maxDownloadBytes` taken: a smaller setting is raised to it. */
export const MIN_MAX_DOWNLOAD_BYTES = 2 ** 20;
export const MAX_GRAPH_FILE_BYTES = MAX_ONNX_GRAPH_BYTES;
/** All files of one model together (the `lmPlayground.hub.maxDownloadBytes` setting's default). */
export const DEFAULT_MAX_DOWNLOAD_BYTES = 3 * 2 ** 30;
/** In the model folder: the hub, the repository and the verified files with their sizes. */
export const DOWNLOAD_STATE_FILE = '.lmp-download.json';

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
  /** Aborts the transfer at once, also while the server is silent. */
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
  /** The graph to fetch (a path in the repository, e.g. onnx/model_q4.onnx); default: the first of HUB_ONNX_GRAPHS it has. */
  graph?: string;
  /** Runs once every file is verified (e.g. a test load); the folder is marked complete only if it resolves. */
  verify?: (dir: string) => Promise<void>;
  /** All files together; defaults to DEFAULT_MAX_DOWNLOAD_BYTES. */
  maxTotalBytes?: number;
  /** Per file; defaults to MAX_TOKENIZER_FILE_BYTES, MAX_CONFIG_FILE_BYTES for other .json files and MAX_GRAPH_FILE_BYTES otherwise. */
  maxFileBytes?: number;
  /** Defaults to CONNECT_TIMEOUT_MS, IDLE_TIMEOUT_MS, RATE_WINDOW_MS and MIN_BYTES_PER_SECOND (tests change them). */
  connectTimeoutMs?: number;
  idleTimeoutMs?: number;
  rateWindowMs?: number;
  minBytesPerSecond?: number;
}

interface DownloadState {
  repo: string;
  revision: string;
  hub: string;
  complete: boolean;
  /** Verified files (relative paths) and their sizes. */
  files: Record<string, number>;
  /** Partial files and the total size the hub announced for them: a resume must announce the same. */
  partial: Record<string, number>;
}

const REPO_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

/** `lmPlayground.hub.maxDownloadBytes` as taken: the default when unset or not a positive integer, at least MIN_MAX_DOWNLOAD_BYTES. */
export function clampMaxDownloadBytes(setting: number | undefined): number {
  if (setting === undefined || !Number.isSafeInteger(setting) || setting <= 0) return DEFAULT_MAX_DOWNLOAD_BYTES;
  return Math.max(setting, MIN_MAX_DOWNLOAD_BYTES);
}

/** Longest owner and name of a repository id taken (Hugging Face allows at most 96 characters). */
export const MAX_REPO_PART_CHARS = 96;
/** Longest folder name most file systems take. */
const MAX_FOLDER_NAME_CHARS = 255;

export function validateRepoId(repo: string): string {
  const r = repo.trim();
  const shown = r.length > 120 ? `${r.slice(0, 100)}… (${r.length} characters)` : r;
  if (!REPO_ID.test(r) || r.includes('..')) throw new LmError(`"${shown}" is not a Hugging Face repository id (expected owner/name, e.g. Xenova/distilgpt2)`);
  const [owner, name] = r.split('/');
  // `a/.` would address another path on the hub (URLs resolve dot segments) and another folder here.
  if (name === '.') throw new LmError(`"${r}" is not a Hugging Face repository id: the name cannot be "." or ".."`);
  for (const [what, part] of [
    ['owner', owner],
    ['name', name],
  ]) {
    if (part.length > MAX_REPO_PART_CHARS)
      throw new LmError(`"${shown}" is not a Hugging Face repository id: its ${what} has ${part.length} characters, more than ${MAX_REPO_PART_CHARS}`);
  }
  return r;
}

const escapeChar = (c: string) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;

/**
 * The folder name of a repository id: `owner__name`, as earlier versions named it, except that
 * underscores are written `%5F` in a part that has a run of them or would touch the separator
 * (`a/b__c` → `a__b%5F%5Fc`, `a__b/c` → `a%5F%5Fb__c`), so that the first `__` is always the
 * separator and no two ids share a folder. Ids cannot contain `%`, so `%XX` decodes unambiguously.
 * Windows' trailing dot and device names (`nul.x`) are escaped the same way.
 */
export function repoFolderName(repo: string): string {
  const [owner, name] = validateRepoId(repo).split('/');
  const part = (s: string, touchesSeparator: boolean) => (s.includes('__') || touchesSeparator ? s.replace(/_/g, escapeChar) : s);
  let folder = `${part(owner, owner.endsWith('_'))}__${part(name, name.startsWith('_'))}`;
  folder = folder.replace(/\.$/, escapeChar);
  if (/^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/i.test(folder)) folder = escapeChar(folder[0]) + folder.slice(1);
  // Escaped underscores take three characters: a long id of underscores could pass the file system's limit.
  if (folder.length > MAX_FOLDER_NAME_CHARS)
    throw new LmError(
      `"${repo}" makes a folder name of ${folder.length} characters, more than the ${MAX_FOLDER_NAME_CHARS} a file system takes: it cannot be downloaded`,
    );
  return folder;
}

function readState(dir: string): DownloadState | undefined | 'unreadable' {
  const file = path.join(dir, DOWNLOAD_STATE_FILE);
  if (!fs.existsSync(file)) return undefined;
  const sizes = (v: unknown) => typeof v === 'object' && v !== null && Object.values(v).every((n) => Number.isSafeInteger(n) && (n as number) >= 0);
  try {
    const s = JSON.parse(fs.readFileSync(file, 'utf8')) as DownloadState;
    if (typeof s !== 'object' || s === null || typeof s.repo !== 'string' || !sizes(s.files) || !sizes(s.partial ?? {})) return 'unreadable';
    return s;
  } catch {
    return 'unreadable';
  }
}

function writeState(dir: string, state: DownloadState): void {
  const file = path.join(dir, DOWNLOAD_STATE_FILE);
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 1));
  fs.renameSync(`${file}.tmp`, file);
}

function hasPartFiles(dir: string): boolean {
  return [dir, path.join(dir, 'onnx')].some((d) => fs.existsSync(d) && fs.readdirSync(d).some((f) => f.endsWith('.part')));
}

export interface DownloadedModel {
  repo: string;
  dir: string;
  /** Downloaded by a version that did not verify downloads (no state file). */
  legacy: boolean;
}

/**
 * The downloaded models in `dir` that can be selected: folders marked complete whose verified files
 * are all there. A download in progress, failed or cancelled is left out. Folders of earlier
 * versions (no state file) are kept when they have a config, a tokenizer and a graph and no partial
 * file; LM: Download Model on the same id verifies them.
 */
export function listDownloadedModels(dir: string): DownloadedModel[] {
  if (!fs.existsSync(dir)) return [];
  const out: DownloadedModel[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const folder = path.join(dir, e.name);
    const state = readState(folder);
    if (state === undefined) {
      const whole = REQUIRED_FILES.every((f) => fs.existsSync(path.join(folder, f))) && ONNX_GRAPHS.some((f) => fs.existsSync(path.join(folder, f)));
      if (whole && !hasPartFiles(folder)) out.push({ repo: e.name.replace('__', '/'), dir: folder, legacy: true });
      continue;
    }
    if (state === 'unreadable' || state.complete !== true) continue;
    const intact = Object.entries(state.files).every(([f, size]) => fileSize(path.join(folder, f)) === size);
    if (intact) out.push({ repo: state.repo, dir: folder, legacy: false });
  }
  return out.sort((a, b) => a.repo.localeCompare(b.repo));
}

/** The repository a folder was downloaded from (its download record), to name the model as the hub does. */
export function downloadedRepoOf(dir: string): string | undefined {
  const state = readState(dir);
  return typeof state === 'object' ? state.repo : undefined;
}

/** The files of a downloaded model's folder that a download verified and that are still as it left them. */
export function verifiedFiles(dir: string): Set<string> {
  const state = readState(dir);
  if (typeof state !== 'object') return new Set();
  return new Set(Object.entries(state.files).flatMap(([f, size]) => (fileSize(path.join(dir, f)) === size ? [f] : [])));
}

function fileSize(file: string): number | undefined {
  try {
    return fs.statSync(file).size;
  } catch {
    return undefined;
  }
}

function checkedBaseUrl(baseUrl: string): URL {
  let url: URL;
  try {
    url = new URL(baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  } catch {
    throw new LmError(`the hub address "${baseUrl}" (lmPlayground.hub.baseUrl) is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new LmError(`the hub address "${baseUrl}" (lmPlayground.hub.baseUrl) must be http or https`);
  return url;
}

function fileUrl(base: URL, o: DownloadOptions, file: string): URL {
  return new URL(`${o.repo}/resolve/${encodeURIComponent(o.revision ?? 'main')}/${file}`, base);
}

/** One transfer's abort: the user's cancel, a timeout, or a failed check; the first reason wins. */
class Transfer {
  reason: Error | undefined;
  /** The request in flight: destroyed on abort. */
  request: http.ClientRequest | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly onCancel = () => this.abort(new CancelledError());

  constructor(private readonly user: AbortSignal | undefined) {
    if (user?.aborted) this.abort(new CancelledError());
    user?.addEventListener('abort', this.onCancel);
  }

  abort(reason: Error): void {
    this.reason ??= reason;
    this.request?.destroy();
  }

  /** (Re)arms the timer that aborts with `message` after `ms` without a call to `arm` or `done`. */
  arm(ms: number, message: () => string): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.abort(new LmError(message())), ms);
  }

  done(): void {
    clearTimeout(this.timer);
    this.user?.removeEventListener('abort', this.onCancel);
  }
}

/** GET with bounded http/https redirects; resolves at the response headers (or the connect timeout). */
async function get(url: URL, headers: Record<string, string>, t: Transfer, connectMs: number): Promise<http.IncomingMessage> {
  for (let redirects = 0; ; redirects++) {
    t.arm(connectMs, () => `no answer from ${url.host} within ${connectMs / 1000} s`);
    const lib = url.protocol === 'https:' ? https : http;
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      if (t.reason) return reject(t.reason);
      const req = lib.get(url, { headers: { 'user-agent': 'lm-playground', ...headers } }, resolve);
      req.on('error', reject);
      t.request = req;
    });
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (status < 300 || status >= 400 || !location) return res;
    // Not resume(): a redirect's body would go on being received (unbounded, uncancellable); close it.
    res.destroy();
    if (redirects >= MAX_REDIRECTS) throw new LmError(`${url.origin} redirected more than ${MAX_REDIRECTS} times`);
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw new LmError(`${url.origin} redirected to an invalid address`);
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:')
      throw new LmError(`${url.origin} redirected to a ${next.protocol} address; only http and https are followed`);
    if (url.protocol === 'https:' && next.protocol === 'http:')
      throw new LmError(`${url.origin} redirected from https to plain http (${next.origin}); refused`);
    url = next;
  }
}

/** `bytes START-END/TOTAL` (TOTAL may be `*`). */
function parseContentRange(v: string | undefined): { start: number; end: number; total: number | undefined } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(v?.trim() ?? '');
  if (!m) return undefined;
  const r = { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? undefined : Number(m[3]) };
  return r.end >= r.start && (r.total === undefined || r.end < r.total) ? r : undefined;
}

/** A size limit was passed: the partial file is deleted, not kept for a resume. */
class DownloadLimitError extends LmError {}

class Download {
  private readonly base: URL;
  private readonly state: DownloadState;
  /**
   * The folder's state on disk while it is still the complete model it was (another variant being
   * added, the same files checked again): its files are replaced only once a new one is whole, so
   * until one is, a failed or cancelled download leaves that model as it was, listed and loading
   * (drive14 H1: an unreachable hub made a verified model "deleted or moved").
   */
  private kept: DownloadState | undefined;
  private readonly maxTotal: number;
  /** External data files: one may hold all the weights, so only the total cap applies to them. */
  readonly dataFiles = new Set<string>();

  constructor(private readonly o: DownloadOptions) {
    this.base = checkedBaseUrl(o.baseUrl);
    this.maxTotal = o.maxTotalBytes ?? DEFAULT_MAX_DOWNLOAD_BYTES;
    fs.mkdirSync(o.target, { recursive: true });
    const previous = readState(o.target);
    const revision = o.revision ?? 'main';
    const same = typeof previous === 'object' && previous.repo === o.repo && previous.revision === revision && previous.hub === this.base.href;
    this.state = {
      repo: o.repo,
      revision,
      hub: this.base.href,
      complete: false,
      files: same ? { ...previous.files } : {},
      partial: same && typeof previous.partial === 'object' && previous.partial ? previous.partial : {},
    };
    // A new folder, or one that was not a model, is not one until verified: a crash from here on leaves it unlisted.
    this.kept = typeof previous === 'object' && previous.complete === true ? previous : undefined;
    this.save();
  }

  /** Writes the state, unless the folder is still the complete model it was (`kept`). */
  private save(): void {
    if (!this.kept) writeState(this.o.target, this.state);
  }

  private maxFileBytes(file: string): number {
    if (this.o.maxFileBytes !== undefined) return this.o.maxFileBytes;
    if (this.dataFiles.has(file)) return this.maxTotal;
    if (file === TOKENIZER_FILE) return MAX_TOKENIZER_FILE_BYTES;
    return file.endsWith('.json') ? MAX_CONFIG_FILE_BYTES : MAX_GRAPH_FILE_BYTES;
  }

  /** Bytes of the other verified files: what this file may add is the rest of the total cap. */
  private bytesOfOthers(file: string): number {
    return Object.entries(this.state.files).reduce((sum, [f, size]) => (f === file ? sum : sum + size), 0);
  }

  /** Downloads one file with resume; returns false when the hub does not have it (404). */
  async file(file: string, required: boolean): Promise<boolean> {
    const o = this.o;
    const dest = path.join(o.target, file);
    const part = `${dest}.part`;
    const recorded = this.state.files[file];
    if (recorded !== undefined && fileSize(dest) === recorded) return true;
    delete this.state.files[file];
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    // A file in place that this state does not vouch for (an earlier version's, another hub's) stays
    // until the new one is whole: the download goes to the partial file beside it.
    const url = fileUrl(this.base, o, file);
    // At most one restart from byte 0 when the hub's answer to a resume does not fit the partial file.
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.transfer(file, url, part, required);
      if (outcome === 'restart' && attempt === 0) {
        fs.rmSync(part, { force: true });
        continue;
      }
      if (outcome === 'restart') throw new LmError(`downloading ${file} from ${url.origin} failed: the hub's answers to range requests do not fit the file`);
      if (outcome === 'missing') return false;
      // Replacing a file of the folder: from now on it is not the model it was until verified.
      if (fs.existsSync(dest)) this.kept = undefined;
      fs.renameSync(part, dest);
      this.state.files[file] = outcome.size;
      delete this.state.partial[file];
      this.save();
      return true;
    }
  }

  private async transfer(file: string, url: URL, part: string, required: boolean): Promise<'missing' | 'restart' | { size: number }> {
    const o = this.o;
    const have = fileSize(part) ?? 0;
    const overLimit = this.limitCheck(file);
    const t = new Transfer(o.signal);
    const connectMs = o.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
    const idleMs = o.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
    let res: http.IncomingMessage | undefined;
    try {
      try {
        res = await get(url, have > 0 ? { range: `bytes=${have}-` } : {}, t, connectMs);
      } catch (e) {
        throw t.reason ?? (e instanceof LmError ? e : new LmError(`cannot reach ${url.origin}: ${(e as Error).message}`));
      }
      const status = res.statusCode ?? 0;
      if (status === 404 || (status === 401 && !required)) {
        if (required) throw new LmError(`${o.repo} has no ${file} at ${url.origin} (404): is it an ONNX export of a causal language model?`);
        return 'missing';
      }
      // Range past the end: the partial file is longer than the hub's file (it changed, or the file was truncated).
      if (status === 416 && have > 0) return 'restart';
      if (status !== 200 && status !== 206) throw new LmError(`downloading ${file} from ${url.origin} failed: HTTP ${status}`);
      const length = res.headers['content-length'] === undefined ? undefined : Number(res.headers['content-length']);
      if (length !== undefined && !(Number.isSafeInteger(length) && length >= 0))
        throw new LmError(`downloading ${file} from ${url.origin} failed: invalid Content-Length "${res.headers['content-length']}"`);
      let start = 0;
      let total: number | undefined = length;
      if (status === 206) {
        const range = parseContentRange(res.headers['content-range']);
        // The body must continue the partial file exactly, or it would be spliced in at the wrong offset.
        if (!range || range.start !== have || (length !== undefined && length !== range.end - range.start + 1)) return 'restart';
        // A different total: the file changed on the hub since the partial file was started.
        const before = this.state.partial[file];
        if (before !== undefined && range.total !== undefined && range.total !== before) return 'restart';
        start = have;
        total = range.total ?? range.end + 1;
      } else if (length !== undefined) total = length; // 200: the whole file, from byte 0
      const announced = total !== undefined && overLimit(total);
      if (announced) {
        fs.rmSync(part, { force: true });
        throw announced;
      }
      if (total !== undefined && this.state.partial[file] !== total) {
        this.state.partial[file] = total;
        this.save();
      }
      const size = await this.body(res, part, start, total, overLimit, t, idleMs, file, url);
      if (t.reason) {
        // Bytes past a cap are no part of any valid file: nothing worth resuming.
        if (t.reason instanceof DownloadLimitError) fs.rmSync(part, { force: true });
        throw t.reason;
      }
      if (total !== undefined && size !== total) throw new LmError(`${file} is incomplete: ${size} of ${total} bytes (run the command again to resume)`);
      return { size };
    } finally {
      t.done();
      res?.destroy();
    }
  }

  /**
   * Streams the body into the partial file; resolves with its size once every byte taken is on
   * disk, also when the transfer stops (`t.reason` says why), so that a resume starts after them.
   */
  private body(
    res: http.IncomingMessage,
    part: string,
    start: number,
    total: number | undefined,
    overLimit: (n: number) => LmError | undefined,
    t: Transfer,
    idleMs: number,
    file: string,
    url: URL,
  ): Promise<number> {
    const out = fs.createWriteStream(part, { flags: start > 0 ? 'a' : 'w' });
    const idle = () => t.arm(idleMs, () => `${url.host} sent no data for ${idleMs / 1000} s while downloading ${file} (run the command again to resume)`);
    const windowMs = this.o.rateWindowMs ?? RATE_WINDOW_MS;
    const minRate = this.o.minBytesPerSecond ?? MIN_BYTES_PER_SECOND;
    let size = start;
    let ended = false;
    let windowStart = size;
    let rate: NodeJS.Timeout | undefined;
    return new Promise<number>((resolve) => {
      const finish = () => {
        if (ended) return;
        ended = true;
        clearInterval(rate);
        res.removeAllListeners('data');
        res.destroy();
        out.end();
      };
      rate = setInterval(() => {
        if (size - windowStart < (minRate * windowMs) / 1000) {
          t.abort(
            new LmError(
              `${url.host} sent only ${size - windowStart} bytes of ${file} in ${windowMs / 1000} s, less than ${minRate} bytes per second: giving up (run the command again to resume)`,
            ),
          );
          finish();
        }
        windowStart = size;
      }, windowMs);
      out.on('close', () => resolve(size));
      out.on('error', (e) => {
        t.abort(new LmError(`cannot write ${part}: ${e.message}`));
        finish();
      });
      res.on('data', (chunk: Buffer) => {
        const problem =
          overLimit(size + chunk.length) ??
          (total !== undefined && size + chunk.length > total
            ? new LmError(`${url.origin} sent more of ${file} than the ${total} bytes it announced`)
            : undefined);
        if (problem) {
          t.abort(problem);
          return finish();
        }
        size += chunk.length;
        if (!out.write(chunk)) {
          res.pause();
          out.once('drain', () => res.resume());
        }
        idle();
        this.o.onProgress?.({ file, received: size, total });
      });
      res.on('error', (e) => {
        // Node's own word for a dropped connection is "aborted": say what it means, and where the partial file waits.
        t.abort(
          new LmError(
            `the download of ${file} of ${this.o.repo} broke off: the connection to ${url.host} was lost (${e.message}); what arrived is kept in ${this.o.target}: run the command again to resume`,
          ),
        );
        finish();
      });
      res.on('end', finish);
      res.on('close', finish);
      idle();
    });
  }

  /** For a size of `file`: the limit it passes (per file, then all files together), if any. */
  private limitCheck(file: string): (bytes: number) => DownloadLimitError | undefined {
    const perFile = this.maxFileBytes(file);
    const others = this.bytesOfOthers(file);
    const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
    return (bytes) => {
      if (bytes > perFile)
        return new DownloadLimitError(
          `${file} of ${this.o.repo} is larger than the ${mib(perFile)} limit for such a file (${mib(bytes)} or more); nothing of it is kept`,
        );
      if (others + bytes > this.maxTotal)
        return new DownloadLimitError(
          `${this.o.repo} is larger than the download limit of ${mib(this.maxTotal)} (lmPlayground.hub.maxDownloadBytes); the partial ${file} is deleted`,
        );
      return undefined;
    };
  }

  /** Every verified file still has the size the hub gave; then the caller's check; then the folder counts as a model. */
  async finish(): Promise<void> {
    for (const [f, size] of Object.entries(this.state.files)) {
      if (fileSize(path.join(this.o.target, f)) !== size)
        throw new LmError(`${path.join(this.o.target, f)} changed during the download: run the command again`);
    }
    try {
      await this.o.verify?.(this.o.target);
    } catch (e) {
      if (!(e instanceof ModelFormatError)) throw e;
      // Whole copies of the hub's files that do not make a model: kept, a retry would vouch for
      // them and fail the same way without a request, and they would lie in the folder unlisted (hostile13 L4).
      const removed = this.discardDownloaded();
      throw new LmError(
        `${this.o.repo} does not load as a model: ${withoutRedownloadAdvice(e.message)}. Its files arrived whole (the sizes the hub gives), so the hub's copy itself is at fault: ` +
          `downloading again fetches the same unless the repository changes; choose another precision or repository. ${removed}`,
      );
    }
    writeState(this.o.target, { ...this.state, complete: true });
  }

  /** Removes what this download brought: the folder, or the files it added beside a model that is still as it was. */
  private discardDownloaded(): string {
    const kept = this.kept;
    if (!kept) {
      fs.rmSync(this.o.target, { recursive: true, force: true });
      return `The downloaded files were removed (${this.o.target}).`;
    }
    for (const f of Object.keys(this.state.files)) if (!(f in kept.files)) fs.rmSync(path.join(this.o.target, f), { force: true });
    return 'The files it added were removed; the model that was in the folder is as it was.';
  }
}

/**
 * A load error's text without its advice to download the file again (a short data file, an empty
 * graph), which a download that just fetched the hub's whole copy contradicts (hostile14 L1).
 */
function withoutRedownloadAdvice(message: string): string {
  return message.replace(/; download it again$/, '').replace(/: download it again \(LM: Download Model\), or /, ': ');
}

/** A file of a repository as the hub lists it. */
export interface HubFile {
  /** Path in the repository, `/` separators. */
  path: string;
  /** Bytes (for a Git LFS file, the file's, not its pointer's). */
  size: number;
}

/**
 * The files in one folder of a repository (`''` for its top), from the hub's tree API
 * (`BASE/api/models/REPO/tree/REV/FOLDER`); undefined when the hub answers 404 (no such folder, or
 * a server without the API, such as a plain mirror of `resolve/` URLs). Subfolders are left out.
 */
export async function listRepoFolder(
  o: Pick<DownloadOptions, 'baseUrl' | 'repo' | 'revision' | 'signal' | 'connectTimeoutMs' | 'idleTimeoutMs'>,
  folder: string,
): Promise<HubFile[] | undefined> {
  validateRepoId(o.repo);
  const base = checkedBaseUrl(o.baseUrl);
  const url = new URL(`api/models/${o.repo}/tree/${encodeURIComponent(o.revision ?? 'main')}${folder ? `/${folder}` : ''}`, base);
  const t = new Transfer(o.signal);
  const idleMs = o.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
  let res: http.IncomingMessage | undefined;
  try {
    try {
      res = await get(url, { accept: 'application/json' }, t, o.connectTimeoutMs ?? CONNECT_TIMEOUT_MS);
    } catch (e) {
      throw t.reason ?? (e instanceof LmError ? e : new LmError(`cannot reach ${url.origin}: ${(e as Error).message}`));
    }
    const status = res.statusCode ?? 0;
    if (status === 404) return undefined;
    if (status !== 200) throw new LmError(`listing the files of ${o.repo} at ${url.origin} failed: HTTP ${status}`);
    const body = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const idle = () => t.arm(idleMs, () => `${url.host} sent no data for ${idleMs / 1000} s while listing the files of ${o.repo}`);
      res!.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_LISTING_BYTES) return t.abort(new LmError(`the file listing of ${o.repo} is larger than ${MAX_LISTING_BYTES / 2 ** 20} MiB`));
        chunks.push(chunk);
        idle();
      });
      res!.on('end', () => resolve(Buffer.concat(chunks)));
      res!.on('close', () => reject(t.reason ?? new LmError(`the file listing of ${o.repo} broke off`)));
      res!.on('error', (e) => reject(t.reason ?? new LmError(`the file listing of ${o.repo} broke off: ${e.message}`)));
      idle();
    });
    let entries: unknown;
    try {
      entries = JSON.parse(body.toString('utf8'));
    } catch {
      throw new LmError(`the file listing of ${o.repo} from ${url.origin} is not JSON`);
    }
    if (!Array.isArray(entries)) throw new LmError(`the file listing of ${o.repo} from ${url.origin} is not a list`);
    const files: HubFile[] = [];
    for (const e of entries as { type?: unknown; path?: unknown; size?: unknown; lfs?: { size?: unknown } }[]) {
      const size = e?.lfs?.size ?? e?.size;
      if (e?.type === 'file' && typeof e.path === 'string' && typeof size === 'number' && Number.isSafeInteger(size) && size >= 0)
        files.push({ path: e.path, size });
    }
    return files;
  } finally {
    t.done();
    res?.destroy();
  }
}

/** Model folders being downloaded in this process: two downloads into one folder would mix their partial files. */
const inProgress = new Set<string>();

/** Downloads the files a causal LM needs; returns the model folder. Verified files already there are kept. */
export async function downloadModel(o: DownloadOptions): Promise<string> {
  validateRepoId(o.repo);
  const key = path.resolve(o.target);
  if (inProgress.has(key)) throw new LmError(`${o.repo} is already being downloaded into ${o.target}`);
  inProgress.add(key);
  try {
    const d = new Download(o);
    for (const f of REQUIRED_FILES) await d.file(f, true);
    for (const f of OPTIONAL_FILES) await d.file(f, false);
    let graph: string | undefined;
    if (o.graph !== undefined) {
      if (!ONNX_GRAPHS.includes(o.graph)) throw new LmError(`${o.graph} is not a graph file LM Playground runs (${ONNX_GRAPHS.slice(0, 4).join(', ')}, …)`);
      graph = o.graph;
      await d.file(graph, true);
    } else {
      for (const f of HUB_ONNX_GRAPHS) {
        if (await d.file(f, false)) {
          graph = f;
          break;
        }
      }
    }
    if (graph === undefined)
      throw new LmError(`${o.repo} has none of ${HUB_ONNX_GRAPHS.join(', ')}: it needs an ONNX export (e.g. from the transformers.js conversion scripts)`);
    // The weights the graph keeps beside it, by the names its initializers give.
    const folder = path.posix.dirname(graph);
    for (const { location } of readExternalDataNames(path.join(o.target, graph))) {
      const file = folder === '.' ? location : `${folder}/${location}`;
      d.dataFiles.add(file);
      await d.file(file, true);
    }
    await d.finish();
    return o.target;
  } finally {
    inProgress.delete(key);
  }
}
