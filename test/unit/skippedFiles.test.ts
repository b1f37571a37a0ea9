/** The training notice names the files it skipped and why (drive6: "2 files skipped" named none). */
import * as assert from 'assert';
import { skippedFilesNote } from '../../src/editor/skippedFiles';

describe('the training notice’s skipped files', () => {
  it('says nothing when none was skipped', () => {
    assert.strictEqual(skippedFilesNote([]), '');
  });

  it('names each with its reason, the first three, and counts the rest', () => {
    assert.strictEqual(skippedFilesNote([{ name: 'blob.txt', reason: 'binary' }]), '1 file skipped: blob.txt (binary).');
    const files = ['a.md', 'b.txt', 'pipe.txt', 'd.txt', 'e.txt'].map((name, i) => ({
      name,
      reason: i === 2 ? ('not a regular file' as const) : ('binary' as const),
    }));
    assert.strictEqual(
      skippedFilesNote(files),
      '5 files skipped: a.md (binary), b.txt (binary), pipe.txt (not a regular file) and 2 more (listed in the log).',
    );
  });
});
