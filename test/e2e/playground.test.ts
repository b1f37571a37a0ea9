/** End-to-end: the LM Playground panel in code-server. */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { Frame } from 'playwright-core';
import { GALLERY } from '../../src/playground/gallery';
import { logProbBits } from '../../src/playground/completionSummary';
import { buildRequests, isScoring } from '../../src/playground/requests';
import { differingVariables } from '../../src/playground/templates';
import { cli, useVsCode } from './session';
import { Playground } from './workbench';

describe('The LM Playground panel (code-server)', function () {
  const session = useVsCode({});
  let frame: Frame;
  let playground: Playground;
  const fill = (id: string, value: string) => playground.fill(id, value);
  const setValue = (id: string, value: string) =>
    frame.evaluate(
      ([id, value]) => {
        const e = document.getElementById(id) as HTMLElement & { value: string };
        e.value = value;
        e.dispatchEvent(new Event('change', { bubbles: true }));
      },
      [id, value] as const,
    );
  const setChecked = (id: string, checked: boolean) =>
    frame.evaluate(
      ([id, checked]) => {
        const e = document.getElementById(id) as HTMLElement & { checked: boolean };
        if (e.checked !== checked) e.click();
      },
      [id, checked] as const,
    );
  /** A number as a result shows it ("−35.03 bits"). */
  const shownBits = (cell: string) => Number(cell.replace('−', '-').replace(/ bits$/, ''));
  const run = async () => {
    await frame.locator('#run').click();
    await frame.locator('#run:not([disabled])').waitFor();
  };

  it('runs a prompt and streams the tokens in; hovering a token shows its alternatives', async function () {
    const { wb } = session;
    playground = await wb.openPlayground({ prompt: 'the mouse ate the', temperature: '0', maxTokens: '8' });
    frame = playground.frame;
    // Record whether tokens appeared one by one (a streaming line) before the final rendering.
    await frame.evaluate(() => {
      const w = window as unknown as { sawStreaming?: boolean };
      new MutationObserver(() => {
        if (document.querySelector('.completion.streaming .tok')) w.sawStreaming = true;
      }).observe(document.body, { subtree: true, childList: true });
    });
    await run();
    const completion = frame.locator('#results .completion').first();
    await completion.waitFor();
    const expected = JSON.parse(
      cli('generate', '--model', 'ngram-classics', '--prompt', 'the mouse ate the', '--temperature', '0', '--max-tokens', '8', '--json'),
    ).completions[0];
    assert.strictEqual((await completion.locator('.text').innerText()).replace(/\u00a0/g, ' '), expected.text);
    assert.ok(await frame.evaluate(() => (window as unknown as { sawStreaming?: boolean }).sawStreaming), 'tokens were shown as they came');
    assert.match(await frame.locator('#engine-status').innerText(), /ngram-classics on .* · \d+ tokens\/s/);
    assert.match(
      await completion.locator('.meta').innerText(),
      new RegExp(`^log₂ p\\(completion\\) = ${logProbBits(expected.logprob_nats)} · 8 tokens · reached max tokens · seed \\d+$`),
    );
    await completion.locator('.tok').first().hover();
    const tip = frame.locator('#token-tip');
    await tip.waitFor({ state: 'visible' });
    assert.match(await tip.innerText(), /◀ chosen/);
    assert.match(await tip.innerText(), /rank 1\b/);
    await session.wb.screenshot('playground-run');
  });

  it('states, under each of several completions, the seed that gives that completion alone', async function () {
    const cards = frame.locator('#results .completion');
    const textOf = async (i: number) => (await cards.nth(i).locator('.text').innerText()).replace(/\u00a0/g, ' ');
    await fill('temperature', '1.5');
    await fill('numCompletions', '3');
    await fill('seed', '1');
    await run();
    await cards.nth(2).waitFor();
    const meta = await cards.nth(1).locator('.meta').innerText();
    const seed = /completion 2 of 3 · seed (\d+) gives it as 1 completion$/.exec(meta)?.[1];
    assert.ok(seed, `the second card names its seed: ${meta}`);
    const second = await textOf(1);
    await fill('numCompletions', '1');
    await fill('seed', seed!);
    await run();
    assert.strictEqual(await cards.count(), 1);
    assert.strictEqual(await textOf(0), second, `seed ${seed} alone gives the second card's completion`);
    await session.wb.screenshot('playground-seed-per-completion');
    await fill('temperature', '0');
    await fill('seed', '0');
  });

  it('expands the pronoun template into two scored runs and a comparison table', async function () {
    await fill('prompt', 'The software developer finished the program. ${pronoun} celebrated.');
    await fill('environments', 'pronoun: [He, She]');
    await fill('maxTokens', '0');
    await frame.locator('#echoPrompt').click();
    await run();
    await frame.locator('.card h2', { hasText: 'pronoun = He' }).waitFor();
    await frame.locator('.card h2', { hasText: 'pronoun = She' }).waitFor();
    const rows = frame.locator('#comparison-table tbody tr');
    assert.strictEqual(await rows.count(), 2);
    const table = await frame.locator('#comparison-table').innerText();
    for (const pronoun of ['He', 'She']) {
      const file = path.join(session.workspace, `${pronoun}.txt`);
      fs.writeFileSync(file, `The software developer finished the program. ${pronoun} celebrated.`);
      const lp = logProbBits(JSON.parse(cli('score', '--model', 'ngram-classics', '--json', file)).logprob_nats);
      assert.ok(table.includes(`${pronoun}\t${lp}\t`), `${pronoun}: the CLI's log₂ p ${lp} in\n${table}`);
    }
    // Bits, and p relative to the best as a percentage like every other p on screen.
    assert.match(table, /log₂ p\tdifference\tp relative to the best/);
    assert.match(table, /\t—\t100%/);
    assert.doesNotMatch(table, /1 \/ |nats|e\+/);
    // Each sentence once per card: the heading names the variable, the echoed token row is the prompt (no grey copy).
    assert.strictEqual(await frame.locator('.card .prompt-line').count(), 0);
    const meta = await frame.locator('.card .meta').first().innerText();
    assert.match(meta, /^log₂ p\(prompt\) = −[\d.]+ bits · \d+ prompt tokens scored, no tokens generated$/);
    await session.wb.screenshot('playground-pronoun-probe');
  });

  it('says with each embedded model that in-context learning needs a large model, and how to bring one', async function () {
    const { wb } = session;
    playground = await wb.openPlayground();
    frame = playground.frame;
    for (const model of ['ngram-classics', 'gpt-classics']) {
      for (const [index, example] of GALLERY.entries()) {
        if (!example.title.includes('few-shot') && example.title !== 'Analogies') continue;
        await setValue('model', model);
        await setValue('gallery', String(index));
        const notes = frame.locator('#gallery-notes');
        await notes.filter({ hasText: 'LM: Download Model' }).waitFor();
        assert.match(
          await notes.innerText(),
          model === 'gpt-classics' ? /In-context learning is an ability of large models/ : /An n-gram model cannot learn from examples in its prompt/,
        );
        await run();
        const completion = frame.locator('#results .completion').first();
        await completion.waitFor();
        if ((await completion.locator('.tok').count()) === 0) {
          // Nothing generated: the card and the note say what the model predicted first.
          assert.match(
            await completion.locator('.stopped-at-once').innerText(),
            /^Stopped at once: the model's first token was .+ \(p = [\d.]+%\), which the stop sequence \\n ends\. Its most probable first tokens: /,
          );
          await notes.filter({ hasText: 'Nothing appears' }).waitFor();
          assert.doesNotMatch(await notes.innerText(), /continues the text the way those novels would/);
        } else assert.strictEqual(await completion.locator('.stopped-at-once').count(), 0);
        // Analogies: both embedded models put a line break first.
        if (example.title === 'Analogies') assert.match(await completion.locator('.stopped-at-once').innerText(), /first token was ⏎ \(a line break\)/);
        await session.wb.screenshot(`playground-gallery-note-${model}-${index}`);
      }
    }
    await setValue('model', 'ngram-classics');
  });

  it("runs the gallery's scoring examples with every embedded model: a log-prob for each prompt, no error", async function () {
    const { wb } = session;
    playground = await wb.openPlayground();
    frame = playground.frame;
    const examples = GALLERY.map((example, index) => ({ example, index })).filter(({ example }) => isScoring(buildRequests(example.query)[0]));
    assert.ok(examples.length >= 2, 'the gallery has its scoring examples (sequence scoring, the pronoun probe)');
    for (const model of ['ngram-classics', 'gpt-classics']) {
      for (const { example, index } of examples) {
        await setValue('model', model);
        await setValue('gallery', String(index));
        await frame.locator('#message', { hasText: example.title }).waitFor();
        await run();
        assert.strictEqual(await frame.locator('#message').innerText(), '', `${model}, ${example.title}: no error`);
        const requests = buildRequests(example.query);
        const differ = differingVariables(requests);
        const rows = (await frame.locator('#comparison-table tbody tr').allInnerTexts()).map((r) => r.split('\t'));
        assert.strictEqual(rows.length, requests.length, `${model}, ${example.title}: one row per prompt`);
        for (const r of requests) {
          const row = rows.find((cells) => differ.every((k, i) => cells[1 + i] === r.bindings[k]));
          assert.ok(row, `${model}: a row for ${r.prompt}`);
          const bits = shownBits(row[1 + differ.length]);
          assert.ok(Number.isFinite(bits) && bits < 0, `${model}, ${r.prompt}: log₂ p = ${row[1 + differ.length]}`);
          // The CLI's score of the same text (native onnxruntime, the page's is WebGPU for gpt-classics).
          const file = path.join(session.workspace, 'scored.txt');
          fs.writeFileSync(file, r.prompt);
          const expected = JSON.parse(cli('score', '--model', model, '--json', file)).logprob_nats / Math.LN2;
          // Shown to 0.01 bit; the page's onnxruntime differs a little from the CLI's.
          assert.ok(
            Math.abs(bits - expected) <= (model === 'gpt-classics' ? 0.02 : 0.0051),
            `${model}, ${r.prompt}: ${bits} bits in the page, ${expected} from the CLI`,
          );
        }
        // What the gallery claims of this model is on screen, and the table agrees with it.
        const notes = await frame.locator('#gallery-notes').innerText();
        if (example.ordering) {
          const o = example.ordering;
          const holds = o.holdsWith.includes(model);
          const order = rows.map((cells) => cells[1]);
          if (holds) {
            assert.deepStrictEqual(order, o.expected, `${model}, ${example.title}: the table's order`);
            assert.match(notes, new RegExp(`${model} orders them as the lecture does`), notes);
          } else {
            assert.notDeepStrictEqual(order, o.expected, `${model}, ${example.title}: the table's order`);
            assert.match(notes, /not as the lecture does/, notes);
            assert.ok(
              notes.includes(o.whyNot({ name: model, context: model === 'gpt-classics' ? 'window' : 'markov', embedded: true, contextLength: 3 })),
              notes,
            );
          }
        }
        if (example.probe)
          assert.match(
            notes,
            model === 'gpt-classics' ? /the gap depends on the subject/ : /4-gram .* out of its window\. It cannot see the subject, so the gap is the same/,
            notes,
          );
        // An even grid: every card as wide as the others, the last one too.
        const widths = await frame.locator('#results .card').evaluateAll((cards) => cards.map((c) => c.getBoundingClientRect().width));
        assert.strictEqual(widths.length, requests.length);
        assert.ok(Math.max(...widths) - Math.min(...widths) < 1, `${model}, ${example.title}: card widths ${widths.join(', ')}`);
        await session.wb.screenshot(`playground-gallery-${model}-${index}`);
      }
    }
    await setValue('model', 'ngram-classics');
  });

  it("shows the lecture's numbers in the temperature explorer", async function () {
    await frame.locator('vscode-tab-header', { hasText: 'Temperature explorer' }).click();
    const table = frame.locator('#temp-table');
    // Drawn at once, before any button: the lecture's p = (0.4, 0.6).
    assert.match(await table.innerText(), /A\t40\.0%\t40\.0%/);
    assert.strictEqual(await frame.locator('#explore-lecture').getAttribute('aria-pressed'), 'true');
    await frame.locator('#explore-lecture').click();
    // p_T ∝ p^(1/T): at T = 0.5, (0.16, 0.36)/0.52; at T = 0.2, (0.4⁵, 0.6⁵)/(0.4⁵ + 0.6⁵).
    for (const [T, a, b] of [
      ['0.5', '30.8%', '69.2%'],
      ['0.2', '11.6%', '88.4%'],
      ['1', '40.0%', '60.0%'],
    ]) {
      await fill('temp-value', T);
      await table.filter({ hasText: `p_T at T = ${T}` }).waitFor();
      const text = await table.innerText();
      assert.match(text, new RegExp(`A\\t40\\.0%\\t${a.replace('.', '\\.')}`), text);
      assert.match(text, new RegExp(`B\\t60\\.0%\\t${b.replace('.', '\\.')}`), text);
    }
    await frame.locator('#temp-infinite').click();
    await table.filter({ hasText: 'p_T at T = ∞' }).waitFor();
    assert.match(await table.innerText(), /A\t40\.0%\t50\.0%/);
    await session.wb.screenshot('playground-temperature');
    // Sampling the next token at T = ∞ (uniform): almost surely outside the top 10, still shown as text with its rank.
    await frame.locator('#explore-next').click();
    await frame.locator('#explorer-status', { hasText: 'Next token after' }).waitFor();
    const status = frame.locator('#explorer-status');
    for (let i = 0; i < 3; i++) {
      await frame.locator('#temp-sample').click();
      await status.filter({ hasText: /^Sampled .+ at T = ∞: rank [\d,]+ of [\d,]+ \(p = / }).waitFor();
      assert.doesNotMatch(await status.innerText(), /Sampled token\s|\uFFFD/);
    }
    await session.wb.screenshot('playground-temperature-sample');
    await frame.locator('#temp-infinite').click();
    await frame.locator('vscode-tab-header', { hasText: 'Results' }).click();
  });

  it('shows a character spelled by byte tokens once, with its bytes in the tooltip (gpt-classics)', async function () {
    await fill('prompt', 'It was déjà vu at the café 🌧️ by the harbour.');
    await fill('environments', '');
    await fill('maxTokens', '0');
    await fill('topKPerToken', '5');
    await setChecked('echoPrompt', true);
    await setValue('model', 'gpt-classics');
    await run();
    const text = frame.locator('#results .completion .text').first();
    await text.waitFor();
    const spans = await text.locator('.tok').allInnerTexts();
    assert.strictEqual(spans.join('').replace(/\u00a0/g, ' '), 'It was déjà vu at the café 🌧️ by the harbour.');
    assert.deepStrictEqual(
      spans.filter((t) => t === ''),
      [],
      'no empty span',
    );
    await text.locator('.tok', { hasText: /^é$/ }).first().hover();
    const tip = frame.locator('#token-tip');
    await tip.waitFor({ state: 'visible' });
    const shown = await tip.innerText();
    assert.match(shown, /spelled by 2 byte tokens: <0xC3> \(p [\d.]+%\) \+ <0xA9> \(p [\d.]+%\)/);
    assert.match(shown, /the product of its 2 tokens' p/);
    assert.match(shown, /Alternatives to the first token, <0xC3>/);
    assert.doesNotMatch(shown, /\uFFFD/);
    await session.wb.screenshot('playground-byte-tokens');
    await frame.locator('h1').hover();
    await tip.waitFor({ state: 'hidden' });
    // As the next tests expect it: echo on (a scoring run), the n-gram model.
    await setValue('model', 'ngram-classics');
  });

  it('saves the query to a workspace file and opens it again', async function () {
    const { wb } = session;
    await fill('prompt', 'sky : blue :: grass :');
    await fill('environments', '');
    await frame.locator('#save').click();
    const input = wb.page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await wb.page.keyboard.press('Enter');
    await wb.notification(/query saved to query\.lmquery\.json/).waitFor();
    const saved = JSON.parse(fs.readFileSync(path.join(session.workspace, 'query.lmquery.json'), 'utf8'));
    assert.strictEqual(saved.prompt, 'sky : blue :: grass :');
    assert.strictEqual(saved.settings.maxTokens, '0');
    await fill('prompt', 'something else');
    await wb.openFile('query.lmquery.json');
    await wb.runCommand('LM: Open Playground');
    await frame.locator('#message', { hasText: 'Opened query.lmquery.json' }).waitFor();
    assert.strictEqual(await frame.locator('#prompt textarea').inputValue(), 'sky : blue :: grass :');
  });

  it("runs the neural model in the page's engine worker on WASM (device auto: SwiftShader is a software adapter)", async function () {
    await fill('prompt', 'the mouse ate the');
    await fill('maxTokens', '6');
    await frame.locator('#echoPrompt').click();
    await setValue('model', 'gpt-classics');
    await run();
    await frame.locator('#engine-status', { hasText: /gpt-classics on wasm · \d+ tokens\/s/ }).waitFor();
    const expected = JSON.parse(
      cli('generate', '--model', 'gpt-classics', '--prompt', 'the mouse ate the', '--temperature', '0', '--max-tokens', '6', '--json'),
    ).completions[0].text;
    assert.strictEqual((await frame.locator('#results .completion .text').first().innerText()).replace(/\u00a0/g, ' '), expected);
    await session.wb.screenshot('playground-auto-wasm');
  });

  it('comes back with its query after the window reloads', async function () {
    const { wb } = session;
    await wb.reloadWindow();
    playground = new Playground(await wb.webviewFrame('#prompt'));
    frame = playground.frame;
    await frame.waitForFunction(() => (document.getElementById('prompt') as (HTMLElement & { value: string }) | null)?.value === 'the mouse ate the');
    assert.strictEqual(await frame.evaluate(() => (document.getElementById('maxTokens') as HTMLElement & { value: string }).value), '6');
  });

  it("with device webgpu (asked for), runs the playground's own engine on WebGPU even on a software adapter", async function () {
    const { wb } = session;
    fs.writeFileSync(path.join(session.workspace, '.vscode', 'settings.json'), JSON.stringify({ 'lmPlayground.device': 'webgpu' }));
    // The workbench applies a settings file it watches a moment later: a page opened before that
    // still has device auto (WebAssembly on this software adapter). Reopen until it has the setting.
    const deadline = Date.now() + 120_000;
    for (;;) {
      await wb.runCommand('View: Close All Editors');
      await wb.page.locator('.webview.ready').waitFor({ state: 'detached' });
      playground = await wb.openPlayground();
      frame = playground.frame;
      const status = frame.locator('#engine-status', { hasText: /the model loads on the first run/ });
      await status.waitFor();
      if (/WebGPU available in this window/.test(await status.innerText())) break;
      assert.ok(Date.now() < deadline, `the device setting never reached the page: ${await status.innerText()}`);
    }
    await fill('prompt', 'the mouse ate the');
    await fill('maxTokens', '6');
    await setValue('model', 'gpt-classics');
    await run();
    await frame.locator('#engine-status', { hasText: /gpt-classics on webgpu · \d+ tokens\/s/ }).waitFor({ timeout: 180_000 });
    await session.wb.screenshot('playground-webgpu');
  });
});
