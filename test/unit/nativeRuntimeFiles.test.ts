/**
 * The packages leave out some of onnxruntime-node's native files (scripts/nativeOmit.json). These
 * tests read the import tables of the files that are kept (PE for Windows, Mach-O for macOS), so
 * that an onnxruntime update that starts to need an omitted file fails here, not on a user's
 * machine.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';

const NATIVE = path.join(__dirname, '..', '..', '..', 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6');
const OMIT: Record<string, string[]> = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'scripts', 'nativeOmit.json'), 'utf8')).omit;

/** A PE file's imported DLL names: loaded with the file, and delay-loaded on first call. */
function peImports(file: string): { load: string[]; delayed: string[] } {
  const d = fs.readFileSync(file);
  const pe = d.readUInt32LE(0x3c);
  assert.strictEqual(d.toString('latin1', pe, pe + 4), 'PE\0\0', `${file}: not a PE file`);
  const sections = d.readUInt16LE(pe + 6);
  const optSize = d.readUInt16LE(pe + 20);
  const opt = pe + 24;
  const dirs = opt + (d.readUInt16LE(opt) === 0x20b ? 112 : 96);
  const table: { va: number; size: number; raw: number }[] = [];
  for (let i = 0, s = opt + optSize; i < sections; i++, s += 40)
    table.push({ va: d.readUInt32LE(s + 12), size: d.readUInt32LE(s + 8), raw: d.readUInt32LE(s + 20) });
  const offset = (rva: number): number => {
    const sec = table.find((t) => rva >= t.va && rva < t.va + t.size);
    assert.ok(sec, `${file}: RVA ${rva} outside every section`);
    return rva - sec.va + sec.raw;
  };
  const name = (rva: number) => {
    const o = offset(rva);
    return d.toString('latin1', o, d.indexOf(0, o));
  };
  const list = (dirIndex: number, entrySize: number, nameField: number): string[] => {
    const rva = d.readUInt32LE(dirs + dirIndex * 8);
    const out: string[] = [];
    if (!rva) return out;
    for (let o = offset(rva); d.readUInt32LE(o + nameField) !== 0; o += entrySize) out.push(name(d.readUInt32LE(o + nameField)));
    return out;
  };
  return { load: list(1, 20, 12), delayed: list(13, 32, 4) };
}

/** A 64-bit Mach-O file's linked dylibs (LC_LOAD_DYLIB, LC_LOAD_WEAK_DYLIB, LC_REEXPORT_DYLIB). */
function machODylibs(file: string): string[] {
  const d = fs.readFileSync(file);
  assert.strictEqual(d.readUInt32LE(0), 0xfeedfacf, `${file}: not a 64-bit Mach-O file`);
  const commands = d.readUInt32LE(16);
  const out: string[] = [];
  for (let i = 0, o = 32; i < commands; i++) {
    const cmd = d.readUInt32LE(o);
    const size = d.readUInt32LE(o + 4);
    if (cmd === 0xc || cmd === 0x80000018 || cmd === 0x8000001f) {
      const at = o + d.readUInt32LE(o + 8);
      out.push(d.toString('latin1', at, d.indexOf(0, at)));
    }
    o += size;
  }
  return out;
}

describe('native runtime files left out of the packages', () => {
  for (const [target, omitted] of Object.entries(OMIT)) {
    const [platform, arch] = target.split('-');
    const dir = path.join(NATIVE, platform, arch);
    const kept = fs.readdirSync(dir).filter((f) => !omitted.includes(f));

    it(`${target}: every omitted file exists in onnxruntime-node (the list is not stale)`, () => {
      for (const f of omitted) assert.ok(fs.existsSync(path.join(dir, f)), `${f} is no longer in ${dir}: update scripts/nativeOmit.json`);
    });

    it(`${target}: no kept file links an omitted one at load time`, () => {
      assert.ok(kept.includes('onnxruntime_binding.node'), 'the binding itself must be kept');
      const lower = omitted.map((f) => f.toLowerCase());
      for (const f of kept) {
        const file = path.join(dir, f);
        const linked = platform === 'win32' ? peImports(file).load : machODylibs(file).map((p) => path.basename(p));
        const needed = linked.filter((l) => lower.includes(l.toLowerCase()));
        assert.deepStrictEqual(needed, [], `${f} links ${needed.join(', ')} at load time, which the package leaves out`);
      }
    });
  }

  it('win32: DirectML is a delay-loaded import of onnxruntime.dll (loaded only by the DirectML provider)', () => {
    const { load, delayed } = peImports(path.join(NATIVE, 'win32', 'x64', 'onnxruntime.dll'));
    assert.ok(delayed.includes('DirectML.dll'), `delay-loaded: ${delayed.join(', ')}`);
    assert.ok(!load.includes('DirectML.dll'));
    // The binding links onnxruntime.dll itself, which the package keeps.
    assert.ok(peImports(path.join(NATIVE, 'win32', 'x64', 'onnxruntime_binding.node')).load.includes('onnxruntime.dll'));
  });

  it('darwin: the binding links the copy of libonnxruntime that is kept', () => {
    const linked = machODylibs(path.join(NATIVE, 'darwin', 'arm64', 'onnxruntime_binding.node'));
    assert.ok(linked.includes('@rpath/libonnxruntime.1.dylib'), linked.join(', '));
  });
});
