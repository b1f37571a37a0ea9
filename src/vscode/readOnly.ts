/**
 * Whether VS Code will refuse an edit of a document, known before a completion is generated for
 * it: a read-only file system, `files.readonlyInclude` (less `files.readonlyExclude`), or a file
 * without write permission under `files.readonlyFromPermissions`. ("Set Active Editor Read-only
 * in Session" is not visible to extensions: an edit refused for that is reported after the fact.)
 */
import * as vscode from 'vscode';

/** Why the document is read-only, in words; undefined when it can be edited as far as the extension can tell. */
export async function readOnlyReason(document: vscode.TextDocument): Promise<string | undefined> {
  const uri = document.uri;
  if (vscode.workspace.fs.isWritableFileSystem(uri.scheme) === false) return `its file system (${uri.scheme}) is read-only`;
  const files = vscode.workspace.getConfiguration('files', uri);
  const matched = (setting: string) =>
    // VS Code's own settings (files.*), not the extension's: they have no default of ours to read them through.
    Object.entries((files.get(setting) as Record<string, boolean> | undefined) ?? {}).find(([glob, on]) => on === true && matchesGlob(glob, document))?.[0];
  const included = matched('readonlyInclude');
  if (included !== undefined && matched('readonlyExclude') === undefined) return `files.readonlyInclude: ${included}`;
  if (files.get('readonlyFromPermissions') === true && uri.scheme === 'file') {
    const stat = await Promise.resolve(vscode.workspace.fs.stat(uri)).catch(() => undefined);
    if (stat?.permissions !== undefined && (stat.permissions & vscode.FilePermission.Readonly) !== 0)
      return 'its file has no write permission (files.readonlyFromPermissions)';
  }
  return undefined;
}

/** A files.* glob as VS Code applies it: to the path relative to the document's workspace folder, or to the whole path. */
function matchesGlob(glob: string, document: vscode.TextDocument): boolean {
  if (vscode.languages.match({ pattern: glob }, document) > 0) return true;
  const folder = vscode.workspace.getWorkspaceFolder(document.uri);
  return folder !== undefined && vscode.languages.match({ pattern: new vscode.RelativePattern(folder, glob) }, document) > 0;
}
