import * as assert from 'assert';
import { blockEnd, blockLines, blockNames, blockStart, findBlocks, mergeBlocks, targetCount, updateDoc } from '../../scripts/benchDoc';

const ORDER = ['header', 'training', 'ngramload', 'neural', 'targets', 'targets-training', 'targets-ngramload', 'targets-count'];

/** A document as the benchmark leaves it, with notes written by hand between and after the blocks. */
const DOC = [
  blockStart('header'),
  '# Benchmarks',
  blockEnd('header'),
  '',
  blockStart('training'),
  '## Training',
  '',
  '| order | wall |',
  '| 4 | 2.99 s |',
  '',
  blockEnd('training'),
  '',
  'Hand-written: the CPU profile of training, 0.64 s tokenizing.',
  '',
  blockStart('ngramload'),
  '## Loading n-gram models',
  '',
  '| ARPA text, wall | 3.57 s |',
  '',
  blockEnd('ngramload'),
  '',
  'Hand-written: three changes tried, none paid (0.313 s against 0.351 s).',
  '',
  blockStart('targets'),
  '## Targets',
  blockEnd('targets'),
  blockStart('targets-training'),
  '| training order 4 | 1.2× | **misses** |',
  '',
  blockEnd('targets-training'),
  '',
  'Measured by hand: the 2 GB ARPA loads, **meets**.',
  '',
  blockStart('targets-count'),
  '0 of 1 targets met, 1 missed.',
  blockEnd('targets-count'),
  '',
].join('\n');

describe('benchmark document blocks (docs/BENCHMARKS.md)', () => {
  it('replaces only the lines between a section’s markers and keeps every hand-written line', () => {
    const out = mergeBlocks(DOC, [{ name: 'ngramload', lines: ['', '## Loading n-gram models', '', '| ARPA text, wall | 2.10 s |', ''] }], ORDER);
    assert.deepStrictEqual(blockLines(out, 'ngramload'), ['## Loading n-gram models', '', '| ARPA text, wall | 2.10 s |', '']);
    assert.ok(!out.includes('3.57 s'), 'the old figure is gone');
    for (const line of DOC.split('\n').filter((l) => l.startsWith('Hand-written') || l.startsWith('Measured by hand')))
      assert.ok(out.includes(line), `kept: ${line}`);
    // Nothing else moved: the document differs only in the one figure.
    assert.strictEqual(out, DOC.replace('3.57 s', '2.10 s'));
  });

  it('adds a block the document lacks after the notes of the block before it, in the blocks’ order', () => {
    const out = mergeBlocks(DOC, [{ name: 'targets-ngramload', lines: ['| ARPA load ≤ 2× query | 2.33× | **misses** |'] }], ORDER);
    assert.deepStrictEqual(blockNames(out), ['header', 'training', 'ngramload', 'targets', 'targets-training', 'targets-ngramload', 'targets-count']);
    const lines = out.split('\n');
    assert.ok(lines.indexOf('Measured by hand: the 2 GB ARPA loads, **meets**.') < lines.indexOf(blockStart('targets-ngramload')));
    // A block whose followers are all missing goes at the end.
    const last = mergeBlocks(DOC, [{ name: 'zzz', lines: ['new'] }], [...ORDER, 'zzz']);
    assert.ok(last.trimEnd().endsWith([blockStart('zzz'), 'new', blockEnd('zzz')].join('\n')));
  });

  it('writes a document without markers from nothing, and adds blocks to one without markers without touching its text', () => {
    const fresh = mergeBlocks(
      '',
      [
        { name: 'header', lines: ['# Benchmarks'] },
        { name: 'training', lines: ['## Training'] },
      ],
      ORDER,
    );
    assert.strictEqual(
      fresh,
      [blockStart('header'), '# Benchmarks', blockEnd('header'), '', blockStart('training'), '## Training', blockEnd('training'), ''].join('\n'),
    );
    const unmarked = '# Benchmarks\n\n## Training\n\nnotes by hand\n';
    const out = mergeBlocks(unmarked, [{ name: 'training', lines: ['## Training', 'new'] }], ORDER);
    assert.ok(out.startsWith(unmarked.trimEnd()), 'the unmarked text is all kept, in place');
    assert.deepStrictEqual(blockLines(out, 'training'), ['## Training', 'new']);
  });

  it('refuses unbalanced or nested markers rather than guess what to replace', () => {
    assert.throws(() => findBlocks([blockStart('a'), 'x']), /block "a" has no end marker/);
    assert.throws(() => findBlocks([blockStart('a'), blockStart('b'), blockEnd('b'), blockEnd('a')]), /starts inside block "a"/);
    assert.throws(() => findBlocks([blockEnd('a')]), /no block is open/);
    assert.throws(() => findBlocks([blockStart('a'), blockEnd('a'), blockStart('a'), blockEnd('a')]), /a second block "a"/);
    assert.throws(() => mergeBlocks(`${blockStart('ngramload')}\nx\n`, [{ name: 'ngramload', lines: [] }], ORDER), /no end marker/);
  });

  it('a section run alone replaces its block and its rows of the targets, keeps the other sections’ rows and counts them all', () => {
    const out = updateDoc(
      DOC,
      [
        { name: 'ngramload', lines: ['## Loading n-gram models', '| ARPA text, wall | 2.10 s |'] },
        { name: 'targets-ngramload', lines: ['| target | this run | |', '|---|---:|---|', '| ARPA load ≤ 2× query | 1.9× | **meets** |'] },
      ],
      ORDER,
    );
    assert.deepStrictEqual(blockLines(out, 'targets-training'), ['| training order 4 | 1.2× | **misses** |', '']);
    assert.deepStrictEqual(blockLines(out, 'targets-count'), ['1 of 2 targets met, 1 missed.']);
    assert.ok(out.includes('Hand-written: the CPU profile of training, 0.64 s tokenizing.'));
    assert.ok(out.includes('Measured by hand: the 2 GB ARPA loads, **meets**.'));
    assert.ok(!out.includes('3.57 s'));
    // Run again with another figure: its row is replaced, not added twice.
    const again = updateDoc(out, [{ name: 'targets-ngramload', lines: ['| ARPA load ≤ 2× query | 2.4× | **misses** |'] }], ORDER);
    assert.deepStrictEqual(blockLines(again, 'targets-ngramload'), ['| ARPA load ≤ 2× query | 2.4× | **misses** |', '']);
    assert.deepStrictEqual(blockLines(again, 'targets-count'), ['0 of 2 targets met, 2 missed.']);
  });

  it('counts the targets over every section’s rows', () => {
    const rows = ['| a | 1 | **meets** |', '| b | 2 | **misses** |', '| c | 3 | **not settled** |', '| d | 4 | not judged |', '| e | 5 | **meets** |'];
    assert.strictEqual(targetCount(rows), '2 of 3 targets met, 1 missed; 1 not settled; 1 not judged.');
  });
});
