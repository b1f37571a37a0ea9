/** A local stand-in for the Hugging Face hub, for the download tests (unit and end to end). */
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';

export interface TreeHub {
  url: string;
  /** Every path asked for, decoded, in order. */
  log: string[];
  close: () => void;
}

/**
 * A hub on 127.0.0.1 serving the fixture folders as repositories `test/NAME` (dots allowed, as in
 * `Qwen2.5-0.5B`): `resolve/main/FILE`
 * and the tree API's listing of a folder (`api/models/test/NAME/tree/main/FOLDER`), as the
 * Hugging Face hub answers it (LFS files with their size under `lfs`).
 */
export function startTreeHub(root: string): Promise<TreeHub> {
  const log: string[] = [];
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent(req.url ?? '');
    log.push(url);
    if (url.includes('..')) return void res.writeHead(404).end();
    const tree = /^\/api\/models\/test\/([\w.-]+)\/tree\/main\/?(.*)$/.exec(url);
    if (tree) {
      const folder = path.join(root, tree[1], tree[2]);
      if (!fs.existsSync(folder)) return void res.writeHead(404).end('{"error":"not found"}');
      const entries = fs.readdirSync(folder, { withFileTypes: true }).map((e) => {
        const rel = tree[2] ? `${tree[2]}/${e.name}` : e.name;
        if (e.isDirectory()) return { type: 'directory', path: rel, oid: 'x', size: 0 };
        const size = fs.statSync(path.join(folder, e.name)).size;
        return e.name.includes('.onnx')
          ? { type: 'file', path: rel, oid: 'x', size: 134, lfs: { oid: 'y', size, pointerSize: 134 } }
          : { type: 'file', path: rel, oid: 'x', size };
      });
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(entries));
    }
    const m = /^\/test\/([\w.-]+)\/resolve\/main\/(.+)$/.exec(url);
    const file = m && path.join(root, m[1], m[2]);
    if (!file || !fs.existsSync(file)) return void res.writeHead(404).end('not found');
    const data = fs.readFileSync(file);
    res.writeHead(200, { 'content-length': String(data.length) }).end(data);
  });
  return new Promise<TreeHub>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, log, close: () => server.close() })),
  );
}
