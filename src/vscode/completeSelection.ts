/**
 * LM: Complete Selection. The prompt is the selection, or the text before the cursor; the
 * completion is fitted to the text around it (editor/seam.ts) and inserted after it as one undo
 * step. Several completions are offered in a quick pick. While generating, the progress
 * notification shows the end of the text so far: a preview, not an insertion, so the document
 * stays untouched (one undo step, no race with the user's typing) until the completion is done;
 * a stopped completion offers to insert or copy what was generated.
 */
import * as vscode from 'vscode';
import { CancelledError, LmError } from '../core/errors';
import { generate, type Completion } from '../core/generation';
import { plural } from '../core/numberFormat';
import { wholeCharacters } from '../core/tokenBytes';
import { controlsLeftOutMessage, insertableText, oneLineLabel } from '../editor/completionControls';
import { openWhenSlow } from '../editor/lateProgress';
import { fitCompletion } from '../editor/seam';
import { completionRankLogProb, logProbBits, rankedWith } from '../playground/completionSummary';
import type { ModelService } from './modelService';
import { contextChars, generationSettings } from './settings';
import { documentLooksBinary, documentWindow, looksBinary } from './textWindow';

/** What inserting a completion puts into the document, and what it leaves out. */
type Insertable = ReturnType<typeof insertableText>;

export async function completeSelection(models: ModelService, log: vscode.LogOutputChannel): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showWarningMessage('LM: Complete Selection works in a text editor: open a file first.');
    return;
  }
  const selection = editor.selection;
  const document = editor.document;
  await completeInDocument(models, log, document, {
    start: selection.isEmpty ? 0 : document.offsetAt(selection.start),
    end: document.offsetAt(selection.end),
  });
}

/**
 * Where a completion goes: after the prompt `[start, end)` of the document, or, with `replace`,
 * in place of `[end, replace.end)`, given `replace.text` (the prompt then ends with that text).
 */
export interface CompletionPlace {
  start: number;
  end: number;
  replace?: { end: number; text: string };
}

/**
 * Completes at `place` and inserts the completion (with the replacement) as one undo step, unless
 * the document changed while the model generated or the editor refuses the edit (then it offers
 * to copy the text).
 */
export async function completeInDocument(
  models: ModelService,
  log: vscode.LogOutputChannel,
  document: vscode.TextDocument,
  place: CompletionPlace,
): Promise<void> {
  const model = await models.get();
  const endOffset = place.end;
  // Long prompts are cut to the context window, like the hover.
  const window = documentWindow(document, endOffset, contextChars(), model.tokenizer);
  const promptStart = Math.max(place.start, window.startOffset);
  const replaced = place.replace?.text ?? '';
  const prompt = document.getText(new vscode.Range(document.positionAt(promptStart), document.positionAt(endOffset))) + replaced;
  // "Continue with" a line break at the file's start is a prompt too: the model starts from its start of text.
  if (prompt.trim().length === 0 && !place.replace) {
    void vscode.window.showWarningMessage('LM: Complete Selection needs a prompt: select some text, or put the cursor after some text.');
    return;
  }
  if (looksBinary(prompt) || documentLooksBinary(document))
    throw new LmError('this looks like a binary file (it has many NUL characters); nothing was generated');

  // A prompt cut from inside the document is read as the hover reads the same text (no BOS in
  // front), so that the two share the model's cache; a selection is a prompt of its own.
  const options = { ...generationSettings(document), promptAtStart: promptStart > window.startOffset || window.atStart };
  const versionBefore = document.version;
  const insertAt = document.positionAt(endOffset);
  const replaceEnd = place.replace?.end ?? endOffset;
  const target = new vscode.Range(insertAt, document.positionAt(replaceEnd));
  const after = document.getText(new vscode.Range(target.end, document.positionAt(replaceEnd + 1)));
  const started = Date.now();
  // Tokens of each completion as they come: the progress shows them, and Stop keeps them.
  const partial: number[][] = [];
  const title = `LM: completing with ${model.info.name}`;
  const total = options.maxTokens * (options.numCompletions ?? 1);
  let cancelled = false;
  let progress: vscode.Progress<{ message?: string; increment?: number }> | undefined;
  let produced = 0;
  let reported = 0;
  let lastReport = 0;
  let preview = '';
  const report = () => {
    progress?.report({ message: preview, increment: ((produced - reported) * 100) / total });
    reported = produced;
  };
  const running = models.completion(
    generate(model, prompt, options, {
      signal: {
        get cancelled() {
          return cancelled;
        },
      },
      onToken: (c, t) => {
        (partial[c] ??= []).push(t.id);
        produced++;
        if (Date.now() - lastReport < PREVIEW_INTERVAL_MS) return;
        lastReport = Date.now();
        const last = partial[c].slice(-PREVIEW_TOKENS);
        // A character whose bytes have not all come yet is held back until they have.
        // Several completions: the count is of the one shown, not their sum (drive51: "517 tokens" at maxTokens 180); the bar shows the whole.
        const which = (options.numCompletions ?? 1) > 1 ? `#${c + 1} of ${options.numCompletions} · ` : '';
        preview = `${which}${plural(partial[c].length, 'token')}: ${previewTail(wholeCharacters(model.tokenizer, last, model.tokenizer.decode(last, true)).text)}`;
        report();
      },
    }),
  );
  const settled = running.then(
    () => undefined,
    () => undefined,
  );
  // A spinner in the status bar at once; the notification, with its Cancel, only for a slow completion (see lateProgress).
  void vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title }, () => settled);
  openWhenSlow(running, NOTIFICATION_DELAY_MS, () => {
    void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (p, token) => {
      progress = p;
      token.onCancellationRequested(() => (cancelled = true));
      report();
      return settled;
    });
  });
  /** The control characters left out of the completion being inserted, and the completion with them. */
  let controls: { removed: string[]; carriageReturns: number; raw: string } | undefined;
  /** Whether the completions are being chosen in a quick pick, the document as it was when the model finished. */
  let picking = false;
  let completions: Completion[];
  try {
    completions = await running;
  } catch (e) {
    const textOf = (ids: number[]) => fitCompletion(prompt, whole(insertableText(model.tokenizer, ids, model.tokenizer.decode(ids, prompt.length > 0))), after);
    if (e instanceof CancelledError) return offerPartial(partial, textOf, insert);
    // Cut off (a server that stopped mid-stream): what arrived is offered, said to be incomplete.
    if (e instanceof LmError && partial.some((ids) => ids?.length > 0)) {
      log.error(`Complete Selection with ${model.info.name}: ${e.message}`);
      return offerPartial(partial, textOf, insert, e.message);
    }
    throw e;
  }
  const tokens = completions.reduce((n, c) => n + c.tokens.length, 0);
  const ms = Date.now() - started;
  log.info(`completed ${completions.length} completion(s), ${tokens} tokens with ${model.info.name} in ${ms} ms (seed ${completions[0]?.seed})`);
  if (tokens > 0) models.reportSpeed((tokens * 1000) / Math.max(1, ms));

  // What each completion would insert, worked out once: for its row in the quick pick, then for the one chosen.
  const insertable = new Map<Completion, Insertable>();
  const insertableOf = (c: Completion): Insertable => {
    let found = insertable.get(c);
    if (!found)
      insertable.set(
        c,
        (found = insertableText(
          model.tokenizer,
          c.tokens.map((t) => t.id),
          c.text,
        )),
      );
    return found;
  };
  // The document as it was when the model finished: a change after it happened during the pick.
  picking = completions.length > 1 && !document.isClosed && document.version === versionBefore;
  const chosen = completions.length === 1 ? completions[0] : await pickCompletion(completions, insertableOf);
  if (!chosen) return;
  const text = fitCompletion(prompt, whole(insertableOf(chosen)), after);
  if (text.trim().length === 0) {
    void vscode.window.showInformationMessage(
      `LM: the model produced no text (finished: ${finishLabel(chosen)})${replaced ? `; ${JSON.stringify(replaced)} is put in alone` : ''}.`,
    );
    if (!replaced) return;
  }
  await insert(text);

  /**
   * Only whole characters go into the document: bytes of a character that never completed are left
   * out, and the log says so; control characters too (editor/completionControls.ts), and a notice
   * after the insertion names them.
   */
  function whole(c: Insertable): string {
    if (c.dropped > 0)
      log.warn(
        `Complete Selection: ${c.dropped} incomplete character(s) left out of the completion (byte tokens whose UTF-8 sequence did not complete; decoded as U+FFFD)`,
      );
    controls = c.removed.length > 0 || c.carriageReturns > 0 ? { removed: c.removed, carriageReturns: c.carriageReturns, raw: c.raw } : undefined;
    if (c.removed.length > 0) log.warn(`Complete Selection: ${c.removed.length} control character(s) left out of the completion: ${c.removed.join(' ')}`);
    return c.text;
  }

  /** Inserts `text` after the prompt (with the replacement) as one undo step, unless the document changed meanwhile. */
  async function insert(completion: string): Promise<void> {
    const text = replaced + completion;
    // While a completion was being chosen is not while the model generated (hostile16 L2).
    const when = picking ? 'while a completion was being chosen' : 'while the model was generating';
    if (document.isClosed) return notInserted(`the document was closed ${when}`, text);
    if (document.version !== versionBefore) return notInserted(`the document changed ${when}`, text);
    const targetEditor = vscode.window.visibleTextEditors.find((e) => e.document === document);
    let ok: boolean;
    if (targetEditor) ok = await targetEditor.edit((b) => b.replace(target, text), { undoStopBefore: true, undoStopAfter: true });
    else {
      // Its tab was closed or is in the background (the document is still open): a workspace edit reaches it.
      const edit = new vscode.WorkspaceEdit();
      edit.replace(document.uri, target, text);
      ok = await vscode.workspace.applyEdit(edit);
    }
    // A read-only editor drops the edit and still reports success: the unchanged version tells.
    if (!ok || document.version === versionBefore) return notInserted('the editor refused the edit (is the document read-only?)', text);
    const end = document.positionAt(document.offsetAt(insertAt) + text.length);
    if (targetEditor) targetEditor.selection = new vscode.Selection(end, end);
    if (controls) void offerControls(controls.removed, controls.carriageReturns, controls.raw);
  }
}

/** How long a completion runs before its notification (with Cancel and the preview) opens. */
const NOTIFICATION_DELAY_MS = 1000;
/** How often the progress shows the text so far, and how many of the last tokens it shows. */
const PREVIEW_INTERVAL_MS = 150;
const PREVIEW_TOKENS = 24;
const PREVIEW_CHARS = 60;

/** The end of the text so far on one line, for the progress notification. */
function previewTail(text: string): string {
  const line = text.replace(/\r?\n/g, ' ⏎ ').replace(/[ \t]+/g, ' ');
  return line.length > PREVIEW_CHARS ? `…${line.slice(-PREVIEW_CHARS)}` : line;
}

/** Control characters were left out of the inserted completion: said, with the completion with them offered for the clipboard. */
async function offerControls(removed: readonly string[], carriageReturns: number, raw: string): Promise<void> {
  const copy = removed.length > 0 ? 'Copy With Them' : 'Copy As Generated';
  const answer = await vscode.window.showInformationMessage(controlsLeftOutMessage(removed, carriageReturns), copy);
  if (answer === copy) await vscode.env.clipboard.writeText(raw);
}

/** The completion could not go into the document: said why, and offered to copy rather than lost. */
async function notInserted(why: string, text: string): Promise<void> {
  const copy = 'Copy Completion';
  const answer = await vscode.window.showWarningMessage(`LM: ${why}, so the completion was not inserted.`, copy);
  if (answer === copy) await vscode.env.clipboard.writeText(text);
}

/** Stopped: offer what was generated so far (the longest completion) rather than dropping it. */
/** What was generated before a stop (Cancel, or `failure`: the error that cut it off), offered to insert or copy. */
async function offerPartial(partial: number[][], textOf: (ids: number[]) => string, insert: (text: string) => Promise<void>, failure?: string): Promise<void> {
  const longest = partial.reduce<number[]>((best, ids) => (ids && ids.length > best.length ? ids : best), []);
  const text = textOf(longest);
  if (text.trim().length === 0) {
    if (failure) throw new LmError(failure);
    void vscode.window.showInformationMessage('LM: completion stopped before any text; the document was not changed.');
    return;
  }
  const insertIt = 'Insert';
  const copy = 'Copy';
  const answer = await (failure
    ? vscode.window.showErrorMessage(
        `LM: completion cut off after ${plural(longest.length, 'token')}: ${failure.replace(/\.$/, '')}. The document was not changed. Insert what arrived (incomplete)?`,
        insertIt,
        copy,
      )
    : vscode.window.showInformationMessage(
        `LM: completion stopped after ${plural(longest.length, 'token')}; the document was not changed. Insert what was generated?`,
        insertIt,
        copy,
      ));
  if (answer === insertIt) await insert(text);
  else if (answer === copy) await vscode.env.clipboard.writeText(text);
}

function finishLabel(c: Completion): string {
  return c.finishReason === 'length' ? 'max tokens' : c.finishReason === 'stop' ? (c.stopKind ?? 'stop sequence') : 'end of text';
}

/** NaN (unknown) sorts last. */
function rankable(logProb: number): number {
  return Number.isNaN(logProb) ? -Infinity : logProb;
}

/** `inserted`: what choosing a completion would insert (whole characters, no control characters), which its row shows. */
async function pickCompletion(
  completions: Completion[],
  inserted: (c: Completion) => { text: string; removed: string[]; dropped: number },
): Promise<Completion | undefined> {
  const items = completions
    .map((c) => {
      const shown = inserted(c);
      const left = shown.removed.length + shown.dropped;
      return {
        label: oneLineLabel(shown.text),
        // In the detail line, which a long label cannot push out of sight. A server that sends no log-probs: unknown, and ranked after those with one.
        detail: [
          Number.isFinite(c.logProb) ? `log₂ p = ${logProbBits(completionRankLogProb(c))}` : 'log p unknown (the server gave none)',
          `${c.tokens.length} token${c.tokens.length === 1 ? '' : 's'}`,
          `finished: ${finishLabel(c)}`,
          // Last: a long row cuts it before the reason.
          ...(Number.isFinite(c.logProb) ? [rankedWith(c)].filter((x) => x !== undefined) : []),
          ...(left > 0 ? [`${plural(left, 'character')} left out (control or incomplete)`] : []),
        ].join(' · '),
        completion: c,
      };
    })
    .sort((a, b) => rankable(completionRankLogProb(b.completion)) - rankable(completionRankLogProb(a.completion)));
  // A hover opened during the generation would stay over the list (drive51).
  await vscode.commands.executeCommand('editor.action.hideHover').then(undefined, () => undefined);
  const picked = await vscode.window.showQuickPick(items, {
    title: 'LM: choose a completion (most probable first)',
    matchOnDetail: false,
    placeHolder: 'Each completion with its total log-probability, counting the token that ended it',
  });
  return picked?.completion;
}
