/**
 * Status bar: says when the active document's language has none of the editor features (hovers,
 * ghost text, bits/char), instead of their silently not being there, and a click turns them on for
 * it or, for prose VS Code took for another language, makes the document plain text again.
 */
import * as vscode from 'vscode';
import { featuresOffFor, proseLanguage, withLanguage, type LanguageFeature } from '../editor/languageFeatures';
import { SECTION, hoverSettings, inlineSettings, metricsSettings } from './settings';

export const TURN_ON_FOR_LANGUAGE_COMMAND = 'lmPlayground.turnOnForLanguage';

/** The settings behind each feature, in the order the features are named. */
const LANGUAGE_SETTINGS = ['hover.languages', 'inline.languages', 'metrics.languages'] as const;

/** Documents a user writes in: not the output panel, a diff's git side, or a settings file. */
const SCHEMES = new Set(['file', 'untitled', 'vscode-remote']);

function features(scope: vscode.ConfigurationScope | undefined): LanguageFeature[] {
  const hover = hoverSettings(scope);
  const inline = inlineSettings(scope);
  const metrics = metricsSettings(scope);
  return [
    { name: 'hovers', enabled: hover.enabled, languages: hover.languages },
    { name: 'ghost text', enabled: inline.enabled, languages: inline.languages },
    { name: 'bits/char', enabled: metrics.enabled, languages: metrics.languages },
  ];
}

function listed(languages: readonly string[]): string {
  return languages.map((l) => `\`${l}\``).join(', ') || 'no language';
}

export function createLanguageOffStatus(log: vscode.LogOutputChannel): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('lmPlayground.languageOff', vscode.StatusBarAlignment.Right, 98);
  item.name = 'LM Playground: off for this language';
  item.command = TURN_ON_FOR_LANGUAGE_COMMAND;

  const update = () => {
    const doc = vscode.window.activeTextEditor?.document;
    const off = doc && SCHEMES.has(doc.uri.scheme) ? featuresOffFor(features(doc), doc.languageId) : undefined;
    if (!doc || !off) return item.hide();
    item.text = `$(circle-slash) LM off: ${doc.languageId}`;
    const names = off.map((f) => f.name);
    const named = names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names.at(-1)}` : names[0];
    const same = off.every((f) => listed(f.languages) === listed(off[0].languages));
    const lists = same ? listed(off[0].languages) : off.map((f) => `${f.name}: ${listed(f.languages)}`).join('; ');
    const guessed = doc.isUntitled ? ' VS Code chose it from the text (an untitled document), which it can take for another language than prose.' : '';
    const tooltip = new vscode.MarkdownString(
      `LM Playground's ${named} are on for ${lists} (the \`lmPlayground.*.languages\` settings); this document is \`${doc.languageId}\`.${guessed}\n\nClick to turn them on for it.`,
    );
    tooltip.isTrusted = false;
    item.tooltip = tooltip;
    item.show();
  };

  const turnOn = async () => {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage('LM Playground: open a document first.');
      return;
    }
    const doc = editor.document;
    const id = doc.languageId;
    const all = features(doc);
    const prose = proseLanguage(all);
    type Choice = vscode.QuickPickItem & { run: () => Thenable<unknown> };
    const choices: Choice[] = [
      {
        label: `$(check) Turn on for ${id}`,
        detail: `Adds ${id} to ${LANGUAGE_SETTINGS.map((k) => `${SECTION}.${k}`).join(', ')}`,
        run: () => addLanguage(doc, id),
      },
      ...(prose && prose !== id
        ? [
            {
              label: `$(file-text) Make this document ${prose === 'plaintext' ? 'plain text' : 'Markdown'}`,
              detail: `Changes this document's language mode from ${id} to ${prose}${doc.isUntitled ? ' (VS Code chose it from the text)' : ''}`,
              run: () => vscode.languages.setTextDocumentLanguage(doc, prose),
            },
          ]
        : []),
      {
        label: '$(gear) Open the language settings',
        run: () => vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION} languages`),
      },
    ];
    const picked = await vscode.window.showQuickPick(choices, { title: `LM Playground in ${id} documents` });
    if (!picked) return;
    await picked.run();
    log.info(`language ${id}: ${picked.label.replace(/^\$\([^)]*\) /, '')}`);
  };

  update();
  return vscode.Disposable.from(
    item,
    vscode.window.onDidChangeActiveTextEditor(update),
    // A document's language changed (VS Code's detection, or the language picker): it is opened again with the new one.
    vscode.workspace.onDidOpenTextDocument((d) => {
      if (d.uri.toString() === vscode.window.activeTextEditor?.document.uri.toString()) update();
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(SECTION)) update();
    }),
    vscode.commands.registerCommand(TURN_ON_FOR_LANGUAGE_COMMAND, turnOn),
  );
}

/** Adds the language to each list, where that list is set: the workspace's (folder's) own when it sets one, else User settings. */
async function addLanguage(doc: vscode.TextDocument, languageId: string): Promise<void> {
  const config = vscode.workspace.getConfiguration(SECTION, doc);
  for (const key of LANGUAGE_SETTINGS) {
    const seen = config.inspect<string[]>(key);
    const [target, current] =
      seen?.workspaceFolderValue !== undefined
        ? [vscode.ConfigurationTarget.WorkspaceFolder, seen.workspaceFolderValue]
        : seen?.workspaceValue !== undefined
          ? [vscode.ConfigurationTarget.Workspace, seen.workspaceValue]
          : [vscode.ConfigurationTarget.Global, seen?.globalValue ?? seen?.defaultValue ?? []];
    const list = Array.isArray(current) ? current : [];
    const next = withLanguage(list, languageId);
    if (next.length !== list.length || list !== current) await config.update(key, next, target);
  }
}
