/**
 * End-to-end: a control character in the playground's tokens (a byte token's BEL, drive-gguf3 8 and
 * 13) is marked by its escape, \x07, not drawn as a box or as nothing, and the character itself
 * stays in the token's text (what a copy takes).
 */
import * as assert from 'assert';
import { useVsCode } from './session';

const PROMPT = 'The bell\u0007 rang twice';

describe('The playground: control characters in tokens (code-server)', function () {
  const session = useVsCode({});

  it('marks a BEL in the prompt’s tokens as \\x07, keeping the character in the text', async function () {
    const { wb } = session;
    const playground = await wb.openPlayground({ prompt: PROMPT, maxTokens: '0', model: 'gpt-classics' });
    const { frame } = playground;
    await frame.locator('#echoPrompt').click();
    await frame.locator('#run').click();
    await frame.locator('#run:not([disabled])').waitFor({ timeout: 180_000 });
    const results = frame.locator('#results .completion').first();
    const mark = results.locator('.tok.prompt .ctl').first();
    await mark.waitFor({ timeout: 60_000 }).catch(async (e: Error) => assert.fail(`${e.message}\nresults: ${JSON.stringify(await results.innerHTML())}`));
    assert.strictEqual(await mark.getAttribute('data-escape'), '\\x07');
    // The escape is drawn (generated content) and takes room on screen.
    const drawn = await mark.evaluate((e) => getComputedStyle(e, '::before').content);
    assert.strictEqual(drawn, '"\\\\x07"', `the ::before content: ${drawn}`);
    const box = await mark.boundingBox();
    assert.ok(box && box.width > 0, `the mark has a box: ${JSON.stringify(box)}`);
    // The token keeps the character itself (unseen), and its label names it by the escape.
    const token = results.locator('.tok.prompt', { has: frame.locator('.ctl') }).first();
    assert.ok((await token.textContent())!.includes('\u0007'), 'the BEL stays in the text');
    assert.match((await token.getAttribute('aria-label'))!, /\\x07/);
    await wb.screenshot('playground-control-character');
  });
});
