/**
 * The first hover in a document without its cold start: while a document with hovers is shown,
 * the context a hover at the end of its visible lines (warmTarget.ts: or at the end of the longest
 * run of them whose windows start in one place) would get is run into the active model's
 * cache in the background (LanguageModel.warmContext), after the document is shown, scrolled or
 * edited (debounced), the model loaded first if it is not yet (as the first hover would). The
 * model gives way to every other request between two short passes; the warm-up is cancelled when
 * another document is shown, the document closes or the model changes.
 */
import * as vscode from 'vscode';
import { hoverWarmIds } from '../editor/hoverFacts';
import { warmLine } from '../editor/warmTarget';
import type { TokenHeatmap } from './heatmap';
import type { ModelService } from './modelService';
import { SECTION, contextChars, hoverSettings, hoverWarmUp } from './settings';
import { languageEnabled } from '../editor/languageFeatures';
import { documentWindow, looksBinary, placedDocumentWindow } from './textWindow';

/** Quiet time after a change before the warm-up starts: typing or scrolling does not start one per key. */
export const WARM_DELAY_MS = 600;

export function createContextWarmup(models: ModelService, heatmap: Pick<TokenHeatmap, 'isOn'>, log: vscode.LogOutputChannel): vscode.Disposable {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let job: { cancelled: boolean; uri: string; key: string } | undefined;
  /** What the last finished warm-up ran (document version, offset, model): the same again is not asked. */
  let warmed: string | undefined;
  /** The document the warm-up was last said to be off for. */
  let offFor: string | undefined;

  const cancel = () => {
    if (job) job.cancelled = true;
    job = undefined;
  };
  const schedule = (delay = WARM_DELAY_MS) => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void warm(), delay);
  };

  const warm = async () => {
    timer = undefined;
    const editor = vscode.window.activeTextEditor;
    const doc = editor?.document;
    const hover = doc && hoverSettings(doc);
    if (doc && !hoverWarmUp(doc)) {
      // Said once per document: why its first hover runs the whole context.
      if (offFor !== doc.uri.toString()) log.info(`warm-up: off for ${vscode.workspace.asRelativePath(doc.uri)} (lmPlayground.hover.warmUp)`);
      offFor = doc.uri.toString();
      cancel();
      return;
    }
    if (
      !editor ||
      !doc ||
      !hover?.enabled ||
      !languageEnabled(hover.languages, doc.languageId) ||
      // The hover then scores in the heat-map's sequence, which the heat-map has run.
      heatmap.isOn(doc)
    ) {
      cancel();
      return;
    }
    // A model that fails to load was reported by the model service; the hover stays quiet too.
    const model = await models.get().catch(() => undefined);
    if (!model?.warmContext || model.server || editor !== vscode.window.activeTextEditor) return;
    const visible = editor.visibleRanges.at(-1);
    if (!visible) return;
    const lineEnd = (line: number) => doc.offsetAt(doc.lineAt(line).range.end);
    const line = warmLine(
      editor.visibleRanges[0].start.line,
      visible.end.line,
      (l) => documentWindow(doc, lineEnd(l), contextChars(), model.tokenizer).startOffset,
    );
    const offset = lineEnd(line);
    const key = `${doc.uri.toString()}@${doc.version}:${offset}:${model.info.name}:${contextChars()}`;
    // Already cached, or being cached.
    if (job ? job.key === key : key === warmed) return;
    cancel();
    const window = documentWindow(doc, offset, contextChars(), model.tokenizer);
    if (looksBinary(window.text)) return;
    const mine = { cancelled: false, uri: doc.uri.toString(), key };
    job = mine;
    let ids: number[];
    try {
      // What the hover at the end of the visible lines reads (tokenHover.ts).
      const placed = await placedDocumentWindow(doc, window, model, mine);
      ids = hoverWarmIds(model, placed.window, placed.tokensBefore, placed.tokens);
    } catch {
      // Cancelled while the document's tokens were counted.
      if (job === mine) job = undefined;
      return;
    }
    if (mine.cancelled || ids.length < 2) {
      if (job === mine) job = undefined;
      return;
    }
    models.runsOn(doc);
    const started = Date.now();
    try {
      const r = await model.warmContext(ids, mine);
      if (mine.cancelled) return;
      if (r.gaveUp) {
        log.info(
          `warm-up: ${vscode.workspace.asRelativePath(doc.uri)}:${line + 1} left to the request that took the model's cache after ${r.cached} of ${ids.length} tokens (gave way ${r.yielded} times)`,
        );
        return;
      }
      warmed = key;
      log.info(
        `warm-up: ${r.cached} tokens of context before ${vscode.workspace.asRelativePath(doc.uri)}:${line + 1} cached for the hover in ${Date.now() - started} ms${r.yielded ? ` (gave way to other requests ${r.yielded} times)` : ''}`,
      );
    } catch (e) {
      // A model going away or a worker that stopped: the hover reports its own errors.
      if (!mine.cancelled) log.warn(`warm-up: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      if (job === mine) job = undefined;
    }
  };

  schedule();
  return vscode.Disposable.from(
    vscode.window.onDidChangeActiveTextEditor(() => {
      cancel();
      schedule();
    }),
    vscode.window.onDidChangeTextEditorVisibleRanges((e) => {
      if (e.textEditor === vscode.window.activeTextEditor) schedule();
    }),
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.document !== vscode.window.activeTextEditor?.document || e.contentChanges.length === 0) return;
      // Its tokens changed: what runs now would be cached for the old text.
      cancel();
      schedule();
    }),
    vscode.workspace.onDidCloseTextDocument((d) => {
      if (job?.uri === d.uri.toString()) cancel();
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(SECTION)) schedule();
    }),
    models.onDidChangeModel(() => {
      cancel();
      warmed = undefined;
      schedule();
    }),
    {
      dispose: () => {
        if (timer) clearTimeout(timer);
        cancel();
      },
    },
  );
}
