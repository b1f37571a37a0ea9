import * as assert from 'assert';
import { describeFilesProgress, type FilesProgress, PieceRequests, readInPieces, receiveModelFiles } from '../../src/webview/filePieces';

/** A reader of `file` in pieces of at most `piece` bytes, as the playground's extension side answers. */
function reader(file: Uint8Array, piece: number, asked: number[] = []) {
  return async (offset: number) => {
    asked.push(offset);
    const bytes = file.slice(offset, Math.min(file.length, offset + piece));
    return { bytes: bytes.buffer, size: file.length };
  };
}

describe("a model file sent to a page in pieces (the playground's readModelFile)", () => {
  const file = Uint8Array.from({ length: 1_000_003 }, (_, i) => (i * 7919 + (i >> 9)) & 255);

  it('puts the pieces together in order, asking from where the last one ended', async () => {
    for (const piece of [1_000_003, 2_000_000, 333_334, 65_536]) {
      const asked: number[] = [];
      const received: number[] = [];
      const told: [number, number][] = [];
      const whole = new Uint8Array(
        await readInPieces(reader(file, piece, asked), 'f', (n, read, size) => {
          received.push(n);
          told.push([read, size]);
        }),
      );
      assert.deepStrictEqual(whole, file, `pieces of ${piece}`);
      // Each piece told as it arrived (the page's status counts them), with the file's bytes so far and its size.
      assert.strictEqual(received.length, asked.length);
      assert.deepStrictEqual(
        told,
        asked.map((at, i) => [at + received[i], file.length]),
      );
      assert.strictEqual(
        received.reduce((a, b) => a + b, 0),
        file.length,
      );
      assert.deepStrictEqual(
        asked,
        Array.from({ length: Math.ceil(file.length / piece) }, (_, i) => i * piece),
        `pieces of ${piece}`,
      );
    }
  });

  it("a model's files: the status names the file arriving, how far it is of its size, and its place among the files", async () => {
    const small = new Uint8Array(10 * 2 ** 20);
    const big = new Uint8Array(150 * 2 ** 20);
    const byRole: Record<string, Uint8Array> = { onnx: small, data: big };
    const told: FilesProgress[] = [];
    const files = await receiveModelFiles(
      { onnx: 'onnx/model.onnx', data: 'onnx/model.onnx_data' },
      (role, offset) => reader(byRole[role], 64 * 2 ** 20)(offset),
      (p) => told.push({ ...p }),
    );
    assert.strictEqual(files.data.bytes.byteLength, big.length);
    assert.deepStrictEqual(told.map(describeFilesProgress), [
      'onnx/model.onnx: 10 of 10 MiB (file 1 of 2)',
      'onnx/model.onnx_data: 64 of 150 MiB (file 2 of 2)',
      'onnx/model.onnx_data: 128 of 150 MiB (file 2 of 2)',
      'onnx/model.onnx_data: 150 of 150 MiB (file 2 of 2)',
    ]);
    assert.deepStrictEqual(
      told.map((p) => p.total / 2 ** 20),
      [10, 74, 138, 160],
    );
    // One file: no "file 1 of 1".
    assert.strictEqual(
      describeFilesProgress({ name: 'model.onnx', read: 2 ** 20, size: 3 * 2 ** 20, file: 1, files: 1, total: 2 ** 20 }),
      'model.onnx: 1 of 3 MiB',
    );
  });

  it('an empty file is one request', async () => {
    const asked: number[] = [];
    assert.strictEqual((await readInPieces(reader(new Uint8Array(0), 10, asked), 'f')).byteLength, 0);
    assert.deepStrictEqual(asked, [0]);
  });

  it('a file that changes size between pieces, or a piece of nothing before the end, is an error, not a mixed buffer', async () => {
    let calls = 0;
    const grows = async (offset: number) => {
      const size = calls++ === 0 ? 100 : 120;
      return { bytes: new Uint8Array(Math.min(40, size - offset)).buffer, size };
    };
    await assert.rejects(readInPieces(grows, 'onnx/model.onnx_data'), /onnx\/model\.onnx_data changed while it was read/);
    const stalls = async (offset: number) => ({ bytes: new Uint8Array(offset === 0 ? 40 : 0).buffer, size: 100 });
    await assert.rejects(readInPieces(stalls, 'f'), /f changed while it was read/);
    const overruns = async (offset: number) => ({ bytes: new Uint8Array(offset === 0 ? 60 : 60).buffer, size: 100 });
    await assert.rejects(readInPieces(overruns, 'f'), /f changed while it was read/);
  });

  it('answers reach the request they answer, in whatever order they come; an answer without bytes fails its request with the reason', async () => {
    const pieces = new PieceRequests();
    const sent: number[] = [];
    const a = pieces.ask((read) => sent.push(read));
    const b = pieces.ask((read) => sent.push(read));
    const c = pieces.ask((read) => sent.push(read));
    assert.strictEqual(new Set(sent).size, 3);
    pieces.answer(sent[1], { bytes: new Uint8Array([2]).buffer, size: 9 });
    pieces.answer(sent[0], { bytes: new Uint8Array([1, 1]).buffer, size: 9 });
    pieces.answer(sent[2], { error: 'cannot read model file x: gone' });
    // Answered twice, or never asked: dropped.
    pieces.answer(sent[1], { bytes: new Uint8Array([5]).buffer, size: 9 });
    pieces.answer(12345, { bytes: new Uint8Array([5]).buffer, size: 9 });
    assert.deepStrictEqual(new Uint8Array((await b).bytes), new Uint8Array([2]));
    assert.deepStrictEqual(new Uint8Array((await a).bytes), new Uint8Array([1, 1]));
    await assert.rejects(c, /cannot read model file x: gone/);
    await assert.rejects(
      pieces.ask((read) => pieces.answer(read, {})),
      /the extension sent no bytes/,
    );
  });
});
