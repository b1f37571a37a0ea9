/**
 * LM: Compare Models on Document: scores the document (or selection) with every available model
 * and shows bits per character (the fair unit across tokenizers), bits per token, perplexity,
 * tokens and time, with a plot of each model's cumulative surprisal along the text.
 */
import { isRemoteSpec } from '../core/remote/remoteRef';
import * as path from 'path';
import * as vscode from 'vscode';
import { LmError } from '../core/errors';
import type { LanguageModel } from '../core/model';
import { scoreText } from '../core/scoring';
import { comparePercent, compareProgressMessage } from '../editor/compareProgress';
import { cumulativeSurprisal } from '../editor/cumulativeSurprisal';
import { runInTurn } from '../editor/modelsInTurn';
import type { CompareResult, CompareView } from '../webview/compareMessages';
import { modelCatalog, type CatalogEntry, type ModelDirs } from './modelCatalog';
import type { ModelService } from './modelService';
import { metricsSettings } from './settings';
import { looksBinary } from './textWindow';
import { textDigest, trainedOnDocument } from './trainedFiles';
import { contentSecurityPolicy, escapeHtml, nonce } from './webviewHtml';

/** Points per model in the plot: enough to see where each model is surprised. */
const PLOT_POINTS = 1500;
/**
 * The length a scoring request aims at. Shorter pieces cost more (a novel's first 2,868 tokens on
 * the 135M-shape model in fp32: 200 ms pieces 6.1–7.6 s, 1 s pieces 5.2–5.3 s, one request 5.0–5.1 s).
 */
const COMPARE_PIECE_MS = 1000;

export async function compareModels(extensionUri: vscode.Uri, models: ModelService, dirs: ModelDirs, log: vscode.LogOutputChannel): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) throw new LmError('LM: Compare Models works on a text editor: open a file first');
  const doc = editor.document;
  const scope = editor.selection.isEmpty ? 'document' : 'selection';
  let text = editor.selection.isEmpty ? doc.getText() : doc.getText(editor.selection);
  const max = metricsSettings(doc).maxChars;
  const cut = text.length > max;
  if (cut) text = text.slice(0, max);
  if (text.trim().length === 0) throw new LmError('there is no text to score');
  if (looksBinary(text)) throw new LmError('this looks like a binary file (it has many NUL characters)');
  const catalog = modelCatalog(dirs);
  // The whole document's, once, when a trained model's record asks for it (a selection of it is of its text too).
  let digest: string | undefined;
  const documentDigest = () => (digest ??= textDigest(doc.getText()));
  // The model that answers: after a failed load the setting names another (drive13 M1: it was scored twice, as itself and as "active").
  const activeSpec = models.activeSpec;
  if (!catalog.some((m) => m.spec === activeSpec)) catalog.push({ label: activeSpec, spec: activeSpec, origin: 'setting' });

  let cancelledWhenDone = false;
  const { results, failures, notScored } = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'LM: comparing models', cancellable: true },
    async (progress, token) => {
      const signal = {
        get cancelled() {
          return token.isCancellationRequested;
        },
      };
      let reported = 0;
      const outcome = await runInTurn(
        catalog,
        async (entry, i): Promise<CompareResult> => {
          // The notification's bar moves by increments: each report adds what was done since the last.
          let tokens = 0;
          let scored = 0;
          const report = () => {
            const share = tokens ? scored / tokens : 0;
            const percent = comparePercent(i, catalog.length, share);
            progress.report({ message: compareProgressMessage(entryName(entry), i, catalog.length, share), increment: percent - reported });
            reported = percent;
          };
          report();
          const active = entry.spec === activeSpec ? models.current : undefined;
          let model: LanguageModel | undefined = active;
          try {
            const loadStart = Date.now();
            // As the model service opens the active model (device, dtype), never in a webview.
            model ??= await models.openLocally(entry.spec);
            const loadMs = Date.now() - loadStart;
            const started = Date.now();
            const scoredText = await scoreText(model, text, {
              signal,
              // Runs of about this long: a window of a large model in one run took longer than the 5 s
              // an extension host has to shut down, and a reload then aborted in onnxruntime (hostile25 H1).
              pieceMs: COMPARE_PIECE_MS,
              onTokens: (n) => (tokens = n),
              onScored: (n) => {
                scored += n;
                report();
              },
            });
            const { summary } = scoredText;
            return {
              name: compareName(entry, model),
              origin: entry.origin,
              active: entry.spec === activeSpec,
              description: model.info.description,
              ...summary,
              scoreMs: Date.now() - started,
              loadMs: active ? 0 : loadMs,
              curve: cumulativeSurprisal(text, scoredText.tokens, PLOT_POINTS),
              ...(entry.origin === 'trained' && trainedOnDocument(entry.spec, doc.uri, documentDigest) ? { trainedOnText: true } : {}),
            };
          } finally {
            if (model && model !== active) model.dispose?.();
          }
        },
        signal,
        (entry, message) => log.warn(`compare: ${entry.label} failed: ${message}`),
        entryName,
      );
      cancelledWhenDone = signal.cancelled && outcome.notScored.length === 0;
      return outcome;
    },
  );
  // A Cancel after the last model finished (drive13 L9: the table opened as if none had been asked for).
  if (cancelledWhenDone && results.length > 0)
    void vscode.window.showInformationMessage('LM: every model had finished when the cancel took effect; showing the whole comparison.');
  if (notScored.length) {
    log.info(`compare: cancelled; ${results.length} of ${catalog.length} models scored, not scored: ${notScored.join(', ')}`);
    // The models scored before the cancel are shown: on a long text each took a while.
    if (results.length === 0) {
      void vscode.window.showInformationMessage('LM: model comparison cancelled before any model was scored; nothing to show.');
      return;
    }
    void vscode.window.showInformationMessage(
      `LM: model comparison cancelled; showing the ${results.length} of ${catalog.length} models scored before it (not scored: ${notScored.join(', ')}).`,
    );
  }
  if (results.length === 0) throw new LmError(`no model could score the text: ${failures.join('; ')}`);
  results.sort((a, b) => a.bitsPerChar - b.bitsPerChar);
  const view: CompareView = {
    title: `${vscode.workspace.asRelativePath(doc.uri)}${scope === 'selection' ? ' (selection)' : ''}${cut ? ` (first ${max.toLocaleString('en-US')} characters)` : ''}`,
    chars: results[0].chars,
    results,
    failures,
    notScored,
  };
  showPanel(extensionUri, view);
}

/** The one Compare Models panel: a rerun shows its results there instead of opening another tab. */
let comparePanel: vscode.WebviewPanel | undefined;

function showPanel(extensionUri: vscode.Uri, view: CompareView): void {
  const webviewDir = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
  const title = `Compare Models: ${view.title}`;
  let panel = comparePanel;
  if (panel) {
    panel.title = title;
    panel.reveal(panel.viewColumn, false);
  } else {
    // In the active editor group, full width: a split beside the text leaves too little room for the table's eight columns.
    panel = vscode.window.createWebviewPanel('lmPlayground.compare', title, vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [webviewDir],
    });
    const created = panel;
    comparePanel = created;
    created.onDidDispose(() => {
      if (comparePanel === created) comparePanel = undefined;
    });
  }
  const w = panel.webview;
  const n = nonce();
  w.html = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(w, n)}">
<link rel="stylesheet" href="${w.asWebviewUri(vscode.Uri.joinPath(webviewDir, 'comparePage.css'))}">
<title>Compare Models</title></head><body>
<main id="app"><h1>Compare models on ${escapeHtml(view.title)}</h1></main>
<script nonce="${n}" id="compare-data" type="application/json">${JSON.stringify(view).replace(/</g, '\\u003c')}</script>
<script nonce="${n}" src="${w.asWebviewUri(vscode.Uri.joinPath(webviewDir, 'comparePage.js'))}"></script>
</body></html>`;
}

/**
 * A model's name in the comparison: the list's label, but a model file given by the setting is
 * named as the status bar names it (its file name, not its whole path), and a neural model adds
 * the precision it ran in (an ONNX variant or a GGUF file's weights: fp32 and q4 of one model
 * otherwise look alike, and their numbers differ; drive14).
 */
function compareName(entry: CatalogEntry, model: LanguageModel): string {
  const name = givenAsFile(entry) ? model.info.name : entry.label;
  return model.info.precision ? `${name} (${model.info.precision})` : name;
}

/** A model's name before it is opened (the progress line, the models a cancel left out): a file by its name, as the table names it (drive13 L3). */
function entryName(entry: CatalogEntry): string {
  return givenAsFile(entry) ? path.basename(entry.spec) : entry.label;
}

/** A model file or folder given by the setting, listed under its path. */
function givenAsFile(entry: CatalogEntry): boolean {
  return entry.origin === 'setting' && entry.label === entry.spec && !isRemoteSpec(entry.spec);
}
