/**
 * LM: Train N-gram Model on Workspace: a Kneser-Ney model of the workspace's own text (files by
 * glob), trained with a cancellable progress bar, saved in the extension's storage, selected, and
 * judged on held-out text (the last tenth of every file, which it does not train on).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import * as zlib from 'zlib';
import { CancelledError, LmError } from '../core/errors';
import { writeNgramBinary } from '../core/ngram/binaryFormat';
import { DEFAULT_FALLBACK_DISCOUNTS, KneserNeyTrainer } from '../core/ngram/kneserNey';
import { NgramLanguageModel } from '../core/ngram/ngramLanguageModel';
import { addTextToTrainer } from '../core/ngram/textTraining';
import { scoreText } from '../core/scoring';
import { NGRAM_FILE_NAMES } from '../node/modelLoader';
import { SECTION } from './settings';
import { looksBinary } from './textWindow';

const HELD_OUT = 0.1;
const MAX_FILES = 100_000;

/** Training text and held-out text of one file: the held-out part is its last tenth, from a line start. */
export function splitHeldOut(text: string): { train: string; heldOut: string } {
  const cut = text.lastIndexOf('\n', Math.floor(text.length * (1 - HELD_OUT)));
  if (cut <= 0) return { train: text, heldOut: '' };
  return { train: text.slice(0, cut + 1), heldOut: text.slice(cut + 1) };
}

export async function trainWorkspaceModel(trainedDir: string, log: vscode.LogOutputChannel, args?: { glob?: string; order?: number }): Promise<void> {
  if (!vscode.workspace.isTrusted) throw new LmError('training reads the workspace\'s files: trust this workspace first (Workspaces: Manage Workspace Trust)');
  const folders = vscode.workspace.workspaceFolders;
  if (!folders?.length) throw new LmError('open a folder to train on first');
  const glob = args?.glob ?? (await vscode.window.showInputBox({
    title: 'LM: Train N-gram Model on Workspace (1/2)',
    prompt: 'Files to train on (a glob over the workspace)',
    value: '**/*.{txt,md}',
    validateInput: (v) => (v.trim().length === 0 ? 'give a glob, e.g. **/*.txt' : undefined),
  }));
  if (glob === undefined) return;
  let order = args?.order;
  if (order === undefined) {
    const pick = await vscode.window.showQuickPick(
      [2, 3, 4, 5, 6].map((n) => ({ label: `${n}-gram`, description: n === 4 ? 'recommended' : n < 4 ? 'less context, less memory' : 'more context: needs much text', order: n })),
      { title: 'LM: Train N-gram Model on Workspace (2/2)', placeHolder: 'Order of the model' },
    );
    if (!pick) return;
    order = pick.order;
  }
  const files = await vscode.workspace.findFiles(glob, '**/{node_modules,.git}/**', MAX_FILES);
  if (files.length === 0) throw new LmError(`no files in the workspace match ${glob}`);
  files.sort((a, b) => a.fsPath.localeCompare(b.fsPath));
  const name = `${vscode.workspace.name ?? folders[0].name}-${order}gram`.replace(/[^\w.-]+/g, '-');

  const started = Date.now();
  let result: { file: string; tokens: number; ngrams: number; perplexity: number; bitsPerChar: number; skipped: number };
  try {
    result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `LM: training ${name}`, cancellable: true },
      async (progress, token) => {
        const check = () => {
          if (token.isCancellationRequested) throw new CancelledError();
        };
        const sizes = await Promise.all(files.map(async (f) => (await vscode.workspace.fs.stat(f)).size));
        const totalBytes = sizes.reduce((a, b) => a + b, 0);
        const trainer = new KneserNeyTrainer({ order: order!, discountFallback: DEFAULT_FALLBACK_DISCOUNTS });
        const heldOut: string[] = [];
        let doneBytes = 0;
        let skipped = 0;
        for (const [i, file] of files.entries()) {
          check();
          const text = new TextDecoder('utf-8').decode(await vscode.workspace.fs.readFile(file));
          if (looksBinary(text)) skipped++;
          else {
            const split = splitHeldOut(text);
            addTextToTrainer(trainer, split.train, 'editor');
            if (split.heldOut.trim()) heldOut.push(split.heldOut);
          }
          doneBytes += sizes[i];
          const elapsed = (Date.now() - started) / 1000;
          const eta = doneBytes > 0 ? (elapsed / doneBytes) * (totalBytes - doneBytes) : 0;
          progress.report({
            message: `${i + 1} of ${files.length} files · ${trainer.tokenCount.toLocaleString('en-US')} tokens · about ${Math.ceil(eta)} s left`,
            increment: totalBytes ? (sizes[i] / totalBytes) * 80 : 80 / files.length,
          });
          // Let the extension host breathe between files.
          await new Promise<void>((r) => setTimeout(r, 0));
        }
        check();
        if (trainer.tokenCount === 0) throw new LmError(`the files matching ${glob} hold no text`);
        progress.report({ message: 'estimating the model…' });
        const { model, stats } = trainer.build();
        check();
        progress.report({ message: 'scoring the held-out text…', increment: 10 });
        const lm = new NgramLanguageModel(model, 'editor', name);
        let logProb = 0;
        let tokens = 0;
        let chars = 0;
        for (const piece of heldOut) {
          const { summary } = await scoreText(lm, piece, { signal: { get cancelled() { return token.isCancellationRequested; } } });
          logProb += summary.logProbNats;
          tokens += summary.tokens;
          chars += summary.chars;
        }
        check();
        const perplexity = tokens ? Math.exp(-logProb / tokens) : NaN;
        const bitsPerChar = chars ? -logProb / Math.LN2 / chars : NaN;
        const bytes = writeNgramBinary(model, {
          name,
          tokenizer: 'editor',
          order: order!,
          trainingTokens: stats.tokens,
          trainedOn: `${glob} in ${folders.map((f) => f.name).join(', ')} (${files.length - skipped} files)`,
          heldOutPerplexity: perplexity,
        });
        // Written to a temporary file and renamed: a cancelled or failed run leaves nothing behind.
        const dir = path.join(trainedDir, name);
        fs.mkdirSync(dir, { recursive: true });
        const file = path.join(dir, NGRAM_FILE_NAMES[0]);
        const tmp = `${file}.partial`;
        fs.writeFileSync(tmp, zlib.gzipSync(bytes, { level: 6 }));
        fs.renameSync(tmp, file);
        return { file: dir, tokens: stats.tokens, ngrams: stats.counts.reduce((a, b) => a + b, 0), perplexity, bitsPerChar, skipped };
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
  log.info(`trained ${name}: ${result.tokens} tokens, ${result.ngrams} n-grams in ${seconds.toFixed(1)} s; held-out perplexity ${result.perplexity.toFixed(1)}`);
  const config = vscode.workspace.getConfiguration(SECTION);
  const target = config.inspect<string>('model')?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await config.update('model', result.file, target);
  const heldOut = Number.isFinite(result.perplexity)
    ? `held-out perplexity ${result.perplexity.toFixed(1)} per token (${result.bitsPerChar.toFixed(2)} bits/char)`
    : 'no held-out text (files too short to keep a tenth aside)';
  void vscode.window.showInformationMessage(
    `LM: trained ${name} on ${result.tokens.toLocaleString('en-US')} tokens (${result.ngrams.toLocaleString('en-US')} n-grams) in ${seconds.toFixed(1)} s; ${heldOut}.${result.skipped ? ` ${result.skipped} binary file(s) skipped.` : ''} It is now the active model.`,
  );
}
