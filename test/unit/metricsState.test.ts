/**
 * The document-entropy item's state apart from VS Code (editor/metricsState.ts): which run a key
 * needs, a job giving way to a heat-map, the number kept beside a new one being computed, and the
 * item's text (drive-gguf5 Low 5: beside an old number, the heat-map's progress showed nowhere).
 */
import * as assert from 'assert';
import { MetricsState, RECOMPUTING_ICON, SHOWN_ICON, textKey } from '../../src/editor/metricsState';

describe('the status bar item’s state', () => {
  it('a cursor move within the text being scored, waited for or shown starts nothing; another text, or a forced run, does', () => {
    const s = new MetricsState<string>();
    assert.ok(s.wants('a@1:document'));
    const job = s.start('a@1:document');
    assert.ok(!s.wants('a@1:document'), 'being scored');
    assert.ok(s.wants('a@1:document', true), 'forced (a setting changed)');
    assert.ok(s.wants('a@2:document'), 'an edit');
    s.shown(job, 'model', '4.12');
    assert.ok(!s.wants('a@1:document'), 'shown');
    assert.ok(s.wants('a@1:3-9'), 'a selection');
    const next = s.start('a@2:document');
    assert.ok(s.waitForHeatmap(), 'the job gives way');
    assert.ok(next.cancelled, 'its scoring stops');
    assert.ok(s.waiting);
    assert.ok(!s.wants('a@2:document'), 'waited for');
    assert.ok(!s.waitForHeatmap(), 'no job left to give way');
    s.stop();
    assert.ok(!s.waiting);
    assert.ok(s.wants('a@2:document'), 'the wait ended: a@2 needs a run (the number shown is of a@1)');
  });

  it('starting a job stops the one before', () => {
    const s = new MetricsState<string>();
    const a = s.start('a');
    const b = s.start('b');
    assert.ok(a.cancelled && !b.cancelled);
    s.ended(a);
    assert.ok(!s.wants('b'), 'an old job ending leaves the current one running');
    s.ended(b);
    assert.ok(s.wants('b'), 'no job, nothing shown');
  });

  it('the item’s text: the number with its icon, the progress beside it or beside a "…"', () => {
    const s = new MetricsState<string>();
    assert.strictEqual(s.text('0%'), `${RECOMPUTING_ICON} … bits/char (0%)`);
    assert.strictEqual(s.text('heat-map 12%'), `${RECOMPUTING_ICON} … bits/char (heat-map 12%)`);
    s.shown(s.start('a@1:document'), 'model', '5.87');
    assert.strictEqual(s.text(), `${SHOWN_ICON} 5.87 bits/char`);
    s.edited();
    assert.strictEqual(s.text(), `${RECOMPUTING_ICON} 5.87 bits/char`, 'the number of the text before the edit');
    // While a heat-map scores the edited document, its progress shows beside the old number (README).
    assert.strictEqual(s.text('heat-map 37%'), `${RECOMPUTING_ICON} 5.87 bits/char (heat-map 37%)`);
    assert.strictEqual(s.text('3%'), `${RECOMPUTING_ICON} 5.87 bits/char (3%)`);
  });

  it('a number of another document or model goes; of the same stays', () => {
    const s = new MetricsState<string>();
    s.shown(s.start('a@1:document'), 'm1', '5.87');
    assert.ok(!s.dropIfOtherText('a@1:document'));
    assert.ok(!s.dropIfOtherModel('m1'));
    assert.strictEqual(s.number, '5.87');
    assert.ok(s.dropIfOtherModel('m2'));
    assert.strictEqual(s.text(), `${RECOMPUTING_ICON} … bits/char`);
    s.shown(s.start('a@1:document'), 'm2', '2.04');
    assert.ok(s.dropIfOtherText('b@1:document'));
    assert.strictEqual(s.number, undefined);
    s.hidden();
    assert.ok(s.wants('a@1:document'), 'hidden: nothing shown');
  });

  it('a selection’s number is not shown as the document’s, nor another selection’s; the document’s own after an edit is, as of the text before it (drive6)', () => {
    const uri = 'file:///w/a@b:c.txt';
    const s = new MetricsState<string>();
    s.shown(s.start(textKey(uri, 1, '40-90')), 'm', '5.57');
    s.start(textKey(uri, 1, 'document'));
    assert.strictEqual(s.text('0%'), `${RECOMPUTING_ICON} … bits/char (0%)`, 'deselected: the run for the document drops the selection’s number');
    s.shown(s.start(textKey(uri, 1, '40-90')), 'm', '5.57');
    assert.ok(s.dropIfOtherText(textKey(uri, 1, '40-91')), 'another selection');
    s.shown(s.start(textKey(uri, 1, 'document')), 'm', '5.65');
    assert.ok(!s.dropIfOtherText(textKey(uri, 7, 'document')), 'the same document after edits keeps its number');
    assert.strictEqual(s.text('3%'), `${RECOMPUTING_ICON} 5.65 bits/char (3%)`);
    assert.ok(!s.current, 'marked as of the text before the edit');
    assert.ok(s.dropIfOtherText(textKey('file:///w/a@b:d.txt', 7, 'document')), 'another document whose name differs after an @');
  });

  it('a number of part of a long text says so in the item, not only its tooltip (drive22 M1), until another number replaces it', () => {
    const s = new MetricsState<string>();
    s.shown(s.start('a@1:document'), 'm', '2.13', 'first 50,000 chars');
    assert.ok(s.partial);
    assert.strictEqual(s.text(), `${SHOWN_ICON} 2.13 bits/char of first 50,000 chars`);
    s.edited();
    assert.strictEqual(s.text('heat-map 40%'), `${RECOMPUTING_ICON} 2.13 bits/char of first 50,000 chars (heat-map 40%)`, 'the old number keeps its part');
    s.shown(s.start('a@2:document'), 'm', '2.11');
    assert.ok(!s.partial, 'the whole document’s number (from its heat-map)');
    assert.strictEqual(s.text(), `${SHOWN_ICON} 2.11 bits/char`);
    s.shown(s.start('a@2:document'), 'm', '2.13', 'first 50,000 chars');
    assert.ok(s.dropIfOtherModel('other'));
    assert.ok(!s.partial);
    assert.strictEqual(s.text(), `${RECOMPUTING_ICON} … bits/char`);
  });
});
