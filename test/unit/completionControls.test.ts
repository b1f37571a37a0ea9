/**
 * Complete Selection leaves control characters a model generated out of the inserted text and
 * names them (drive-gguf5 Medium 1: SYN, ETX, EM, CAN, SUB, RS and DC3 went into the file).
 */
import * as assert from 'assert';
import { controlsLeftOutMessage, oneLineLabel, withoutControls } from '../../src/editor/completionControls';

describe('control characters in a completion', () => {
  it('are left out, in order by their escapes; tabs, line breaks and other characters stay', () => {
    // The drive's completion, in part (od -c: 026, 003, 031, 030, 032, 036, 023).
    const got = withoutControls("used\u0016ho mer appeeddW\u0003\n keinire\u0019 com_'\u0018Do\taw\u001aTo sWim\u001e %\u0013rie\r\n");
    assert.strictEqual(got.text, "usedho mer appeeddW\n keinire com_'Do\tawTo sWim %rie\r\n");
    assert.deepStrictEqual(got.removed, ['\\x16', '\\x03', '\\x19', '\\x18', '\\x1a', '\\x1e', '\\x13']);
    // DEL and C1 controls too; zero-width and other marks are text a model may mean, and stay.
    assert.deepStrictEqual(withoutControls('a\u007fb\u0085c\u200bd\u00e9'), { text: 'abc\u200bd\u00e9', removed: ['\\x7f', '\\x85'], carriageReturns: 0 });
    assert.deepStrictEqual(withoutControls('plain text\n'), { text: 'plain text\n', removed: [], carriageReturns: 0 });
  });

  it('the notice names them by their escapes', () => {
    assert.strictEqual(
      controlsLeftOutMessage(['\\x16', '\\x03']),
      'LM: the model generated 2 control characters (\\x16 \\x03); they were left out of the inserted text, which stays plain text.',
    );
    assert.strictEqual(
      controlsLeftOutMessage(['\\x1a']),
      'LM: the model generated 1 control character (\\x1a); it was left out of the inserted text, which stays plain text.',
    );
  });

  it('a carriage return without a line feed becomes one, counted and said (drive6 Low 9: it became a line break unsaid)', () => {
    assert.deepStrictEqual(withoutControls('one\rtwo\r\nthree\r'), { text: 'one\ntwo\r\nthree\n', removed: [], carriageReturns: 2 });
    assert.strictEqual(
      controlsLeftOutMessage([], 1),
      'LM: the model generated 1 carriage return (\\r) without a line feed; in the document it is a line break.',
    );
    assert.strictEqual(
      controlsLeftOutMessage(['\\x0c'], 2),
      'LM: the model generated 1 control character (\\x0c); it was left out of the inserted text, which stays plain text, and 2 carriage returns (\\r) without a line feed; in the document each is a line break.',
    );
  });

  it("a quick pick's one-line label keeps the width of space runs, shows tabs and line breaks, and draws no icon for $(…)", () => {
    assert.strictEqual(oneLineLabel('a  b\tc\nd   e\r\nf'), 'a\u00a0\u00a0b→c ⏎ d\u00a0\u00a0\u00a0e ⏎ f');
    // One space stays a space: a label's HTML draws it. At the ends it would not: kept as wide as it is.
    assert.strictEqual(oneLineLabel('the cat sat'), 'the cat sat');
    assert.strictEqual(oneLineLabel(' the cat '), '\u00a0the cat\u00a0');
    // Line breaks at the start and the end are shown: they open and close a paragraph (drive19 M1).
    assert.strictEqual(oneLineLabel('\n“I will be\n'), '⏎ “I will be ⏎');
    assert.strictEqual(oneLineLabel('\n\n'), '⏎ ⏎');
    assert.strictEqual(oneLineLabel('cost $(alert) now $5'), 'cost $\u200b(alert) now $5');
    assert.strictEqual(oneLineLabel('   '), '(3 spaces)');
    assert.strictEqual(oneLineLabel(''), '(empty)');
  });
});
