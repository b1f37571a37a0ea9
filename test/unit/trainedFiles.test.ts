import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type * as vscode from 'vscode';
import { bytesDigest, fileDigest, textDigest, trainedOnDocument, writeTrainedFiles } from '../../src/vscode/trainedFiles';

const uri = (s: string) => ({ toString: () => s }) as unknown as vscode.Uri;

describe('the documents a workspace-trained model learnt from (Compare Models: trained on this text)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-trained-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("a file's digest is its text's, as the editor holds it: without a byte-order mark, line ends as they are, read in pieces", async () => {
    const text = 'Chapter I.\r\n\r\nIt was a fine morning — déjà vu 😀.\n'.repeat(50_000);
    const file = path.join(dir, 'book.txt');
    fs.writeFileSync(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]));
    assert.ok(fs.statSync(file).size > 2 ** 20, 'more than one piece');
    assert.strictEqual(await fileDigest(file), textDigest(text));
    assert.strictEqual(bytesDigest(fs.readFileSync(file)), textDigest(text));
    assert.notStrictEqual(textDigest(text.replace(/\r\n/g, '\n')), textDigest(text));
  });

  it('by URI, or by content for a copy or a file renamed since; not for another text, nor without a record', () => {
    writeTrainedFiles(dir, { files: ['file:///ws/a.txt'], digests: [textDigest('the text of a')] });
    let asked = 0;
    const digestOf = (t: string) => () => (asked++, textDigest(t));
    assert.strictEqual(trainedOnDocument(dir, uri('file:///ws/a.txt'), digestOf('edited since')), true);
    assert.strictEqual(asked, 0, 'the URI answers without a digest');
    assert.strictEqual(trainedOnDocument(dir, uri('file:///ws/copy-of-a.txt'), digestOf('the text of a')), true);
    assert.strictEqual(trainedOnDocument(dir, uri('file:///ws/b.txt'), digestOf('another text')), false);
    assert.strictEqual(trainedOnDocument(path.join(dir, 'none'), uri('file:///ws/a.txt'), digestOf('the text of a')), false);
  });
});
