/**
 * End-to-end: the logit lens and attention views of the playground's inside panel, for a token of
 * a scored prompt with gpt-classics (in the page's engine worker), against `lmp score --details`
 * of the same text: the lens's last row is the model's own prediction of the token (p, rank, top 5).
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { Frame } from 'playwright-core';
import { formatProbability, visibleToken } from '../../src/core/numberFormat';
import { cli, useVsCode } from './session';

const PROMPT = 'It was a fine morning, and the';

describe('The playground inside panel: logit lens and attention (code-server)', function () {
  const session = useVsCode({});
  let frame: Frame;

  const fill = async (id: string, value: string) => {
    const inner = frame.locator(`#${id} textarea, #${id} input`).first();
    await inner.fill(value);
    await inner.dispatchEvent('change');
  };
  /** What the panel shows, for a failure message. */
  const panelText = () =>
    frame
      .locator('#inside')
      .innerText()
      .catch((e: Error) => `(no panel: ${e.message})`);

  it("shows each layer's predictions for a prompt token, the last as the model scores it, with a chart", async function () {
    const { wb } = session;
    await wb.runCommand('LM: Open Playground');
    frame = await wb.webviewFrame('#prompt');
    await fill('prompt', PROMPT);
    await fill('maxTokens', '0');
    await frame.locator('#echoPrompt').click();
    await frame.evaluate(() => {
      const e = document.getElementById('model') as HTMLElement & { value: string };
      e.value = 'gpt-classics';
      e.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await frame.locator('#run').click();
    await frame.locator('#run:not([disabled])').waitFor({ timeout: 180_000 });
    await frame.locator('#engine-status', { hasText: /gpt-classics on / }).waitFor();
    await frame.locator('#results .tok.prompt', { hasText: 'morning' }).first().click();

    const lens = frame.locator('#inside [data-view="logit-lens"]');
    await lens
      .locator('#logit-lens-table')
      .waitFor({ timeout: 60_000 })
      .catch(async (e: Error) => assert.fail(`${e.message}\n${await panelText()}`));
    const rows = lens.locator('#logit-lens-table tbody tr');
    assert.strictEqual(await rows.count(), 5, 'the embeddings and after each of the 4 blocks');

    fs.writeFileSync(path.join(session.workspace, 'inside.txt'), PROMPT);
    const scores: { text: string; logprob: number; rank: number; top: { text: string }[] }[] = JSON.parse(
      cli('score', '--model', 'gpt-classics', '--details', '--json', path.join(session.workspace, 'inside.txt')),
    ).token_scores;
    const token = scores.find((s) => s.text === ' morning')!;
    const last = (await rows.nth(4).locator('td').allInnerTexts()).map((t) => t.replace(/\u00a0/g, ' '));
    assert.strictEqual(last[1], formatProbability(Math.exp(token.logprob)), `the last layer's p of ␣morning: ${last.join(' | ')}`);
    assert.strictEqual(last[2], String(token.rank));
    const top = await rows.nth(4).locator('.lens-top .mono').allInnerTexts();
    assert.deepStrictEqual(
      top,
      token.top.map((t) => visibleToken(t.text)),
    );
    // The panel's own p of the token, from the scoring run, is the lens's last row.
    assert.match(await frame.locator('#inside').innerText(), new RegExp(`p = ${last[1].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    // The chart is drawn (Chart.js sizes its canvas once it is in the page).
    await frame.waitForFunction(() => ((document.getElementById('logit-lens-chart') as HTMLCanvasElement | null)?.width ?? 0) > 0);
    await lens.scrollIntoViewIfNeeded();
    await wb.screenshot('inside-logit-lens');
  });

  it("shows each head's attention over the context as a heat-map, with the heads' mean, a layer and a head selector", async function () {
    const attention = frame.locator('#inside [data-view="attention"]');
    const map = attention.locator('#attention-heatmap');
    await map.waitFor({ timeout: 60_000 }).catch(async (e: Error) => assert.fail(`${e.message}\n${await panelText()}`));
    // Context: <|endoftext|> It ␣was ␣a ␣fine — the tokens before ␣morning.
    const headers = await map.locator('thead th').allInnerTexts();
    assert.deepStrictEqual(headers.slice(1), ['<|endoftext|>', 'It', '␣was', '␣a', '␣fine']);
    assert.strictEqual(await map.locator('tbody tr').count(), 9, 'the mean and 8 heads');
    // Each row's weights sum to 1.
    const weights = (row: number) =>
      map
        .locator('tbody tr')
        .nth(row)
        .locator('td')
        .evaluateAll((cells) => cells.map((c) => Number(c.getAttribute('data-weight'))));
    const mean = await weights(0);
    assert.ok(Math.abs(mean.reduce((a, b) => a + b, 0) - 1) < 1e-5, `the mean row sums to ${mean.join(' + ')}`);
    // Cells are shaded by their weight (a style the page's policy would refuse shows nothing).
    const shades = await map
      .locator('tbody tr')
      .first()
      .locator('td')
      .evaluateAll((cells) => cells.map((c) => getComputedStyle(c).backgroundColor));
    const strongest = mean.indexOf(Math.max(...mean));
    assert.notStrictEqual(shades[strongest], 'rgba(0, 0, 0, 0)', `the strongest mean cell is shaded: ${shades.join(', ')}`);
    const before = await attention.locator('.attention-top').innerText();
    assert.match(before, /^mean of 8 heads, block 4: most attended/);
    await attention.locator('#attention-layer').selectOption('0');
    await attention.locator('#attention-head').selectOption('3');
    await frame.locator('#attention-heatmap tbody tr.chosen', { hasText: 'head 3' }).waitFor();
    assert.match(await attention.locator('.attention-top').innerText(), /^head 3, block 1: most attended/);
    const head3 = await weights(3);
    assert.ok(Math.abs(head3.reduce((a, b) => a + b, 0) - 1) < 1e-5, `head 3's row sums to ${head3.join(' + ')}`);
    // The context's text is shaded by the chosen row.
    assert.strictEqual(await attention.locator('#attention-text .attention-token').count(), 5);
    await attention.scrollIntoViewIfNeeded();
    await session.wb.screenshot('inside-attention');
  });
});
