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

/** A 64-bit little-endian ELF file's DT_NEEDED libraries (its dynamic section, by its section headers). */
function elfNeeded(file: string): string[] {
  const d = fs.readFileSync(file);
  assert.strictEqual(d.toString('latin1', 0, 4), '\x7fELF', `${file}: not an ELF file`);
  assert.strictEqual(d[4], 2, `${file}: not 64-bit`);
  const shoff = Number(d.readBigUInt64LE(0x28));
  const shentsize = d.readUInt16LE(0x3a);
  const shnum = d.readUInt16LE(0x3c);
  const section = (i: number) => {
    const o = shoff + i * shentsize;
    return {
      type: d.readUInt32LE(o + 4),
      offset: Number(d.readBigUInt64LE(o + 0x18)),
      size: Number(d.readBigUInt64LE(o + 0x20)),
      link: d.readUInt32LE(o + 0x28),
    };
  };
  const out: string[] = [];
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    if (s.type !== 6) continue; // SHT_DYNAMIC
    const strings = section(s.link);
    for (let o = s.offset; o < s.offset + s.size; o += 16) {
      const tag = d.readBigInt64LE(o);
      if (tag === 0n) break;
      if (tag === 1n) {
        const at = strings.offset + Number(d.readBigUInt64LE(o + 8));
        out.push(d.toString('latin1', at, d.indexOf(0, at)));
      }
    }
  }
  return out;
}

describe("llama.cpp's binary in the Linux packages (GGUF models)", () => {
  const LLAMA = path.join(__dirname, '..', '..', '..', 'node_modules', '@node-llama-cpp');
  /** The C and C++ runtime every Linux system has. */
  const SYSTEM = /^(libc|libm|libdl|libpthread|librt|libstdc\+\+|libgcc_s|ld-linux-[\w-]+)\.so(\.\d+)*$/;
  for (const pkg of ['linux-x64', 'linux-arm64']) {
    it(`${pkg}: the package staged into bin/llama links only its own files and the C/C++ runtime (no CUDA, no Vulkan)`, () => {
      const dir = path.join(LLAMA, pkg, 'bins', pkg);
      const files = fs.readdirSync(dir).filter((f) => /\.(so|node)$/.test(f));
      assert.ok(files.includes('llama-addon.node'), files.join(', '));
      // The reader sees the links (the binding's own libraries among them).
      assert.ok(elfNeeded(path.join(dir, 'llama-addon.node')).some((lib) => lib.startsWith('libllama')));
      for (const f of files) {
        const missing = elfNeeded(path.join(dir, f)).filter((lib) => !files.includes(lib) && !SYSTEM.test(lib));
        assert.deepStrictEqual(missing, [], `${f} links ${missing.join(', ')}, which neither the package nor the C/C++ runtime has`);
      }
      assert.ok(!files.some((f) => /cuda|vulkan/i.test(f)), files.join(', '));
    });
  }
});
