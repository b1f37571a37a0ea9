/** The models LM: Select Model offers as used before: files and folders still on the disk, and models on servers. */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type * as vscode from 'vscode';
import { MAX_RECENT_MODELS, RecentModels } from '../../src/vscode/recentModels';

function memento(): vscode.Memento {
  const values = new Map<string, unknown>();
  return {
    keys: () => [...values.keys()],
    get: <T>(key: string, fallback?: T) => (values.has(key) ? (values.get(key) as T) : fallback),
    update: async (key: string, value: unknown) => void values.set(key, value),
  } as vscode.Memento;
}

describe('models used before', () => {
  it('keeps files still on the disk and models on servers, each in its own list, most recent first', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-recent-'));
    try {
      const file = path.join(dir, 'model.gguf');
      fs.writeFileSync(file, 'x');
      const recent = new RecentModels(memento());
      recent.add(file);
      recent.add('http://127.0.0.1:8000/v1#gpt-classics');
      recent.add('gpt-classics'); // embedded: listed anyway
      recent.add(path.join(dir, 'gone.onnx'));
      recent.add('https://h.example/v1#meta-llama/Llama-3-8B');
      recent.add('http://127.0.0.1:8000/v1#gpt-classics');
      assert.deepStrictEqual(recent.list(), [file]);
      assert.deepStrictEqual(recent.servers(), ['http://127.0.0.1:8000/v1#gpt-classics', 'https://h.example/v1#meta-llama/Llama-3-8B']);
      for (let i = 0; i < MAX_RECENT_MODELS; i++) recent.add(`http://h${i}/v1#m`);
      assert.deepStrictEqual(recent.list(), [], 'at most the last 8 models of either kind');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
