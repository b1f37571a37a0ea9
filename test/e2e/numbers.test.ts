/**
 * End-to-end: numbers that read the same everywhere and stay on screen — the hover's word view,
 * whitespace and units; the editor's context menu (LM: titles, Clear while the heat-map is on);
 * Select Model's descriptions; the playground's token tooltip near the panel's bottom and the
 * temperature explorer's axis and mode buttons.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { Frame } from 'playwright-core';
import { formatBits, formatProbability, surprisalBits } from '../../src/core/numberFormat';
import { cli, useVsCode } from './session';
import type { Playground } from './workbench';
import type { Workbench } from './workbench';

const TEXT = 'The wind came down from the northern hills, and there was a foretaste of winter in it.\n';
/** A text no test was written around: accents and an emoji split into byte tokens, and more than one window of gpt-classics. */
const HARBOUR =
  'The rain had not stopped since dawn, and the little harbour town lay grey and quiet under it. Fishing boats rocked at the quay, their ropes creaking, while an old dog slept in the doorway of the chandler. ' +
  'Nobody hurried; the tide would turn when it turned, and the nets could wait until the wind dropped. The children had gone to school in their oilskins, and the baker had sold the last of his loaves before nine.\n' +
  'In the café by the water an old sailor said it was déjà vu: he had seen this storm before. 🌧️ The gulls';

const SUPERSCRIPT = '⁰¹²³⁴⁵⁶⁷⁸⁹';
/** "1.23%" or "4.68×10⁻⁴%" back to a probability. */
function parsePercent(s: string): number {
  const m = /^([\d.]+)(?:×10(⁻?)([⁰¹²³⁴⁵⁶⁷⁸⁹]+))?%$/.exec(s.trim());
  if (!m) throw new Error(`not a percentage: ${s}`);
  const exponent = m[3] ? Number([...m[3]].map((c) => SUPERSCRIPT.indexOf(c)).join('')) * (m[2] ? -1 : 1) : 0;
  return (Number(m[1]) * 10 ** exponent) / 100;
}

/** Selects the last line of a text that ends with a line break, runs its heat-map, and returns its coloured tokens once the first is shown. */
async function heatMapOfLastLine(wb: Workbench) {
  await wb.page.keyboard.press('Control+End');
  await wb.page.keyboard.press('ArrowUp');
  await wb.page.keyboard.press('End');
  await wb.page.keyboard.press('Shift+Home');
  await wb.runCommand('LM: Show Token Probabilities');
  const decorated = wb.page.locator('.editor-instance .cdr[class*="TextEditorDecorationType"]');
  await decorated.first().waitFor({ timeout: 120_000 });
  return decorated;
}

describe('Numbers on screen (code-server)', function () {
  const session = useVsCode({ 'lmPlayground.model': 'gpt-classics', 'editor.hover.delay': 150 });
  let wb: Workbench;
  let file: string;

  before(function () {
    wb = session.wb;
    file = path.join(session.workspace, 'northern.txt');
    fs.writeFileSync(file, TEXT);
  });

  /** The editor's context menu, opened on `word`, and its entries. */
  async function contextMenu(word: string): Promise<string[]> {
    await wb.hoverWord(word);
    await wb.page.mouse.down({ button: 'right' });
    await wb.page.mouse.up({ button: 'right' });
    const menu = wb.page.locator('.monaco-menu-container .monaco-menu:visible').first();
    await menu.waitFor();
    return (await menu.locator('.action-label').allInnerTexts()).map((t) => t.trim()).filter(Boolean);
  }

  /** Runs a context menu entry (a click right after opening is ignored by the menu; Enter is not). */
  async function choose(entry: string): Promise<void> {
    await wb.page.locator('.monaco-menu-container .action-label:visible', { hasText: entry }).hover();
    await wb.page.locator('.monaco-menu-container .action-item.focused:visible', { hasText: entry }).waitFor();
    await wb.page.keyboard.press('Enter');
    // The menu's container stays in the page, hidden.
    await wb.page.locator('.monaco-menu-container .monaco-menu:visible').waitFor({ state: 'detached' });
  }

  it("shows a sub-word token's word as the product of its tokens, in bits and percentages, whitespace drawn", async function () {
    await wb.openFile('northern.txt');
    await wb.page
      .locator('.statusbar-item', { hasText: /gpt-classics/ })
      .first()
      .waitFor({ timeout: 120_000 });
    // "northern" is " n" "ort" "her" "n" in gpt-classics' 4,096 tokens: the mouse is on one of them.
    await wb.hoverWord('northern');
    const hover = wb.hover().filter({ hasText: 'Word' });
    await hover.waitFor({ timeout: 120_000 });
    const text = (await hover.innerText()).replace(/\u00a0/g, ' ');
    await wb.screenshot('hover-word-view');
    const scored = JSON.parse(cli('score', '--model', 'gpt-classics', '--json', '--details', file)).token_scores as {
      text: string;
      start: number;
      length: number;
      logprob: number;
    }[];
    const start = TEXT.indexOf('northern');
    const parts = scored.filter((t) => t.start < start + 8 && t.start + t.length > start);
    assert.deepStrictEqual(
      parts.map((t) => t.text),
      [' n', 'ort', 'her', 'n'],
    );
    const m = /Word northern = (.+?): p = (.+?) = (\S+%)/.exec(text);
    assert.ok(m, `a word line: ${text}`);
    assert.strictEqual(m[1], '␣n + ort + her + n');
    const shown = m[2].split(' × ').map(parsePercent);
    parts.forEach((t, i) => assert.ok(Math.abs(shown[i] / Math.exp(t.logprob) - 1) < 0.01, `${t.text}: ${shown[i]} vs the CLI's ${Math.exp(t.logprob)}`));
    const product = Math.exp(parts.reduce((s, t) => s + t.logprob, 0));
    assert.ok(Math.abs(parsePercent(m[3]) / product - 1) < 0.01, `the word: ${m[3]} vs the CLI's ${product}`);
    // The hovered token's own line: its surprisal in bits, no nats anywhere.
    const hovered = parts.find((t) => new RegExp(`token\\s+${t.text.replace(' ', '␣')}\\s`).test(text));
    assert.ok(hovered, `the hovered token is one of the word's: ${text}`);
    assert.ok(text.includes(`surprisal −log₂ p = ${formatBits(surprisalBits(hovered.logprob))}`), text);
    assert.ok(!text.includes('nats') && !/\de-\d/.test(text), `bits and percentages only: ${text}`);
    assert.match(text, /␣ = space/);
    await wb.page.mouse.move(5, 5);
  });

  /** Every line of `hover` that lies outside it (cut off, or only seen by scrolling), '' when none. */
  const clippedLines = (hover: ReturnType<Workbench['hover']>) =>
    hover.evaluate((h) => {
      const box = h.getBoundingClientRect();
      const parts = Array.from(h.querySelectorAll('p, tr')).filter((e) => e.textContent?.trim());
      return parts
        .filter((e) => {
          const r = e.getBoundingClientRect();
          return r.right > box.right + 1 || r.bottom > box.bottom + 1 || r.top < box.top - 1;
        })
        .map((e) => e.textContent)
        .join(' | ');
    });

  it('hovers a character that byte tokens spell as the character: their product, its bytes, the word by characters, all on screen', async function () {
    fs.writeFileSync(path.join(session.workspace, 'harbour.txt'), `${HARBOUR}\n`);
    await wb.openFile('harbour.txt');
    await wb.hoverWord('é', 1); // déjà's (café's is the first)
    const hover = wb.hover().filter({ hasText: 'Spelled by' });
    await hover.waitFor({ timeout: 120_000 });
    const text = (await hover.innerText()).replace(/\u00a0/g, ' ');
    await wb.screenshot('hover-byte-character');
    assert.match(text, /character\s+é\s/);
    const m = /Spelled by 2 byte tokens: p = <0xC3> (\S+%) × <0xA9> (\S+%)/.exec(text);
    assert.ok(m, `the two byte tokens and their p: ${text}`);
    const product = parsePercent(m[1]) * parsePercent(m[2]);
    const shown = parsePercent(/p = (\S+%) given the/.exec(text)?.[1] ?? '');
    assert.ok(Math.abs(shown / product - 1) < 0.02, `p of é = the product of its bytes': ${shown} vs ${product}`);
    // The CLI's scores of the two byte tokens give the same p.
    const scored = JSON.parse(cli('score', '--model', 'gpt-classics', '--json', '--details', path.join(session.workspace, 'harbour.txt'))).token_scores as {
      start: number;
      logprob: number;
    }[];
    const at = HARBOUR.indexOf('déjà') + 1;
    const bytes = scored.filter((t) => t.start === at);
    assert.strictEqual(bytes.length, 2, JSON.stringify(bytes));
    const cliP = Math.exp(bytes[0].logprob + bytes[1].logprob);
    assert.ok(Math.abs(shown / cliP - 1) < 0.02, `p of é ${shown} vs the CLI's ${cliP}`);
    assert.ok(text.includes('alternatives for its first byte'), text);
    assert.match(text, /Word déjà = ␣d \+ é \+ j \+ à: p = /);
    assert.ok(!text.includes('\ufffd'), `no �: ${text}`);
    assert.strictEqual(await clippedLines(hover), '', 'every line of the hover on screen');
    await wb.page.mouse.move(5, 5);
    // The emoji: one character, four byte tokens.
    await wb.hoverWord('🌧');
    const emoji = wb.hover().filter({ hasText: 'Spelled by 4 byte tokens' });
    await emoji.waitFor();
    await wb.screenshot('hover-byte-emoji');
    await wb.page.mouse.move(5, 5);
  });

  it("with the heat-map on, the hover's numbers are the heat-map's, given the context it states", async function () {
    await wb.openFile('harbour.txt');
    await wb.page.keyboard.press('Control+Home');
    await wb.runCommand('LM: Show Token Probabilities');
    const decorated = wb.page.locator('.editor-instance .cdr[class*="TextEditorDecorationType"]');
    await decorated.first().waitFor({ timeout: 120_000 });
    // "gulls", the last word, is past gpt-classics' window of 128 tokens: the heat-map's window cut its context.
    const file = path.join(session.workspace, 'harbour.txt');
    const scored = JSON.parse(cli('score', '--model', 'gpt-classics', '--json', '--details', file)).token_scores as {
      text: string;
      start: number;
      logprob: number;
      rank: number;
    }[];
    const gulls = scored.find((t) => t.start >= HARBOUR.indexOf(' gulls'))!;
    assert.ok(scored.indexOf(gulls) > 128, `${scored.indexOf(gulls)} tokens before gulls`);
    await wb.hoverWord('gulls');
    const hover = wb.hover().filter({ hasText: 'heat-map:' });
    await hover.waitFor({ timeout: 120_000 });
    const text = (await hover.innerText()).replace(/\u00a0/g, ' ');
    await wb.screenshot('hover-heatmap-gpt');
    assert.ok(!text.includes('Heat-map colour') && !text.includes('whole text'), `one p, and not "the whole text": ${text}`);
    const m = /token\s+(\S+)\s.*?p = (\S+%) given the (\d+) tokens before it/s.exec(text);
    assert.ok(m, text);
    const token = scored.find((t) => t.text === m[1].replace('␣', ' ') && t.start >= HARBOUR.indexOf('gulls') - 1)!;
    assert.ok(Number(m[3]) < 128 && Number(m[3]) >= 64, `the context the window left: ${m[3]} tokens`);
    assert.strictEqual(m[2], formatProbability(Math.exp(token.logprob)), `the CLI's p (the same windows): ${text}`);
    assert.ok(text.includes(`rank ${token.rank.toLocaleString('en-US')} of`), `the CLI's rank ${token.rank}: ${text}`);
    assert.strictEqual(await clippedLines(hover), '', 'every line of the hover on screen');
    await wb.page.mouse.move(5, 5);
    await wb.runCommand('LM: Clear Token Probabilities');
    await decorated.first().waitFor({ state: 'detached' });
  });

  it("far into a novel, a hover and a selection's heat-map show lmp score's numbers for a token (drive21 H1)", async function () {
    // 20,000 characters of a novel (its lines indented, as the corpus has them), then a line no test was written around.
    const book = fs.readFileSync(path.join(__dirname, '..', '..', '..', '..', 'shared', 'corpus', 'en', 'train', 'pride_and_prejudice.txt'), 'utf8');
    const novel = book.slice(0, book.indexOf('\n', 20_000)) + '\n\n      The lamplighter whistled beneath the sycamores, and the square was empty.\n';
    const novelFile = path.join(session.workspace, 'lamplighter.txt');
    fs.writeFileSync(novelFile, novel);
    await wb.openFile('lamplighter.txt');
    await wb.page.keyboard.press('Control+End');
    const scored = JSON.parse(cli('score', '--model', 'gpt-classics', '--json', '--details', novelFile)).token_scores as {
      text: string;
      start: number;
      length: number;
      logprob: number;
      rank: number;
    }[];
    let whistled = novel.indexOf(' whistled');
    /** The hover's token and p, against the CLI's for that token. */
    const check = async (hasText: string, shot: string) => {
      await wb.hoverWord('whistled');
      const hover = wb.hover().filter({ hasText });
      await hover.waitFor({ timeout: 120_000 });
      const text = (await hover.innerText()).replace(/\u00a0/g, ' ');
      await wb.screenshot(shot);
      const m = /token\s+(\S+)\s.*?p = (\S+%) given the (\d+) tokens before it/s.exec(text);
      assert.ok(m, text);
      const token = scored.find((t) => t.text === m[1].replace('␣', ' ') && t.start >= whistled && t.start < whistled + 9);
      assert.ok(token, `${m[1]} is a token of " whistled" in the CLI's scores`);
      assert.strictEqual(m[2], formatProbability(Math.exp(token.logprob)), `the CLI's p (the document's windows): ${text}`);
      assert.ok(text.includes(`rank ${token.rank.toLocaleString('en-US')} of`), `the CLI's rank ${token.rank}: ${text}`);
      await wb.page.mouse.move(5, 5);
      await hover.waitFor({ state: 'hidden' });
    };
    await check('given the', 'hover-far-into-novel');
    // The last line selected, and its heat-map.
    const decorated = await heatMapOfLastLine(wb);
    await check('heat-map:', 'hover-heatmap-far-into-novel');
    await wb.runCommand('LM: Clear Token Probabilities');
    await decorated.first().waitFor({ state: 'detached' });

    // The whole document's heat-map, then words typed near its start: every later token moves into
    // other windows, and is scored again in them (drive22 H1: it kept the old text's numbers).
    await wb.page.keyboard.press('Control+Home');
    await wb.runCommand('LM: Show Token Probabilities');
    const logs = () => session.server.extensionLogs(400);
    // The whole document's run done (its tokens: the CLI's scores and the first).
    const shown = new RegExp(`heat-map of ${scored.length + 1} tokens with gpt-classics in \\d+ ms`);
    for (const deadline = Date.now() + 240_000; !shown.test(logs());) {
      assert.ok(Date.now() < deadline, `no whole heat-map in the log:\n${logs()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    await wb.page.keyboard.press('Control+Home');
    await wb.page.keyboard.type('Indeed, ');
    await wb.page.keyboard.press('Escape');
    await wb.page.keyboard.press('Control+S');
    for (const deadline = Date.now() + 60_000; !fs.readFileSync(novelFile, 'utf8').startsWith('Indeed, ');) {
      assert.ok(Date.now() < deadline, 'the edit saved');
      await new Promise((r) => setTimeout(r, 250));
    }
    scored.splice(0, scored.length, ...JSON.parse(cli('score', '--model', 'gpt-classics', '--json', '--details', novelFile)).token_scores);
    whistled += 'Indeed, '.length;
    // The rescoring of the edited text (its tokens, with the first, as many as the CLI's scores and one) reached the end.
    const rescored = /heat-map of lamplighter\.txt: ([\d,]+) of its ([\d,]+) tokens scored again/g;
    for (const deadline = Date.now() + 240_000; ;) {
      const m = [...logs().matchAll(rescored)].at(-1);
      if (m && Number(m[2].replace(/,/g, '')) === scored.length + 1 && Number(m[1].replace(/,/g, '')) > scored.length / 2) break;
      assert.ok(Date.now() < deadline, `no rescoring to the end in the log:\n${logs()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    await wb.page.keyboard.press('Control+End');
    await check('heat-map:', 'hover-heatmap-after-edit-far-above');
    await wb.runCommand('LM: Clear Token Probabilities');
    await decorated.first().waitFor({ state: 'detached' });

    // The same with Windows line ends, the cursor where the hover's text window (4,000 characters
    // before it, and one) starts between a CR and its LF, which VS Code gives no position (drive22 H3).
    const crlfOf = (indent: number) => novel.replace('\n      The lamplighter', `\n${' '.repeat(indent)}The lamplighter`).replace(/\n/g, '\r\n');
    let crlf = '';
    let cursor = -1;
    for (let indent = 6; cursor < 0; indent++) {
      crlf = crlfOf(indent);
      const at = crlf.indexOf('whistled');
      cursor = [...'whistled'].map((_, i) => at + i).find((p) => crlf[p - 4001] === '\n') ?? -1;
    }
    const crlfFile = path.join(session.workspace, 'lamplighter-crlf.txt');
    fs.writeFileSync(crlfFile, crlf);
    const crlfScored = JSON.parse(cli('score', '--model', 'gpt-classics', '--json', '--details', crlfFile)).token_scores as typeof scored;
    await wb.openFile('lamplighter-crlf.txt');
    await wb.page.keyboard.press('Control+End');
    await wb.page.keyboard.press('ArrowUp');
    await wb.page.keyboard.press('End');
    for (let i = 0; i < crlf.indexOf('\r\n', cursor) - cursor; i++) await wb.page.keyboard.press('ArrowLeft');
    await wb.runCommand('Show or Focus Hover');
    const hover = wb.hover();
    await hover.waitFor({ timeout: 120_000 });
    const text = (await hover.innerText()).replace(/\u00a0/g, ' ');
    await wb.screenshot('hover-far-into-novel-crlf');
    const m = /token\s+(\S+)\s.*?p = (\S+%) given the (\d+) tokens before it/s.exec(text);
    assert.ok(m, text);
    const token = crlfScored.find((t) => t.start <= cursor && cursor < t.start + t.length);
    assert.ok(token && token.text === m[1].replace('␣', ' '), `the hover is on the CLI's token at ${cursor}, ${JSON.stringify(token?.text)}: ${text}`);
    assert.strictEqual(m[2], formatProbability(Math.exp(token.logprob)), `the CLI's p on the CRLF file: ${text}`);
    await wb.page.keyboard.press('Escape');
  });

  it("past a document's first 2,000,000 characters, the hover and a selection's heat-map say their windows are not the document's (hostile30 1)", async function () {
    // Novels repeated past the counted characters, then a line no test was written around.
    const book = fs.readFileSync(path.join(__dirname, '..', '..', '..', '..', 'shared', 'corpus', 'en', 'train', 'pride_and_prejudice.txt'), 'utf8');
    const long = book.repeat(Math.ceil(2_100_000 / book.length)) + '\n\nThe ferryman counted his coins by the light of the lantern.\n';
    fs.writeFileSync(path.join(session.workspace, 'ferryman.txt'), long);
    await wb.openFile('ferryman.txt');
    const note =
      /Not the document's windows: past the document's first 2,000,000 characters its tokens are not counted, so it is given as many of the tokens before it as the model's window holds, read from line [\d,]+ on/;
    // Near the start the windows are the document's: no note.
    await wb.hoverWord(book.slice(0, 200).match(/[A-Z][a-z]{4,}/)![0]);
    const first = wb.hover().filter({ hasText: 'given the' });
    await first.waitFor({ timeout: 120_000 });
    assert.doesNotMatch((await first.innerText()).replace(/\u00a0/g, ' '), /Not the document's windows/);
    await wb.page.mouse.move(5, 5);
    await first.waitFor({ state: 'hidden' });
    await wb.page.keyboard.press('Control+End');
    await wb.hoverWord('ferryman');
    const hover = wb.hover().filter({ hasText: 'given the' });
    await hover.waitFor({ timeout: 120_000 });
    const text = (await hover.innerText()).replace(/\u00a0/g, ' ').replace(/\s+/g, ' ');
    await wb.screenshot('hover-past-counted-characters');
    assert.match(text, note, text);
    await wb.page.mouse.move(5, 5);
    await hover.waitFor({ state: 'hidden' });
    // The last line's heat-map: its hover says so too.
    const decorated = await heatMapOfLastLine(wb);
    try {
      await wb.hoverWord('ferryman');
      const coloured = wb.hover().filter({ hasText: 'heat-map:' });
      await coloured.waitFor({ timeout: 120_000 });
      const shown = (await coloured.innerText()).replace(/\u00a0/g, ' ').replace(/\s+/g, ' ');
      await wb.screenshot('heatmap-hover-past-counted-characters');
      assert.match(
        shown,
        /Not the document's windows: past the document's first 2,000,000 characters its tokens are not counted, so its tokens are scored in windows counted from line [\d,]+ on/,
        shown,
      );
    } finally {
      await wb.page.mouse.move(5, 5);
      await wb.runCommand('LM: Clear Token Probabilities');
      await decorated.first().waitFor({ state: 'detached' });
    }
    // A long line past them (shorter than the 10,000 characters VS Code draws of a line): its window
    // starts inside that line, whose column the note names (hostile31 F1).
    const longLine = book.slice(200_000, 207_800).replace(/\s+/g, ' ') + ' The lighthouse keeper wound the clock.';
    const withLongLine = `${long}${longLine}\n`;
    fs.writeFileSync(path.join(session.workspace, 'lighthouse.txt'), withLongLine);
    await wb.openFile('lighthouse.txt');
    await wb.page.keyboard.press('Control+End');
    await wb.page.keyboard.press('ArrowUp');
    await wb.page.keyboard.press('End');
    await wb.hoverWord('lighthouse');
    const inLine = wb.hover().filter({ hasText: 'given the' });
    await inLine.waitFor({ timeout: 120_000 });
    const inLineText = (await inLine.innerText()).replace(/\u00a0/g, ' ').replace(/\s+/g, ' ');
    await wb.screenshot('hover-past-counted-characters-long-line');
    const at = /read from line ([\d,]+), column ([\d,]+) on/.exec(inLineText);
    assert.ok(at, inLineText);
    assert.strictEqual(Number(at[1].replace(/,/g, '')), withLongLine.split('\n').length - 1, 'the long line');
    assert.ok(Number(at[2].replace(/,/g, '')) > 1, inLineText);
    await wb.page.mouse.move(5, 5);
    await inLine.waitFor({ state: 'hidden' });
  });

  it("colours a selection's first token too, scored given the text before it", async function () {
    fs.writeFileSync(path.join(session.workspace, 'morning.txt'), 'A short line first.\n\nIt was a fine morning, and the garden was quiet.\n');
    await wb.openFile('morning.txt');
    await wb.page.keyboard.press('Control+Home');
    await wb.page.keyboard.press('ArrowDown');
    await wb.page.keyboard.press('ArrowDown');
    await wb.page.keyboard.press('Shift+End');
    await wb.runCommand('LM: Show Token Probabilities');
    const decorated = wb.page.locator('.editor-instance .cdr[class*="TextEditorDecorationType"]');
    await decorated.first().waitFor({ timeout: 120_000 });
    await wb.page.keyboard.press('Control+End'); // the selection's own highlight off the line
    await wb.screenshot('heatmap-selection-first-token');
    const covered = await wb.page.evaluate(() => {
      const line = Array.from(document.querySelectorAll('.editor-instance .view-lines .view-line')).find((l) =>
        l.textContent?.replace(/\u00a0/g, ' ').startsWith('It was'),
      );
      if (!line) return 'no line';
      const range = document.createRange();
      const node = document.createTreeWalker(line, NodeFilter.SHOW_TEXT).nextNode()!;
      range.setStart(node, 0);
      range.setEnd(node, 2);
      const it = range.getBoundingClientRect();
      const x = it.left + it.width / 2;
      const y = it.top + it.height / 2;
      return Array.from(document.querySelectorAll('.editor-instance .cdr[class*="TextEditorDecorationType"]')).some((d) => {
        const r = d.getBoundingClientRect();
        return r.left <= x && x <= r.right && r.top <= y && y <= r.bottom;
      })
        ? ''
        : 'not coloured';
    });
    assert.strictEqual(covered, '', '"It", the first token of the selection, has a colour');
    await wb.hoverWord('It was');
    await wb.hover().filter({ hasText: 'heat-map:' }).waitFor();
    await wb.page.mouse.move(5, 5);
    // The selection's numbers are the whole text's (drive20 H1: the text before it, encoded alone,
    // ended in one "\n\n" token, and "garden" got 0.001 % where the document gives it percents).
    const file = path.join(session.workspace, 'morning.txt');
    const scored = JSON.parse(cli('score', '--model', 'gpt-classics', '--json', '--details', file)).token_scores as {
      text: string;
      logprob: number;
      rank: number;
    }[];
    const garden = scored.find((t) => t.text === ' garden')!;
    await wb.hoverWord('garden');
    const hover = wb.hover().filter({ hasText: 'heat-map:' });
    await hover.waitFor();
    const text = (await hover.innerText()).replace(/\u00a0/g, ' ');
    await wb.screenshot('heatmap-selection-hover');
    assert.ok(text.includes(`p = ${formatProbability(Math.exp(garden.logprob))} given the`), `the CLI's p of garden (${garden.logprob} nats): ${text}`);
    assert.ok(text.includes(`rank ${garden.rank.toLocaleString('en-US')} of`), `the CLI's rank ${garden.rank}: ${text}`);
    await wb.page.mouse.move(5, 5);
    await wb.runCommand('LM: Clear Token Probabilities');
    await decorated.first().waitFor({ state: 'detached' });
    // A selection from the word's first letter: the document's token " garden", its space with it
    // (hostile21 H1: it was scored as g + ard + en, at 10⁻⁶ %).
    await wb.focusEditor();
    await wb.page.keyboard.press('Control+Home');
    await wb.page.keyboard.press('ArrowDown');
    await wb.page.keyboard.press('ArrowDown');
    for (let i = 0; i < 'It was a fine morning, and the '.length; i++) await wb.page.keyboard.press('ArrowRight');
    await wb.page.keyboard.press('Shift+End');
    await wb.runCommand('LM: Show Token Probabilities');
    await decorated.first().waitFor({ timeout: 120_000 });
    // The status bar's number for the selection is of the same tokens in the same context: " garden",
    // " was", " quiet", "." of the whole text, per character they cover (hostile22 M1: it scored "garden
    // was quiet." as a text of its own).
    const selected = scored.slice(scored.indexOf(garden), scored.indexOf(garden) + 4);
    assert.strictEqual(selected.map((t) => t.text).join(''), ' garden was quiet.');
    const bitsPerChar = selected.reduce((s, t) => s - t.logprob / Math.LN2, 0) / ' garden was quiet.'.length;
    await wb.statusBarShows(`${bitsPerChar.toFixed(2)} bits/char`);
    await wb.page.keyboard.press('Control+End');
    await wb.hoverWord('garden');
    const fromLetter = wb.hover().filter({ hasText: 'heat-map:' });
    await fromLetter.waitFor();
    const again = (await fromLetter.innerText()).replace(/\u00a0/g, ' ');
    await wb.screenshot('heatmap-selection-word-start-hover');
    assert.ok(
      again.includes('token ␣garden') && again.includes(`p = ${formatProbability(Math.exp(garden.logprob))} given the`),
      `the CLI's " garden": ${again}`,
    );
    assert.ok(again.includes(`rank ${garden.rank.toLocaleString('en-US')} of`), `the CLI's rank ${garden.rank}: ${again}`);
    await wb.page.mouse.move(5, 5);
    await wb.runCommand('LM: Clear Token Probabilities');
  });

  it("keeps a selection's heat-map on the selected text through a deletion across its end and its undo (hostile23 M2)", async function () {
    fs.writeFileSync(path.join(session.workspace, 'quiet.txt'), 'The garden was quiet. He sat down on the bench.\n');
    await wb.openFile('quiet.txt');
    const decorated = wb.page.locator('.editor-instance .cdr[class*="TextEditorDecorationType"]');
    const select = async (from: number, length: number) => {
      await wb.focusEditor();
      await wb.page.keyboard.press('Control+Home');
      for (let i = 0; i < from; i++) await wb.page.keyboard.press('ArrowRight');
      for (let i = 0; i < length; i++) await wb.page.keyboard.press('Shift+ArrowRight');
    };
    const rescorings = (scope = '4-20') =>
      (session.server.extensionLogs(400).match(new RegExp(`heat-map of quiet\\.txt: \\d+ of its \\d+ tokens scored again, characters ${scope}\\b`, 'g')) ?? [])
        .length;
    const waitFor = async (scope: string, count: number, after: string) => {
      const deadline = Date.now() + 120_000;
      while (rescorings(scope) <= count) {
        assert.ok(Date.now() < deadline, `no rescoring of characters ${scope} ${after}:\n${session.server.extensionLogs(40)}`);
        await wb.page.waitForTimeout(200);
      }
    };
    // Whether any colour covers the characters [a, b) of the first line.
    const coloured = (a: number, b: number) =>
      wb.page.evaluate(
        ([a, b]) => {
          const line = Array.from(document.querySelectorAll('.editor-instance .view-lines .view-line')).find((l) => l.textContent?.startsWith('The'));
          if (!line) return 'no line';
          const node = document.createTreeWalker(line, NodeFilter.SHOW_TEXT).nextNode()!;
          const range = document.createRange();
          range.setStart(node, a);
          range.setEnd(node, b);
          const it = range.getBoundingClientRect();
          return Array.from(document.querySelectorAll('.editor-instance .cdr[class*="TextEditorDecorationType"]')).some((d) => {
            const r = d.getBoundingClientRect();
            return r.left < it.right - 1 && r.right > it.left + 1 && r.top <= it.top + it.height / 2 && it.top + it.height / 2 <= r.bottom;
          });
        },
        [a, b],
      );
    await select(4, 16); // "garden was quiet"
    await wb.runCommand('LM: Show Token Probabilities');
    await decorated.first().waitFor({ timeout: 120_000 });
    const before = rescorings();
    await select(18, 6); // "et. He", across the selection's end
    await wb.page.keyboard.press('Delete');
    await wb.page.keyboard.press('Control+z');
    // The rescoring after the undo: its scope is the selection's characters again.
    await waitFor('4-20', before, 'after the undo');
    await wb.page.keyboard.press('Control+End');
    await wb.screenshot('heatmap-selection-after-undo');
    assert.strictEqual(await coloured(7, 9), true, '"den" of garden is coloured');
    assert.strictEqual(await coloured(22, 24), false, '"He", never selected, has no colour');
    // "QRS" typed over "et. He" key by key, which VS Code undoes as one step (hostile24 M1).
    const typedBefore = rescorings('4-21');
    await select(18, 6);
    await wb.page.keyboard.type('QRS');
    await waitFor('4-21', typedBefore, 'after typing');
    const undoneBefore = rescorings('4-20');
    await wb.page.keyboard.press('Control+z');
    await waitFor('4-20', undoneBefore, 'after the undo of the typing');
    await wb.page.keyboard.press('Control+End');
    await wb.screenshot('heatmap-selection-after-typing-undone');
    assert.strictEqual(await coloured(22, 24), false, '"He" has no colour after the undo of the typing');
    await wb.runCommand('LM: Clear Token Probabilities');
  });

  it('has LM: entries in the editor context menu, and Clear Token Probabilities while the heat-map is on', async function () {
    await wb.openFile('northern.txt');
    let items = await contextMenu('wind');
    assert.ok(items.includes('LM: Complete Selection'), items.join(' | '));
    assert.ok(items.includes('LM: Show Token Probabilities'), items.join(' | '));
    assert.ok(!items.includes('LM: Clear Token Probabilities'), `no Clear before the heat-map: ${items.join(' | ')}`);
    await choose('LM: Show Token Probabilities');
    const decorated = wb.page.locator('.editor-instance .cdr[class*="TextEditorDecorationType"]');
    await decorated.first().waitFor({ timeout: 120_000 });
    items = await contextMenu('wind');
    assert.ok(items.includes('LM: Clear Token Probabilities'), items.join(' | '));
    await wb.screenshot('context-menu-clear');
    await choose('LM: Clear Token Probabilities');
    await decorated.first().waitFor({ state: 'detached' });
    items = await contextMenu('wind');
    assert.ok(!items.includes('LM: Clear Token Probabilities'), `Clear gone with the heat-map: ${items.join(' | ')}`);
    await wb.page.keyboard.press('Escape');
  });

  it('describes each model in Select Model: kind, size, tokenizer, origin, and what the embedded ones are good for', async function () {
    await wb.runCommand('LM: Select Model');
    const row = (label: string) => wb.page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first();
    await row('ngram-classics').waitFor();
    const ngram = (await row('ngram-classics').innerText()).replace(/\s+/g, ' ');
    assert.match(ngram, /embedded in the extension/);
    assert.match(ngram, /Kneser-Ney 4-gram · [\d,]+ n-grams · [\d.]+ MiB · editor tokens/);
    assert.match(ngram, /sees only the last 3 tokens/);
    const gpt = (await row('gpt-classics').innerText()).replace(/\s+/g, ' ');
    assert.match(gpt, /active · embedded in the extension/);
    assert.match(gpt, /GPT-2 transformer, 4 layers, d = 256 · 4\.2 M parameters · [\d.]+ MiB · byte-level BPE, 4,096 tokens · context 128 tokens/);
    await wb.screenshot('select-model-descriptions');
    await wb.page.keyboard.press('Escape');
  });

  describe('the playground', function () {
    let frame: Frame;
    let playground: Playground;

    it('keeps the token tooltip inside the panel for a token at its bottom edge', async function () {
      playground = await wb.openPlayground({ model: 'ngram-classics', prompt: 'the mouse ate the', temperature: '1', seed: '7', maxTokens: '400' });
      frame = playground.frame;
      await frame.locator('#run').click();
      await frame.locator('#run:not([disabled])').waitFor({ timeout: 120_000 });
      // The lowest token fully in view once the page is scrolled to its end.
      const index = await frame.evaluate(() => {
        window.scrollTo(0, document.documentElement.scrollHeight);
        const spans = Array.from(document.querySelectorAll('#results .completion .tok'));
        let best = -1;
        let bottom = -1;
        spans.forEach((s, i) => {
          const r = s.getBoundingClientRect();
          if (r.bottom <= window.innerHeight && r.top >= 0 && r.bottom > bottom) {
            bottom = r.bottom;
            best = i;
          }
        });
        return best;
      });
      assert.ok(index >= 0, 'a token in view');
      const token = frame.locator('#results .completion .tok').nth(index);
      await token.hover();
      const tip = frame.locator('#token-tip');
      await tip.waitFor({ state: 'visible' });
      const geometry = await frame.evaluate((i) => {
        const t = document.getElementById('token-tip')!.getBoundingClientRect();
        const a = document.querySelectorAll('#results .completion .tok')[i].getBoundingClientRect();
        return {
          tip: { top: t.top, bottom: t.bottom, left: t.left, right: t.right, height: t.height },
          anchor: { top: a.top, bottom: a.bottom },
          view: { w: document.documentElement.clientWidth, h: document.documentElement.clientHeight },
          side: document.getElementById('token-tip')!.dataset.side,
        };
      }, index);
      assert.ok(
        geometry.anchor.bottom + geometry.tip.height > geometry.view.h,
        `the token is near the bottom (below it the tooltip would not fit): ${JSON.stringify(geometry)}`,
      );
      assert.strictEqual(geometry.side, 'above', JSON.stringify(geometry));
      assert.ok(
        geometry.tip.top >= 0 && geometry.tip.bottom <= geometry.view.h && geometry.tip.left >= 0 && geometry.tip.right <= geometry.view.w,
        `inside the panel: ${JSON.stringify(geometry)}`,
      );
      assert.ok(geometry.tip.bottom <= geometry.anchor.top, 'above the token, not over it');
      const tipText = await tip.innerText();
      assert.match(tipText, /p = \S+% · surprisal [\d.]+ bits/);
      assert.ok(!tipText.includes('nats'), tipText);
      await wb.screenshot('playground-tooltip-bottom');
    });

    it('shows small probabilities in the temperature explorer, and its buttons follow the mode', async function () {
      await frame.evaluate(() => window.scrollTo(0, 0));
      await frame.locator('vscode-tab-header', { hasText: 'Temperature explorer' }).click();
      await frame.locator('#explore-next').click();
      await frame.locator('#explore-next[aria-pressed="true"]').waitFor();
      assert.strictEqual(await frame.locator('#explore-next').getAttribute('secondary'), null, 'the source shown is the primary button');
      assert.strictEqual(await frame.locator('#explore-lecture').getAttribute('aria-pressed'), 'false');
      assert.notStrictEqual(await frame.locator('#explore-lecture').getAttribute('secondary'), null);
      // Next token after "the mouse ate the": the axis ends just above the largest bar, not at 1.
      const table = await frame.locator('#temp-table tbody').innerText();
      const largest = Math.max(...table.split('\n').flatMap((line) => line.split('\t').slice(1).map(parsePercent)));
      const [type, min, max] = ((await frame.locator('#temp-bars').getAttribute('data-axis')) ?? '').split(':');
      assert.deepStrictEqual([type, Number(min)], ['linear', 0]);
      assert.ok(Number(max) < 1 && Number(max) >= largest * 0.999 && Number(max) <= largest * 2.5 + 1e-9, `axis to ${max} for a largest bar of ${largest}`);
      await frame.locator('#temp-bars').scrollIntoViewIfNeeded();
      await wb.screenshot('playground-explorer-linear');
      await frame.locator('#temp-scale').click();
      await frame.locator('#temp-scale[aria-pressed="true"]', { hasText: 'Axis: log scale' }).waitFor();
      assert.match((await frame.locator('#temp-bars').getAttribute('data-axis')) ?? '', /^logarithmic:/);
      await wb.screenshot('playground-explorer-log');
      // ∞ typed is the ∞ mode: the checkbox follows, and back.
      await playground.fill('temp-value', '∞');
      await frame.locator('#temp-table', { hasText: 'p_T at T = ∞' }).waitFor();
      assert.strictEqual(await frame.evaluate(() => (document.getElementById('temp-infinite') as HTMLElement & { checked: boolean }).checked), true);
      await frame.locator('#explore-lecture').click();
      await frame.locator('#explore-lecture[aria-pressed="true"]').waitFor();
      assert.strictEqual(await frame.locator('#explore-next').getAttribute('aria-pressed'), 'false');
    });
  });
});
