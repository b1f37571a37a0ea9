/**
 * **LM: Play the Shannon Game**: a webview panel where a person guesses the next character of a
 * text, while the active model plays the same text. The extension owns the game (so that results
 * are saved at every step); the page shows it and sends keys.
 */
import * as os from 'os';
import * as vscode from 'vscode';
import { LmError } from '../core/errors';
import { plural } from '../core/numberFormat';
import { makeAlphabet, showSymbol, type AlphabetKind } from '../core/shannon/alphabet';
import { characters, gameStats, gamesToCsv, guess, isFinished, newGame, pooledBounds, visibleText } from '../core/shannon/game';
import { playModel } from '../core/shannon/modelPlayer';
import { NextCharPredictor } from '../core/shannon/nextCharDistribution';
import { PASSAGES } from '../core/shannon/passages';
import { checkPageMessage } from '../core/shannon/validation';
import type { LanguageModel } from '../core/model';
import { shannonNeedsLocalModel } from '../core/remote/serverModel';
import type { FromPanel, ShannonView, ToPanel } from '../webview/shannonMessages';
import type { ModelService } from './modelService';
import type { ShannonStore } from './shannonStore';
import { documentLooksBinary, looksBinary } from './textWindow';
import { contentSecurityPolicy, nonce } from './webviewHtml';

export const SHANNON_VIEW_TYPE = 'lmPlayground.shannonGame';
/** Characters of the text so far sent to the page; the page shows the end of it. */
const MAX_VISIBLE = 1500;
const RECENT_ROWS = 12;

export interface ShannonDeps {
  extensionUri: vscode.Uri;
  models: ModelService;
  store: ShannonStore;
  log: vscode.LogOutputChannel;
  /** The text of the editor last used: its selection, or the whole document. */
  editorText(): { title: string; text: string } | undefined;
}

type Feedback = ShannonView['feedback'];

export class ShannonGamePanel implements vscode.Disposable {
  private static instance: ShannonGamePanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private feedback: Feedback;
  private modelRun: { cancelled: boolean } | undefined;
  private modelError: string | undefined;
  private predictor: { model: LanguageModel; key: string; predictor: NextCharPredictor } | undefined;
  private renderTimer: ReturnType<typeof setTimeout> | undefined;
  private saveTimer: ReturnType<typeof setTimeout> | undefined;

  /** Opens (or reveals) the panel; `start` begins a new game on that text. */
  static show(deps: ShannonDeps, start?: { title: string; text: string }): void {
    let p = ShannonGamePanel.instance;
    if (!p) {
      const panel = vscode.window.createWebviewPanel(SHANNON_VIEW_TYPE, 'Shannon Game', vscode.ViewColumn.Active, ShannonGamePanel.options(deps));
      p = new ShannonGamePanel(panel, deps);
    } else {
      p.panel.reveal();
    }
    if (start) p.start(start.title, start.text, p.deps.store.current?.alphabet ?? 'shannon27', p.deps.store.current?.window ?? 0);
    else if (!deps.store.current) p.start(PASSAGES[0].title, PASSAGES[0].text, 'shannon27', 0);
  }

  /** After a window reload VS Code hands back the panel it had. */
  static revive(panel: vscode.WebviewPanel, deps: ShannonDeps): void {
    panel.webview.options = ShannonGamePanel.options(deps);
    ShannonGamePanel.instance?.dispose();
    new ShannonGamePanel(panel, deps);
  }

  private static options(deps: ShannonDeps): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return { enableScripts: true, retainContextWhenHidden: true, localResourceRoots: [vscode.Uri.joinPath(deps.extensionUri, 'dist', 'webview')] };
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly deps: ShannonDeps,
  ) {
    ShannonGamePanel.instance = this;
    panel.webview.html = this.html();
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m: unknown) => this.receive(m).catch((e) => this.fail(e))),
      deps.models.onDidChangeModel(() => this.runModel()),
    );
  }

  private async receive(message: unknown): Promise<void> {
    const m: FromPanel = checkPageMessage(message);
    const store = this.deps.store;
    switch (m.type) {
      case 'ready':
        this.render();
        this.runModel();
        return;
      case 'guess': {
        const game = store.current;
        if (!game) return;
        const outcome = guess(game, m.char);
        const shown = showSymbol(m.char);
        this.feedback = {
          kind: outcome,
          text: {
            right: `Right: "${shown}" after ${plural(game.guesses[game.guesses.length - 1] ?? 0, 'guess', 'guesses')}.`,
            wrong: `"${shown}" is wrong: guess again.`,
            forced: `"${shown}" is wrong, and only "${showSymbol(characters(game)[game.guesses.length - 1] ?? '')}" was left: it counts as found at guess ${game.guesses[game.guesses.length - 1] ?? 0}.`,
            repeated: `You already tried "${shown}" here.`,
            outside: `"${shown}" is not in the alphabet of this game${game.alphabet === 'shannon27' ? ' (letters and space)' : ''}.`,
            finished: 'The text is finished: start a new game.',
          }[outcome],
        };
        if (outcome === 'right' || outcome === 'wrong' || outcome === 'forced') this.scheduleSave(0);
        this.render();
        return;
      }
      case 'newGame': {
        const source = this.source(m.source);
        this.start(source.title, source.text, m.alphabet, m.window);
        return;
      }
      case 'reset': {
        const answer = await vscode.window.showWarningMessage(
          "Delete all saved Shannon game results (every game, yours and the model's)?",
          { modal: true },
          'Reset',
        );
        if (answer !== 'Reset') return;
        store.reset();
        await store.save();
        this.feedback = { kind: 'info', text: 'All results were deleted.' };
        this.start(PASSAGES[0].title, PASSAGES[0].text, 'shannon27', 0);
        return;
      }
      case 'exportCsv': {
        const games = store.all.filter((g) => g.guesses.length > 0);
        if (games.length === 0) {
          this.feedback = { kind: 'info', text: 'Nothing to export yet: play a few characters first.' };
          this.render();
          return;
        }
        // An untitled document with a file name, so that Save proposes it (without one, VS Code
        // proposed the CSV's header line as the name, drive9); a second export the same day
        // replaces the text of the first if it is still open.
        const name = `shannon-games-${new Date().toISOString().slice(0, 10)}.csv`;
        const folder = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(os.homedir());
        const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder, name).with({ scheme: 'untitled' }));
        const editor = await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: false });
        await editor.edit((edit) => edit.replace(new vscode.Range(0, 0, doc.lineCount, 0), gamesToCsv(games)));
        if (doc.languageId !== 'csv') await vscode.languages.setTextDocumentLanguage(doc, 'csv').then(undefined, () => undefined);
        return;
      }
    }
  }

  private source(id: string): { title: string; text: string } {
    if (id === 'editor') {
      const t = this.deps.editorText();
      if (!t) throw new LmError('no editor to take the text from: open a file (and select a passage) first');
      return t;
    }
    const passage = PASSAGES[Number(id.replace(/^passage:/, ''))];
    if (!passage) throw new LmError(`unknown text source ${id}`);
    return passage;
  }

  private start(title: string, text: string, alphabet: AlphabetKind, window: number): void {
    try {
      const game = newGame(title, text, alphabet, window, `${Date.now().toString(36)}`);
      this.deps.store.start(game);
      const truncated = game.text.length < text.length && alphabet === 'all';
      this.feedback = {
        kind: 'info',
        text: `New game: ${title} (${characters(game).length} characters${truncated ? ', the start of the text' : ''}). Type your guess for the first character.`,
      };
    } catch (e) {
      this.fail(e);
      return;
    }
    this.scheduleSave(0);
    this.render();
    this.runModel();
  }

  /** Lets the active model play the current game's text to the end, streaming its guesses. */
  private runModel(): void {
    if (this.modelRun) this.modelRun.cancelled = true;
    const game = this.deps.store.current;
    if (!game) return;
    const signal = { cancelled: false };
    this.modelRun = signal;
    this.modelError = undefined;
    const run = async () => {
      const model = await this.deps.models.get();
      if (signal.cancelled) return;
      // A character's probability sums over every token path that spells it: only a whole distribution gives it exactly.
      if (model.server) {
        this.modelError = shannonNeedsLocalModel(model.info.name);
        this.render();
        return;
      }
      const alphabet = makeAlphabet(game.alphabet, game.text);
      const key = `${game.alphabet}\u0000${alphabet.symbols.join('')}`;
      if (this.predictor?.model !== model || this.predictor.key !== key) this.predictor = { model, key, predictor: new NextCharPredictor(model, alphabet) };
      if (!game.modelPlay || game.modelPlay.model !== model.info.name) game.modelPlay = { model: model.info.name, ranks: [], bits: [] };
      const play = game.modelPlay;
      this.render();
      await playModel(
        this.predictor.predictor,
        game,
        play.ranks.length,
        characters(game).length,
        (g) => {
          if (g.position !== play.ranks.length) return;
          play.ranks.push(g.rank);
          play.bits.push(g.bits);
          this.scheduleRender();
          this.scheduleSave(2000);
        },
        signal,
      );
    };
    run().catch((e) => {
      if (signal.cancelled) return;
      this.modelError = e instanceof Error ? e.message : String(e);
      this.deps.log.error(`Shannon game: the model could not play: ${this.modelError}`);
      this.render();
    });
  }

  private fail(e: unknown): void {
    const message = e instanceof Error ? e.message : String(e);
    if (!(e instanceof LmError)) this.deps.log.error(`Shannon game: ${e instanceof Error ? e.stack : message}`);
    this.feedback = { kind: 'error', text: message };
    void vscode.window.showErrorMessage(`LM Playground: ${message}`);
    this.render();
  }

  private scheduleSave(delay: number): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.deps.store.save().then(undefined, (e) => this.deps.log.error(`Shannon game: could not save results: ${e}`));
    }, delay);
  }

  private scheduleRender(): void {
    if (this.renderTimer) return;
    this.renderTimer = setTimeout(() => {
      this.renderTimer = undefined;
      this.render();
    }, 100);
  }

  private view(): ShannonView {
    const store = this.deps.store;
    const game = store.current;
    const view: ShannonView = {
      recent: [],
      pooled: [],
      sources: [{ id: 'editor', label: 'The editor: selection, or the whole file' }, ...PASSAGES.map((p, i) => ({ id: `passage:${i}`, label: p.title }))],
      model: { name: this.predictor?.model.info.name ?? this.deps.models.current?.info.name, computed: 0, total: 0, error: this.modelError },
      feedback: this.feedback,
    };
    for (const alphabet of ['shannon27', 'all'] as const) {
      const games = store.all.filter((g) => g.alphabet === alphabet && g.guesses.length > 0);
      const pooled = pooledBounds(games, alphabet);
      if (pooled) view.pooled.push({ alphabet, games: games.length, ...pooled });
    }
    if (!game) return view;
    const chars = characters(game);
    const visible = visibleText(game);
    const passage = PASSAGES.findIndex((p) => p.title === game.title);
    view.game = {
      id: game.id,
      title: game.title,
      source: passage >= 0 ? `passage:${passage}` : 'editor',
      alphabet: game.alphabet,
      window: game.window,
      symbols: [...makeAlphabet(game.alphabet, game.text).symbols],
      length: chars.length,
      position: game.guesses.length,
      visible: visible.length > MAX_VISIBLE ? visible.slice(-MAX_VISIBLE) : visible,
      pending: game.pending,
      finished: isFinished(game),
    };
    view.stats = gameStats(game);
    const play = game.modelPlay;
    view.model.computed = play?.ranks.length ?? 0;
    view.model.total = chars.length;
    if (play) {
      view.model.name = play.model;
      if (play.bits.length > 0) view.model.bitsPerChar = play.bits.reduce((a, b) => a + b, 0) / play.bits.length;
    }
    for (let i = game.guesses.length - 1; i >= Math.max(0, game.guesses.length - RECENT_ROWS); i--) {
      view.recent.push({
        position: i + 1,
        char: chars[i],
        guesses: game.guesses[i],
        wrong: game.wrong[i].join(''),
        modelRank: play?.ranks[i],
        modelBits: play?.bits[i],
      });
    }
    return view;
  }

  private render(): void {
    const message: ToPanel = { type: 'view', view: this.view() };
    void this.panel.webview.postMessage(message);
  }

  private html(): string {
    const w = this.panel.webview;
    const n = nonce();
    const script = w.asWebviewUri(vscode.Uri.joinPath(this.deps.extensionUri, 'dist', 'webview', 'shannonPage.js'));
    const style = w.asWebviewUri(vscode.Uri.joinPath(this.deps.extensionUri, 'dist', 'webview', 'shannonPage.css'));
    return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(w, n)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${style}">
<title>Shannon Game</title>
</head><body>
<main id="app" aria-live="polite"><p>Loading the Shannon game…</p></main>
<script nonce="${n}" src="${script}"></script>
</body></html>`;
  }

  dispose(): void {
    if (ShannonGamePanel.instance === this) ShannonGamePanel.instance = undefined;
    if (this.modelRun) this.modelRun.cancelled = true;
    if (this.renderTimer) clearTimeout(this.renderTimer);
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      void this.deps.store.save();
    }
    this.panel.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

/** The command, the panel's restore after reload, and the editor whose text a game can take. */
export function registerShannonGame(
  context: vscode.ExtensionContext,
  models: ModelService,
  store: ShannonStore,
  log: vscode.LogOutputChannel,
): vscode.Disposable[] {
  let lastEditor = vscode.window.activeTextEditor;
  const editorText = () => {
    const e = lastEditor && !lastEditor.document.isClosed ? lastEditor : undefined;
    if (!e) return undefined;
    const name = e.document.uri.path.split('/').pop() ?? 'document';
    const sel = e.selection;
    const text = sel.isEmpty ? e.document.getText() : e.document.getText(sel);
    // Every other command refuses such a file; a game on it would be minutes of the model on noise.
    if (looksBinary(text) || documentLooksBinary(e.document))
      throw new LmError(`${name} looks like a binary file (it has many NUL characters): the game needs text`);
    return sel.isEmpty ? { title: name, text } : { title: `selection in ${name}`, text };
  };
  const deps: ShannonDeps = { extensionUri: context.extensionUri, models, store, log, editorText };
  return [
    vscode.window.onDidChangeActiveTextEditor((e) => {
      if (e) lastEditor = e;
    }),
    vscode.commands.registerCommand('lmPlayground.playShannonGame', () => {
      // A selection starts a game on it; otherwise the game in progress goes on.
      const e = vscode.window.activeTextEditor;
      let start: { title: string; text: string } | undefined;
      try {
        start = e && !e.selection.isEmpty ? editorText() : undefined;
      } catch (err) {
        void vscode.window.showErrorMessage(`LM Playground: ${err instanceof Error ? err.message : String(err)}`);
        return;
      }
      ShannonGamePanel.show(deps, start);
    }),
    vscode.window.registerWebviewPanelSerializer(SHANNON_VIEW_TYPE, {
      async deserializeWebviewPanel(panel) {
        ShannonGamePanel.revive(panel, deps);
      },
    }),
  ];
}
