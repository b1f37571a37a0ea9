/**
 * The context key `lmPlayground.heatmapOn`: true while the active editor's document has the
 * heat-map on, so that the editor's context menu offers LM: Clear Token Probabilities then.
 */
import * as vscode from 'vscode';
import type { TokenHeatmap } from './heatmap';

export const HEATMAP_ON_CONTEXT = 'lmPlayground.heatmapOn';

export function trackHeatmapContext(heatmap: Pick<TokenHeatmap, 'isOn' | 'onDidTurnOnOrOff'>): vscode.Disposable {
  let last: boolean | undefined;
  const refresh = () => {
    const editor = vscode.window.activeTextEditor;
    const on = !!editor && heatmap.isOn(editor.document);
    if (on === last) return;
    last = on;
    void vscode.commands.executeCommand('setContext', HEATMAP_ON_CONTEXT, on);
  };
  refresh();
  return vscode.Disposable.from(heatmap.onDidTurnOnOrOff(refresh), vscode.window.onDidChangeActiveTextEditor(refresh));
}
