/** Integration tests through the VS Code API, inside desktop VS Code. */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';

const folder = () => vscode.workspace.workspaceFolders![0].uri.fsPath;

async function open(name: string): Promise<vscode.TextEditor> {
  const doc = await vscode.workspace.openTextDocument(path.join(folder(), name));
  return vscode.window.showTextDocument(doc);
}

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('LM Playground (desktop VS Code)', () => {
  before(async () => {
    const config = vscode.workspace.getConfiguration('lmPlayground');
    await config.update('generation.temperature', 0, vscode.ConfigurationTarget.Global);
    await config.update('generation.maxTokens', 6, vscode.ConfigurationTarget.Global);
  });

  it('LM: Complete Selection inserts a completion after the selection as one undo step', async () => {
    const editor = await open('mouse.txt');
    const line = editor.document.lineAt(0).range;
    editor.selection = new vscode.Selection(line.start, line.end);
    await vscode.commands.executeCommand('lmPlayground.completeSelection');
    const text = await waitFor('the completion', () => {
      const t = editor.document.getText();
      return t.length > 'the mouse ate the\n'.length + 1 ? t : undefined;
    });
    assert.ok(text.startsWith('the mouse ate the'));
    await vscode.commands.executeCommand('undo');
    assert.strictEqual(editor.document.getText(), 'the mouse ate the\n');
  });

  it('the hover shows the probability and rank of a word', async () => {
    const editor = await open('sentences.txt');
    const hovers = await waitFor('a hover', async () => {
      const h = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', editor.document.uri, new vscode.Position(0, 20));
      return h.length ? h : undefined;
    });
    const md = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : (c as vscode.MarkdownString).value))).join('\n');
    assert.match(md, /p\(token \| text before\)/);
    assert.match(md, /rank/);
  });

  it('a corrupt model keeps the previous model and the document', async () => {
    const broken = path.join(folder(), 'broken.arpa');
    fs.writeFileSync(broken, '\\data\\\nngram 1=x\n');
    const editor = await open('mouse.txt');
    const before = editor.document.getText();
    await vscode.workspace.getConfiguration('lmPlayground').update('model', broken, vscode.ConfigurationTarget.Global);
    const line = editor.document.lineAt(0).range;
    editor.selection = new vscode.Selection(line.start, line.end);
    await vscode.commands.executeCommand('lmPlayground.completeSelection');
    await waitFor('a completion with the previous model', () => editor.document.getText().length > before.length || undefined);
    await vscode.workspace.getConfiguration('lmPlayground').update('model', undefined, vscode.ConfigurationTarget.Global);
  });
});
