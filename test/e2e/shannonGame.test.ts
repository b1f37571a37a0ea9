/** End-to-end: LM: Play the Shannon Game in code-server, played from the keyboard. */
import * as assert from 'assert';
import type { Frame } from 'playwright-core';
import { foldToShannon27, makeAlphabet } from '../../src/core/shannon/alphabet';
import { readBounds } from '../../src/core/shannon/bounds';
import { newGame } from '../../src/core/shannon/game';
import { playModel } from '../../src/core/shannon/modelPlayer';
import { NextCharPredictor } from '../../src/core/shannon/nextCharDistribution';
import { PASSAGES } from '../../src/core/shannon/passages';
import { loadModel } from '../../src/node/modelLoader';
import { useVsCode } from './session';

/** 28: past the K = 27 characters from which estimates can be bounds, with checks at 10 and 27 on the way. */
const PLAYED = 28;

describe('The Shannon game panel (code-server)', function () {
  const session = useVsCode({});
  let frame: Frame;

  /** The summary table's row as text, e.g. "Upper bound (bits/char) 1.00 0.87". */
  const summaryRow = (label: string) => frame.locator('#summary tr', { hasText: label }).first();

  /** What a bounds cell should read: the value, starred while it is an estimate. */
  const cell = (guesses: number[], which: 'lower' | 'upper') => {
    const r = readBounds(guesses, 27);
    return `${r[which].toFixed(2)}${r.kind === 'estimates' ? ' *' : ''}`;
  };
  const youCell = async (label: string) => (await summaryRow(label).locator('td').first().innerText()).trim();

  it('plays by typing: guess counts, bounds (estimates with a note until they can be bounds), and the model beside them', async function () {
    const { wb } = session;
    await wb.runCommand('LM: Play the Shannon Game');
    frame = await wb.webviewFrame('#guess');
    await frame.locator('#game-title', { hasText: 'motorcycle' }).waitFor();
    await frame.locator('#guess').click();
    const text = foldToShannon27(PASSAGES[0].text);
    const guesses: number[] = [];
    for (let i = 0; i < PLAYED; i++) {
      const ch = text[i];
      if (i % 2 === 0) {
        // A wrong guess first: it is shown, and cannot be made twice.
        const wrong = ch === 'q' ? 'z' : 'q';
        await wb.page.keyboard.type(wrong);
        await frame.locator('#wrong .chip', { hasText: wrong }).waitFor();
        if (i === 0) {
          await wb.page.keyboard.type(wrong);
          await frame.locator('#feedback', { hasText: 'already tried' }).waitFor();
          await wb.page.keyboard.type('!');
          await frame.locator('#feedback', { hasText: 'not in the alphabet' }).waitFor();
        }
        guesses.push(2);
      } else {
        guesses.push(1);
      }
      await wb.page.keyboard.type(ch);
      await frame.locator('#game-title', { hasText: `character ${i + 2} of ${text.length}` }).waitFor();
      // Singular and plural, not "guess(es)".
      if (i < 2) await frame.locator('#feedback', { hasText: i === 0 ? 'after 2 guesses.' : 'after 1 guess.' }).waitFor();
      if (i + 1 === 10) {
        // 10 characters: q = (1/2, 1/2), both 1 bit, but 10 < 27: estimates, starred, with the note.
        await summaryRow('Characters played').filter({ hasText: 'Characters played10' }).waitFor();
        assert.strictEqual(await youCell('Upper bound'), cell(guesses, 'upper'));
        assert.strictEqual(await youCell('Upper bound'), '1.00 *');
        assert.strictEqual(await youCell('Lower bound'), '1.00 *');
        // Ordered (1 ≤ 1): the note gives the one reason that applies, the alphabet's size.
        await frame.locator('#bounds-note', { hasText: "10 characters played, fewer than the alphabet's 27 symbols" }).waitFor();
        assert.doesNotMatch(await frame.locator('#bounds-note').innerText(), /ordered|above the upper/);
        await wb.screenshot('shannon-bounds-too-few');
      }
      if (i + 1 === 27) {
        // 27 characters: q = (13/27, 14/27) rises, and the lower estimate (1.04) passes the upper (1.00).
        await summaryRow('Characters played').filter({ hasText: 'Characters played27' }).waitFor();
        assert.strictEqual(await youCell('Lower bound'), cell(guesses, 'lower'));
        assert.strictEqual(await youCell('Lower bound'), '1.04 *');
        assert.strictEqual(await youCell('Upper bound'), '1.00 *');
        await frame.locator('#bounds-note', { hasText: 'for you the lower estimate (1.04 bits) is above the upper (1.00 bits)' }).waitFor();
        assert.doesNotMatch(await frame.locator('#bounds-note').innerText(), /fewer than the alphabet/);
        await wb.screenshot('shannon-bounds-crossed');
      }
    }
    await frame.locator('#text', { hasText: text.slice(0, PLAYED) }).waitFor();

    // 28 characters: q = (1/2, 1/2) again, and now they are bounds: 1 bit per character.
    await summaryRow('Characters played')
      .filter({ hasText: `Characters played${PLAYED}` })
      .waitFor();
    assert.strictEqual(await youCell('Upper bound'), '1.00');
    assert.strictEqual(await youCell('Lower bound'), '1.00');
    assert.match(
      await frame.locator('#bounds-explained').innerText(),
      /Upper bound −Σ qi log₂ qi: the entropy of the guess count[\s\S]*Lower bound Σ i \(qi − qi\+1\) log₂ i: from the sorted frequencies/,
    );

    // The model: the same numbers as the core computes here for the embedded n-gram model.
    const model = await loadModel('ngram-classics');
    const game = newGame('t', PASSAGES[0].text, 'shannon27', 0, 'x');
    const ranks: number[] = [];
    const bits: number[] = [];
    await playModel(new NextCharPredictor(model, makeAlphabet('shannon27', '')), game, 0, PLAYED, (g) => {
      ranks.push(g.rank);
      bits.push(g.bits);
    });
    const crossEntropy = (bits.reduce((a, b) => a + b, 0) / PLAYED).toFixed(2);
    await frame.locator('#model-progress', { hasText: `has played ${text.length} of ${text.length}` }).waitFor();
    await summaryRow('Cross-entropy').filter({ hasText: crossEntropy }).waitFor();
    const upperRow = await summaryRow('Upper bound').innerText();
    assert.ok(upperRow.trim().endsWith(cell(ranks, 'upper')), `model upper bound ${cell(ranks, 'upper')}: ${upperRow}`);
    const lowerRow = await summaryRow('Lower bound').innerText();
    assert.ok(lowerRow.trim().endsWith(cell(ranks, 'lower')), `model lower bound ${cell(ranks, 'lower')}: ${lowerRow}`);
    // The note is there exactly when the model's column is still estimates.
    assert.strictEqual(await frame.locator('#bounds-note').isVisible(), readBounds(ranks, 27).kind === 'estimates');
    assert.match(await frame.locator('#summary thead').innerText(), /ngram-classics/);
    // Character by character: the newest row has the model's guess count for that character.
    const newest = await frame.locator('#recent tbody tr').first().innerText();
    assert.deepStrictEqual(
      newest
        .split('\t')
        .map((c) => c.trim())
        .slice(0, 5),
      [String(PLAYED), text[PLAYED - 1] === ' ' ? '␣' : text[PLAYED - 1], '1', '', String(ranks[PLAYED - 1])],
    );
    await wb.screenshot('shannon-game');
  });

  it('exports the results as CSV', async function () {
    const { wb } = session;
    await frame.locator('#export-csv').click();
    await wb.page.waitForFunction(
      () => (document.querySelector('.editor-instance .view-lines') as HTMLElement | null)?.innerText.includes('model_bits') ?? false,
    );
    const csv = await wb.editorText();
    const rows = csv.trim().split('\n');
    assert.strictEqual(rows.length, PLAYED + 1, csv);
    assert.match(rows[1], /,shannon27,all,1,t,2,q,ngram-classics,\d+,\d+\.\d{4}$/);
    // Named, so that Save proposes a file name (not the header line), and not saved yet.
    await wb.page.locator('.tabs-container .tab.active', { hasText: /shannon-games-\d{4}-\d{2}-\d{2}\.csv/ }).waitFor();
    await wb.screenshot('shannon-csv');
  });

  it('keeps the game when the panel is closed and reopened, and resets on request', async function () {
    const { wb } = session;
    await wb.runCommand('View: Close All Editors');
    await wb.page.locator('.monaco-dialog-box .monaco-button', { hasText: "Don't Save" }).click();
    await wb.runCommand('LM: Play the Shannon Game');
    frame = await wb.webviewFrame('#guess');
    await frame.locator('#game-title', { hasText: `character ${PLAYED + 1} of` }).waitFor();
    await frame.locator('#reset').click();
    await wb.page.locator('.monaco-dialog-box .monaco-button', { hasText: 'Reset' }).click();
    await frame.locator('#game-title', { hasText: 'character 1 of' }).waitFor();
    await summaryRow('Characters played').filter({ hasText: 'Characters played0' }).waitFor();
  });

  it('names the text being played in the Text list: a game on a selection shows the editor, not the first passage (drive7)', async function () {
    const { wb } = session;
    const textList = () => frame.locator('#source').evaluate((e) => (e as HTMLElement & { value: string }).value);
    const listShows = async (value: string) => {
      await frame.waitForFunction((v) => (document.querySelector('#source') as (HTMLElement & { value: string }) | null)?.value === v, value);
      assert.strictEqual(await textList(), value);
    };
    await listShows('passage:0');
    await wb.openFile('mouse.txt');
    await wb.focusEditor();
    await wb.page.keyboard.press('Control+Home');
    await wb.page.keyboard.press('Shift+End');
    await wb.runCommand('LM: Play the Shannon Game');
    frame = await wb.webviewFrame('#guess');
    await frame.locator('#game-title', { hasText: 'selection in mouse.txt' }).waitFor();
    await listShows('editor');
    await wb.screenshot('shannon-text-list-selection');
  });
});
