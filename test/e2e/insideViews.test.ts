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
import { CORPUS } from '../unit/helpers';
import { cli, useVsCode } from './session';
import type { Playground } from './workbench';

const PROMPT = 'It was a fine morning, and the';

describe('The playground inside panel: logit lens and attention (code-server)', function () {
  const session = useVsCode({});
  let frame: Frame;
  let playground: Playground;
  const fill = (id: string, value: string) => playground.fill(id, value);
  /** What the panel shows, for a failure message. */
  const panelText = () =>
    frame
      .locator('#inside')
      .innerText()
      .catch((e: Error) => `(no panel: ${e.message})`);

  it("shows each layer's predictions for a prompt token, the last as the model scores it, with a chart", async function () {
    const { wb } = session;
    playground = await wb.openPlayground({ prompt: PROMPT, maxTokens: '0', model: 'gpt-classics' });
    frame = playground.frame;
    await frame.locator('#echoPrompt').click();
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
    assert.deepStrictEqual(headers.slice(1), ['<|endoftext|>', 'It', '␣was', '␣a', '␣fine', 'max']);
    assert.strictEqual(await map.locator('tbody tr').count(), 9, 'the mean and 8 heads');
    // Each row's weights sum to 1.
    const weights = (row: number) =>
      map
        .locator('tbody tr')
        .nth(row)
        .locator('td[data-weight]')
        .evaluateAll((cells) => cells.map((c) => Number(c.getAttribute('data-weight'))));
    const mean = await weights(0);
    assert.ok(Math.abs(mean.reduce((a, b) => a + b, 0) - 1) < 1e-5, `the mean row sums to ${mean.join(' + ')}`);
    // Cells are shaded by their weight (a style the page's policy would refuse shows nothing).
    const shades = await map
      .locator('tbody tr')
      .first()
      .locator('td[data-weight]')
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

  /** Two percentages as the page writes them (3 significant digits) of numbers within 1e-5: equal, or one unit apart in the last digit when they straddle a rounding. */
  const sameShown = (a: string, b: string) => {
    if (a === b) return true;
    const x = Number(a.replace('%', ''));
    const y = Number(b.replace('%', ''));
    if (!Number.isFinite(x) || !Number.isFinite(y) || a.includes('×') || b.includes('×')) return false;
    return Math.abs(x - y) <= 10 ** (Math.floor(Math.log10(Math.max(x, y))) - 2) * 1.01;
  };

  /** The header's p and rank, the alternatives (label, p), and the lens's last row (p, rank, top 5 labels and p's), as on screen. */
  const panelNumbers = async () => {
    const inside = frame.locator('#inside');
    const lastRow = inside.locator('#logit-lens-table tbody tr').last();
    await lastRow.waitFor({ timeout: 120_000 }).catch(async (e: Error) => assert.fail(`${e.message}\n${await panelText()}`));
    const facts = (await inside.locator('p').first().innerText()).replace(/\u00a0/g, ' ');
    const [, p, rank] = /^p = (\S+) · surprisal .* · rank ([\d,]+)$/.exec(facts) ?? assert.fail(`the panel's facts: ${facts}`);
    const alternatives = await inside
      .locator('.inside-alternatives tbody tr')
      .evaluateAll((rows) => rows.map((r) => [r.children[1].textContent!, r.children[2].textContent!.replace(/\u00a0/g, ' ')]));
    const cells = (await lastRow.locator('td').allInnerTexts()).map((t) => t.replace(/\u00a0/g, ' '));
    const top = await lastRow
      .locator('.lens-top')
      .evaluate((td) => Array.from(td.querySelectorAll('.mono')).map((m) => [m.textContent!, (m.nextSibling?.textContent ?? '').split(' · ')[0].trim()]));
    return { p, rank, alternatives, lens: { p: cells[1], rank: cells[2], top }, text: await inside.innerText() };
  };
  const assertLensIsTheToken = (n: Awaited<ReturnType<typeof panelNumbers>>, where: string) => {
    const say = `${where}: the panel says p ${n.p}, rank ${n.rank}, alternatives ${JSON.stringify(n.alternatives)}; the lens's last row ${JSON.stringify(n.lens)}`;
    assert.ok(sameShown(n.lens.p, n.p), say);
    assert.strictEqual(n.lens.rank, n.rank, say);
    assert.deepStrictEqual(
      n.lens.top.map(([label]) => label),
      n.alternatives.map(([label]) => label),
      say,
    );
    n.lens.top.forEach(([, p], i) => assert.ok(sameShown(p, n.alternatives[i][1]), `${say} (top ${i + 1})`));
  };

  it('a 3,000-character prompt (over 1,000 tokens): the last lens row is the p, rank and top 5 shown for a generated token and for an echoed prompt token; the attention map opens at the query token', async function () {
    const { wb } = session;
    const prompt = fs.readFileSync(path.join(CORPUS, 'valid', 'poirot_investigates.txt'), 'utf8').slice(0, 3000);
    await fill('prompt', prompt);
    await fill('maxTokens', '10');
    await fill('temperature', '0.7');
    await fill('seed', '0');
    await fill('topKPerToken', '5');
    await frame.locator('#run').click();
    await frame.locator('#run:not([disabled])').waitFor({ timeout: 180_000 });
    const completion = frame.locator('#results .completion').first();
    await completion.locator('.tok:not(.prompt)').nth(3).click();
    await frame.locator('#inside-heading', { hasText: 'token 4 of the completion' }).waitFor();
    const generated = await panelNumbers();
    assertLensIsTheToken(generated, 'generated token 4');
    assert.match(generated.text, /before them are not seen/, 'the panel says the window does not hold the whole prompt');

    // The attention map: scrolled to its right end, where the query token is; the context's text within the panel.
    const attention = frame.locator('#inside [data-view="attention"]');
    await attention.locator('#attention-heatmap').waitFor({ timeout: 60_000 });
    await frame.waitForFunction(() => {
      const g = document.querySelector('.attention-grid-scroll') as HTMLElement | null;
      return !!g && g.scrollWidth > g.clientWidth && g.scrollLeft + g.clientWidth >= g.scrollWidth - 2;
    });
    const text = await attention.locator('#attention-text').evaluate((t) => ({ scroll: t.scrollWidth, client: t.clientWidth }));
    assert.ok(text.scroll <= text.client + 1, `the context's text runs past the panel: ${JSON.stringify(text)}`);
    // A legend says what full colour is; each row's largest weight is written at its end.
    assert.match(await attention.locator('#attention-legend').innerText(), /0% … .*largest weight/);
    const maxes = await attention.locator('#attention-heatmap .attention-row-max').allInnerTexts();
    assert.strictEqual(maxes.length, 9, 'a max for the mean and each of 8 heads');
    // The chosen row's weights are in a table the keyboard reaches.
    await attention.locator('.attention-values summary').focus();
    await wb.page.keyboard.press('Enter');
    // One row per context token the model read: the generation's window (the prompt's last half window and 3 tokens), not 128.
    const columns = (await attention.locator('#attention-heatmap thead th').count()) - 2;
    assert.strictEqual(await attention.locator('#attention-values tbody tr').count(), columns);
    assert.strictEqual(columns, 64 + 3, "the generation's window");
    await attention.locator('#attention-heatmap').scrollIntoViewIfNeeded();
    await wb.screenshot('inside-long-prompt-attention');
    await frame.locator('#logit-lens-table').scrollIntoViewIfNeeded();
    await wb.screenshot('inside-long-prompt-lens');

    // An echoed prompt token far into the prompt, read in its scoring window.
    await completion.locator('.tok.prompt[data-index="901"]').click();
    await frame.locator('#inside-heading', { hasText: 'token 902 of the prompt' }).waitFor();
    assertLensIsTheToken(await panelNumbers(), 'prompt token 902');

    // Escape closes the panel.
    await frame.locator('#inside-heading').focus();
    await wb.page.keyboard.press('Escape');
    await frame.locator('#inside').waitFor({ state: 'hidden' });
  });

  it('a line-break token shows ⏎, is clicked like any token and is named ⏎', async function () {
    const { wb } = session;
    const completion = frame.locator('#results .completion').first();
    const mark = completion.locator('.tok.prompt .lb').first();
    const token = completion.locator('.tok.prompt', { has: frame.locator('.lb') }).first();
    const box = await mark.boundingBox();
    assert.ok(box && box.width > 0, `the ⏎ mark has a box: ${JSON.stringify(box)}`);
    assert.match((await token.getAttribute('aria-label'))!, /⏎/);
    assert.doesNotMatch((await token.getAttribute('aria-label'))!, /↵|\n/);
    await mark.click();
    await frame.locator('#inside-heading', { hasText: '⏎' }).waitFor();
    await wb.screenshot('inside-line-break-token');
    // The Close button closes it too.
    await frame.locator('#inside .inside-close').click();
    await frame.locator('#inside').waitFor({ state: 'hidden' });
  });

  it('a branch says which settings it continues with, has a Stop on its row, and a stopped one says so', async function () {
    const { wb } = session;
    await fill('prompt', 'It was a dark and stormy night, and');
    // Long enough that the branch below is still generating when its Stop is pressed (hostile H19: a 4,096-token branch).
    await fill('maxTokens', '4096');
    await frame.locator('#run').click();
    // Stopped mid-run: the tokens made so far become a result whose tokens can be chosen.
    await frame.waitForFunction(() => document.querySelectorAll('#results .completion.streaming .tok:not(.prompt)').length > 10);
    await frame.locator('#stop').click();
    await frame.locator('#run:not([disabled])').waitFor({ timeout: 180_000 });
    const stoppedRun = frame.locator('#results .completion:not(.streaming)').first();
    await stoppedRun.waitFor();
    assert.match(await stoppedRun.locator('.meta').innerText(), / tokens · stopped · seed \d+$/);
    await stoppedRun.locator('.tok:not(.prompt)').nth(2).click();
    await frame.locator('#inside-heading', { hasText: 'token 3 of the completion' }).waitFor();
    const settings = frame.locator('#inside .branch-settings');
    assert.match(await settings.innerText(), /this run's settings, not the form's: gpt-classics, max tokens 4096, T 0\.7, .*seed 0/);
    await fill('maxTokens', '3');
    await frame.locator('#inside .continue-with').first().click();
    const branch = frame.locator('.branches [data-branch="1"]');
    await branch.locator('.branch-head', { hasText: 'generating…' }).waitFor();
    const stop = branch.locator('.branch-stop');
    await stop.waitFor();
    await wb.screenshot('inside-branch-stop');
    // As tokens stream in, the row gets the new ones: the spans already drawn stay (a long branch costs what a run costs).
    const own = branch.locator('.branch-text .tok[data-index="4"]');
    await own.waitFor({ state: 'attached' });
    await own.evaluate((e) => e.setAttribute('data-probe', 'first drawing'));
    await frame.waitForFunction(() => document.querySelectorAll('.branches [data-branch="1"] .branch-text .tok').length > 20);
    assert.strictEqual(await branch.locator('.tok[data-probe="first drawing"]').count(), 1, 'the drawn spans are kept while the branch streams');
    // Stop takes effect on screen at once: no token the engine made before it heard of the Stop is drawn after it.
    const atStop = await frame.evaluate(() => {
      const n = document.querySelectorAll('.branches [data-branch="1"] .branch-text .tok').length;
      (document.querySelector('.branches [data-branch="1"] .branch-stop') as HTMLElement).click();
      return { n, at: performance.now() };
    });
    await branch.locator('.branch-head', { hasNotText: 'generating…' }).waitFor();
    const stoppedAfter = (await frame.evaluate(() => performance.now())) - atStop.at;
    const head = await branch.locator('.branch-head').innerText();
    assert.match(head, / · \d+ tokens · seed \d+ · stopped$/, head);
    assert.ok(Number(/ (\d+) tokens/.exec(head)![1]) < 3 + 4096, `stopped before max tokens: ${head}`);
    assert.strictEqual(await branch.locator('.branch-text .tok').count(), atStop.n, `the tokens shown at Stop, no more (${head})`);
    console.log(`      (Stop of the branch: "stopped" on its row ${Math.round(stoppedAfter)} ms after the click, ${atStop.n} tokens shown)`);
    assert.strictEqual(await branch.locator('.branch-stop').count(), 0, 'no Stop once it ended');
  });
});
