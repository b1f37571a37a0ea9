/**
 * LM: Train N-gram Model on Workspace: a Kneser-Ney model of the workspace's own text (files by
 * glob), trained with a cancellable progress bar, saved in the extension's storage, selected, and
 * judged on held-out text (the last tenth of every file, which it does not train on).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { promisify } from 'util';
import * as zlib from 'zlib';
import { CancelledError, LmError } from '../core/errors';
import { NgramTrainingJob } from '../node/trainingHost';
import { globProblem } from '../editor/globCheck';
import { splitHeldOut } from '../editor/heldOut';
import { skippedFilesNote, type SkippedFile } from '../editor/skippedFiles';
import { SECTION } from './settings';
import { bytesDigest, fileDigest, writeTrainedFiles } from './trainedFiles';

const MAX_FILES = 100_000;
const RECOMMENDED_ORDER = 4;

/** The order, the recommended one already highlighted: Enter takes it. */
function pickOrder(): Promise<number | undefined> {
  const items = [2, 3, 4, 5, 6].map((n) => ({
    label: `${n}-gram`,
    description: n === RECOMMENDED_ORDER ? 'recommended' : n < RECOMMENDED_ORDER ? 'less context, less memory' : 'more context: needs much text',
    order: n,
  }));
  const pick = vscode.window.createQuickPick<(typeof items)[number]>();
  pick.title = 'LM: Train N-gram Model on Workspace (2/2)';
  pick.placeholder = 'Order of the model';
  pick.items = items;
  pick.activeItems = items.filter((i) => i.order === RECOMMENDED_ORDER);
  return new Promise((resolve) => {
    pick.onDidAccept(() => {
      resolve((pick.selectedItems[0] ?? pick.activeItems[0])?.order);
      pick.hide();
    });
    pick.onDidHide(() => {
      resolve(undefined);
      pick.dispose();
    });
    pick.show();
  });
}
const gzip = promisify(zlib.gzip);

export async function trainWorkspaceModel(trainedDir: string, log: vscode.LogOutputChannel, args?: { glob?: string; order?: number }): Promise<void> {
  if (!vscode.workspace.isTrusted) throw new LmError("training reads the workspace's files: trust this workspace first (Workspaces: Manage Workspace Trust)");
  const folders = vscode.workspace.workspaceFolders;
  if (!folders?.length) throw new LmError('open a folder to train on first');
  const glob =
    args?.glob ??
    (await vscode.window.showInputBox({
      title: 'LM: Train N-gram Model on Workspace (1/2)',
      prompt: 'Files to train on (a glob over the workspace)',
      value: '**/*.{txt,md}',
      validateInput: globProblem,
    }));
  if (glob === undefined) return;
  const problem = globProblem(glob);
  if (problem) throw new LmError(problem);
  // The files are found before the order is asked: a glob that matches nothing (or that the search refuses) is said at once.
  let files: vscode.Uri[];
  try {
    files = await vscode.workspace.findFiles(glob, '**/{node_modules,.git}/**', MAX_FILES);
  } catch (e) {
    throw new LmError(`the glob ${glob} cannot be searched: ${(e as Error).message.replace(/^.*?error parsing glob '[^']*': /s, '')}`);
  }
  if (files.length === 0) throw new LmError(`no files in the workspace match ${glob}`);
  const order = args?.order ?? (await pickOrder());
  if (order === undefined) return;
  files.sort((a, b) => a.fsPath.localeCompare(b.fsPath));
  const name = `${vscode.workspace.name ?? folders[0].name}-${order}gram`.replace(/[^\w.-]+/g, '-');

  const started = Date.now();
  let result: { file: string; tokens: number; ngrams: number; perplexity: number; bitsPerChar: number; skipped: SkippedFile[] };
  try {
    result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `LM: training ${name}`, cancellable: true },
      async (progress, token) => {
        const check = () => {
          if (token.isCancellationRequested) throw new CancelledError();
        };
        const sizes = await Promise.all(files.map(async (f) => (await vscode.workspace.fs.stat(f)).size));
        const totalBytes = sizes.reduce((a, b) => a + b, 0);
        // Counting and estimating run in a worker thread: the extension host stays responsive.
        const job = new NgramTrainingJob(order);
        const stop = token.onCancellationRequested(() => job.cancel());
        try {
          let doneBytes = 0;
          const skipped: SkippedFile[] = [];
          let tokens = 0;
          const learnt: string[] = [];
          const digests: string[] = [];
          for (const [i, file] of files.entries()) {
            check();
            const report = (bytes: number) => {
              const elapsed = (Date.now() - started) / 1000;
              const at = doneBytes + bytes;
              // The first moments' rate says little (drive7: "about 80615 s left" for a second).
              const settled = elapsed >= 3 || at >= totalBytes * 0.05;
              const eta = at > 0 ? (elapsed / at) * (totalBytes - at) : 0;
              progress.report({
                message: `${i + 1} of ${files.length} files · ${tokens.toLocaleString('en-US')} tokens · ${settled ? `about ${Math.ceil(eta)} s left` : 'estimating the time left'}`,
                increment: totalBytes ? ((bytes - reported) / totalBytes) * 80 : bytes === sizes[i] ? 80 / files.length : 0,
              });
              reported = bytes;
            };
            let reported = 0;
            if (file.scheme === 'file') {
              // The worker reads the file in chunks: a file of hundreds of megabytes is never one string here.
              const added = await job.addFile(file.fsPath, (bytes, counted) => {
                tokens = counted;
                report(bytes);
              });
              tokens = added.tokens;
              if (added.skipped) skipped.push({ name: vscode.workspace.asRelativePath(file), reason: added.skipped });
              else {
                learnt.push(file.toString());
                digests.push(await fileDigest(file.fsPath));
              }
            } else {
              const bytes = await vscode.workspace.fs.readFile(file);
              if (bytes.indexOf(0) >= 0) skipped.push({ name: vscode.workspace.asRelativePath(file), reason: 'binary' });
              else {
                learnt.push(file.toString());
                digests.push(bytesDigest(bytes));
                const split = splitHeldOut(bytes);
                tokens = await job.add(split.train, split.heldOut);
              }
            }
            report(sizes[i]);
            doneBytes += sizes[i];
          }
          check();
          if (tokens === 0) throw new LmError(`the files matching ${glob} hold no text`);
          progress.report({ message: 'estimating the model and scoring the held-out text…' });
          const done = await job.finish({
            name,
            tokenizer: 'editor',
            order,
            trainedOn: `${glob} in ${folders.map((f) => f.name).join(', ')} (${files.length - skipped.length} files)`,
          });
          check();
          const perplexity = done.heldOut.tokens ? Math.exp(-done.heldOut.logProb / done.heldOut.tokens) : NaN;
          const bitsPerChar = done.heldOut.chars ? -done.heldOut.logProb / Math.LN2 / done.heldOut.chars : NaN;
          const bytes = done.bytes;
          // Written to a temporary file and renamed: a cancelled or failed run leaves nothing behind.
          const dir = path.join(trainedDir, name);
          fs.mkdirSync(dir, { recursive: true });
          const file = path.join(dir, 'model.ngram.gz');
          const tmp = `${file}.partial`;
          // Compressed on libuv's thread pool: a large model's gzip would hold the host for seconds.
          fs.writeFileSync(tmp, await gzip(bytes, { level: 6 }));
          fs.renameSync(tmp, file);
          // The folder's model is this file (a plain model.ngram would be read first).
          fs.rmSync(path.join(dir, 'model.ngram'), { force: true });
          writeTrainedFiles(dir, { files: learnt, digests });
          return { file: dir, tokens: done.tokens, ngrams: done.ngrams, perplexity, bitsPerChar, skipped };
        } catch (e) {
          job.cancel();
          if (token.isCancellationRequested) throw new CancelledError();
          throw e;
        } finally {
          stop.dispose();
        }
      },
    );
  } catch (e) {
    if (e instanceof CancelledError) {
      void vscode.window.showInformationMessage('LM: training cancelled; no model was saved and the active model did not change.');
      return;
    }
    throw e;
  }
  const seconds = (Date.now() - started) / 1000;
  log.info(
    `trained ${name}: ${result.tokens} tokens, ${result.ngrams} n-grams in ${seconds.toFixed(1)} s; held-out perplexity ${result.perplexity.toFixed(1)}`,
  );
  for (const f of result.skipped) log.info(`training skipped ${f.name}: ${f.reason}`);
  const config = vscode.workspace.getConfiguration(SECTION);
  const target = config.inspect<string>('model')?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await config.update('model', result.file, target);
  const heldOut = Number.isFinite(result.perplexity)
    ? `held-out perplexity ${result.perplexity.toFixed(1)} per token (${result.bitsPerChar.toFixed(2)} bits/char)`
    : 'no held-out text (files too short to keep a tenth aside)';
  void vscode.window.showInformationMessage(
    `LM: trained ${name} on ${result.tokens.toLocaleString('en-US')} tokens (${result.ngrams.toLocaleString('en-US')} n-grams) in ${seconds.toFixed(1)} s; ${heldOut}.${result.skipped.length ? ` ${skippedFilesNote(result.skipped)}` : ''} It is now the active model.`,
  );
}
