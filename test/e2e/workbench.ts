/** Drives the VS Code workbench in headless Chromium: every step waits for a condition on screen. */
import * as fs from 'fs';
import * as path from 'path';
import { chromium, type Browser, type Frame, type Locator, type Page } from 'playwright-core';

export const RESULTS_DIR = path.resolve(__dirname, '..', '..', '..', 'test-results', 'e2e');
/** Generous: a loaded 2-core machine renders the workbench slowly. */
export const STEP_TIMEOUT = 60_000;

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--headless=new',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export class Workbench {
  private constructor(
    readonly browser: Browser,
    readonly page: Page,
  ) {}

  /** `webgpu`: WebGPU (SwiftShader on CPU-only machines) for the webview engine, or no GPU at all. */
  static async open(url: string, webgpu = true): Promise<Workbench> {
    const gpu = webgpu ? ['--enable-unsafe-webgpu'] : ['--disable-gpu'];
    const browser = await chromium.launch({
      executablePath: process.env.LMP_CHROMIUM ?? '/usr/bin/chromium',
      args: [...CHROMIUM_ARGS, ...gpu],
      headless: true,
    });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(STEP_TIMEOUT);
    await page.goto(url);
    await page.locator('.monaco-workbench').waitFor();
    await page.locator('.statusbar').waitFor();
    return new Workbench(browser, page);
  }

  async close(): Promise<void> {
    await this.browser.close();
  }

  async screenshot(name: string): Promise<string> {
    fs.mkdirSync(RESULTS_DIR, { recursive: true });
    const file = path.join(RESULTS_DIR, `${name}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  /** What a person would see: notifications, status bar, editor lines, open hovers. */
  async describeScreen(): Promise<string> {
    const grab = async (selector: string) =>
      (
        await this.page
          .locator(selector)
          .allInnerTexts()
          .catch(() => [])
      )
        .join(' | ')
        .replace(/\u00a0/g, ' ')
        .slice(0, 2000);
    return [
      `notifications: ${await grab('.notifications-toasts .notification-toast')}`,
      `status bar: ${await grab('.statusbar')}`,
      `editor: ${await grab('.editor-instance .view-lines')}`,
      `hover: ${await grab('.monaco-hover')}`,
      `quick input: ${await grab('.quick-input-widget')}`,
    ].join('\n');
  }

  /** Opens a workspace file with Quick Open and waits for its editor tab. */
  async openFile(name: string): Promise<void> {
    await this.page
      .locator('.monaco-workbench')
      .click({ position: { x: 700, y: 400 } })
      .catch(() => undefined);
    const input = this.page.locator('.quick-input-widget input');
    const row = this.page.locator('.quick-input-list .monaco-list-row.focused', { hasText: name }).first();
    // Enter once the list has settled on the file: pressing earlier could take a stale first row,
    // and a click could land on a row the list was just replacing (then nothing opens). A file
    // written during the run may reach Quick Open's index only later: ask again until it is there.
    const deadline = Date.now() + 90_000;
    for (;;) {
      await this.page.keyboard.press('Control+P');
      await input.waitFor({ state: 'visible' });
      await input.fill(name);
      const found = await row.waitFor({ timeout: 15_000 }).then(
        () => true,
        () => false,
      );
      if (found) break;
      await input.press('Escape');
      if (Date.now() > deadline) throw new Error(`Quick Open never listed ${name}`);
    }
    await input.press('Enter');
    await this.page.locator(`.tabs-container .tab.active[aria-label*="${name}"]`).first().waitFor();
    await this.editor().waitFor();
  }

  editor(): Locator {
    return this.page.locator('.editor-instance .monaco-editor').first();
  }

  async focusEditor(): Promise<void> {
    await this.page.locator('.editor-instance .view-lines').first().click();
  }

  /** Selects `length` characters of line `line` (0-based) from `column` on, with the keys a user presses. */
  async selectInLine(line: number, column: number, length: number): Promise<void> {
    await this.page.keyboard.press('Control+Home');
    for (let i = 0; i < line; i++) await this.page.keyboard.press('ArrowDown');
    for (let i = 0; i < column; i++) await this.page.keyboard.press('ArrowRight');
    for (let i = 0; i < length; i++) await this.page.keyboard.press('Shift+ArrowRight');
  }

  /** Waits for the status bar's item that shows `text`; a timeout names the items there were. */
  async statusBarShows(text: string, timeout = 120_000): Promise<void> {
    await this.page
      .locator('.statusbar-item', { hasText: text })
      .first()
      .waitFor({ timeout })
      .catch(async (e) => {
        throw new Error(`no status bar item shows ${text}: ${(await this.page.locator('.statusbar-item').allInnerTexts()).join(' | ')}; ${e}`);
      });
  }

  /** Text of the visible editor lines (Monaco renders spaces as non-breaking spaces). */
  async editorText(): Promise<string> {
    const lines = await this.page.locator('.editor-instance .view-lines .view-line').evaluateAll((els) =>
      els
        .map((e) => ({ top: parseFloat((e as HTMLElement).style.top || '0'), text: (e as HTMLElement).innerText }))
        .sort((a, b) => a.top - b.top)
        .map((l) => l.text),
    );
    return lines.join('\n').replace(/\u00a0/g, ' ');
  }

  /**
   * LM: Select Model → Add remote model…: the server's base URL, then (with `model`) that model of
   * the server's list. Leaves the next step (its API key, or the server's complaint) to the caller.
   */
  async addRemoteModel(base: string, model?: string): Promise<void> {
    await this.runCommand('LM: Select Model');
    await this.page.locator('.quick-input-list .monaco-list-row', { hasText: 'Add remote model…' }).first().click();
    await this.page.locator('.quick-input-widget', { hasText: 'the server' }).waitFor();
    await this.page.locator('.quick-input-widget input').fill(base);
    await this.page.keyboard.press('Enter');
    // The server's own list (GET /v1/models).
    if (model) await this.page.locator('.quick-input-list .monaco-list-row', { hasText: model }).first().click();
  }

  async runCommand(title: string): Promise<void> {
    const input = this.page.locator('.quick-input-widget input');
    // The palette hides when focus moves (a webview panel that has just opened may take it after the
    // palette showed): it is opened again, until the title is typed into a palette that stayed open.
    for (let attempt = 1; ; attempt++) {
      await this.page.keyboard.press('Control+Shift+P');
      await input.waitFor({ state: 'visible' });
      try {
        await input.fill(`>${title}`, { timeout: attempt < 4 ? 10_000 : undefined });
        break;
      } catch (e) {
        if (attempt >= 4 || (await input.isVisible())) throw e;
      }
    }
    await this.page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().click();
    // The palette is gone when the widget hides, or when a command's own quick pick replaces it.
    await this.page.waitForFunction(() => {
      const widget = document.querySelector('.quick-input-widget') as HTMLElement | null;
      const input = widget?.querySelector('input') as HTMLInputElement | null;
      return !widget || widget.style.display === 'none' || !widget.offsetParent || !input?.value.startsWith('>');
    });
  }

  /**
   * Reloads the window as a user does (Developer: Reload Window): the workbench shuts down and
   * saves its state first, which a bare page reload races against.
   */
  async reloadWindow(): Promise<void> {
    const loaded = this.page.waitForEvent('load', { timeout: 120_000 });
    // The palette's own wait ends with the page it ran in: the new page's load is what counts.
    await this.runCommand('Developer: Reload Window').catch(() => undefined);
    await loaded;
    await this.page.locator('.monaco-workbench').waitFor();
  }

  /** Moves the mouse over the first occurrence of `word` in the editor. */
  async hoverWord(word: string, occurrence = 0): Promise<void> {
    // Waited for: after a scroll (Ctrl+End) or new decorations the lines are drawn again, and for a
    // moment the word is not there (a flaky failure). And until the word lies inside the editor's
    // visible area, at the same place on two frames running: a line is in the page whole, so after
    // End on a long line the word is found at its place before the horizontal scroll is drawn, off
    // screen, where the mouse then raised no hover (a flaky failure in CI, hostile31 F1's check).
    const box = await this.page
      .waitForFunction(
        ({ word, occurrence }) => {
          const find = () => {
            const lines = Array.from(document.querySelectorAll('.editor-instance .view-lines .view-line'));
            let seen = 0;
            for (const line of lines) {
              const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
              let node: Node | null;
              while ((node = walker.nextNode())) {
                const text = (node.textContent ?? '').replace(/\u00a0/g, ' ');
                let at = text.indexOf(word);
                while (at >= 0) {
                  if (seen++ === occurrence) {
                    const range = document.createRange();
                    range.setStart(node, at);
                    range.setEnd(node, at + word.length);
                    const r = range.getBoundingClientRect();
                    const view = line.closest('.editor-scrollable')?.getBoundingClientRect();
                    const shown = !!view && r.left >= view.left && r.right <= view.right && r.top >= view.top && r.bottom <= view.bottom;
                    return shown ? { x: r.left + r.width / 2, y: r.top + r.height / 2 } : null;
                  }
                  at = text.indexOf(word, at + 1);
                }
              }
            }
            return null;
          };
          const w = window as unknown as { lmpLastWordBox?: string };
          const box = find();
          const key = box ? `${word}@${occurrence}:${box.x},${box.y}` : undefined;
          const steady = key !== undefined && key === w.lmpLastWordBox;
          w.lmpLastWordBox = key;
          return steady ? box : null;
        },
        { word, occurrence },
        { timeout: 30_000 },
      )
      .then((h) => h.jsonValue())
      .catch(() => null);
    if (!box) throw new Error(`"${word}" is not visible in the editor`);
    await this.page.mouse.move(box.x - 30, box.y + 200);
    await this.page.mouse.move(box.x, box.y, { steps: 5 });
  }

  hover(): Locator {
    return this.page.locator('.monaco-hover:not(.hidden)').filter({ hasText: 'surprisal −log₂ p' }).first();
  }

  /** The frame of the webview whose page has `selector` (webviews are nested iframes). */
  async webviewFrame(selector: string): Promise<Frame> {
    const deadline = Date.now() + STEP_TIMEOUT;
    while (Date.now() < deadline) {
      for (const frame of this.page.frames()) {
        if (
          (await frame
            .locator(selector)
            .count()
            .catch(() => 0)) > 0
        )
          return frame;
      }
      // Poll for the frame: it appears when the panel's page has loaded.
      await this.page.waitForTimeout(200);
    }
    throw new Error(`no webview shows ${selector}`);
  }

  /**
   * LM: Compare Models on Document on the workspace file `file`: its panel's frame and its table's
   * text (no-break spaces as spaces) once a row names each of `models`.
   */
  async compareModels(file: string, models: readonly string[]): Promise<{ frame: Frame; table: string }> {
    await this.openFile(file);
    await this.runCommand('LM: Compare Models on Document');
    // Its table (the playground's page has a #results too).
    const frame = await this.webviewFrame('#results tbody tr');
    for (const name of models) await frame.locator('#results tbody tr', { hasText: name }).first().waitFor({ timeout: 120_000 });
    return { frame, table: (await frame.locator('#results').innerText()).replace(/\u00a0/g, ' ') };
  }

  /**
   * LM: Open Playground, then its form filled as a user fills it (`fields`: form field ids and the
   * values typed, in order; `model` is chosen in the model list).
   */
  async openPlayground(fields: Record<string, string> = {}): Promise<Playground> {
    await this.runCommand('LM: Open Playground');
    const playground = new Playground(await this.webviewFrame('#prompt'));
    await playground.fillForm(fields);
    return playground;
  }

  /**
   * Background colours (as CSS computes them) of the extension's decorations under the character at
   * `col` of line `line` (both 0-based; the line must be on screen, the editor scrolled to the top).
   */
  async decorationColoursAt(line: number, col: number): Promise<string[]> {
    return this.page.evaluate(
      ({ line, col }) => {
        const lines = Array.from(document.querySelectorAll('.editor-instance .view-lines .view-line')).sort(
          (a, b) => parseFloat((a as HTMLElement).style.top || '0') - parseFloat((b as HTMLElement).style.top || '0'),
        );
        const el = lines[line];
        if (!el) throw new Error(`line ${line + 1} is not on screen`);
        const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
        let seen = 0;
        let node: Node | null;
        while ((node = walker.nextNode())) {
          const n = node.textContent?.length ?? 0;
          if (col < seen + n) break;
          seen += n;
        }
        if (!node) throw new Error(`line ${line + 1} has no character ${col + 1}`);
        const range = document.createRange();
        range.setStart(node, col - seen);
        range.setEnd(node, col - seen + 1);
        const r = range.getBoundingClientRect();
        const x = r.left + r.width / 2;
        const y = r.top + r.height / 2;
        return Array.from(document.querySelectorAll('.editor-instance .view-overlays .cdr[class*="TextEditorDecorationType"]'))
          .filter((d) => {
            const b = d.getBoundingClientRect();
            return b.left <= x && x <= b.right && b.top <= y && y <= b.bottom;
          })
          .map((d) => getComputedStyle(d).backgroundColor);
      },
      { line, col },
    );
  }

  /** The ghost text on screen: its first line, then the lines VS Code shows below it. */
  async ghostText(): Promise<string> {
    return this.page.evaluate(() => {
      const text = (sel: string) => Array.from(document.querySelectorAll(sel)).map((e) => (e as HTMLElement).innerText);
      const first = text('.editor-instance .view-lines .ghost-text-decoration').join('');
      const more = text('.editor-instance .view-zones .suggest-preview-text .view-line, .editor-instance .view-zones .ghost-text .view-line');
      return [first, ...more].join('\n').replace(/\u00a0/g, ' ');
    });
  }

  notification(text: string | RegExp): Locator {
    return this.page.locator('.notifications-toasts .notification-toast', { hasText: text }).first();
  }

  /**
   * A notification in the notification centre, which this opens: there whether or not a toast
   * showed for it (after a wizard's input boxes, code-server sometimes shows none).
   */
  async notificationInCenter(text: string | RegExp): Promise<Locator> {
    await this.runCommand('Notifications: Show Notifications');
    return this.page.locator('.notifications-center .notification-list-item', { hasText: text }).first();
  }
}

/** The playground's page: its frame, and its form's fields set as a user sets them. */
export class Playground {
  constructor(readonly frame: Frame) {}

  /** Types `value` into the form field `id` (its text area or input) and commits it, as leaving the field does. */
  async fill(id: string, value: string): Promise<void> {
    const inner = this.frame.locator(`#${id} textarea, #${id} input`).first();
    await inner.fill(value);
    await inner.dispatchEvent('change');
  }

  /** Chooses the model list's entry whose value is `value` (a model's name, path or server URL). */
  async chooseModel(value: string): Promise<void> {
    await this.frame.evaluate((value) => {
      const e = document.getElementById('model') as HTMLElement & { value: string };
      e.value = value;
      e.dispatchEvent(new Event('change', { bubbles: true }));
    }, value);
  }

  /** The model list's value: the model a Run uses. */
  model(): Promise<string> {
    return this.frame.evaluate(() => (document.getElementById('model') as HTMLElement & { value: string }).value);
  }

  /** Sets the fields in order: `model` in the model list, the others typed. */
  async fillForm(fields: Record<string, string>): Promise<void> {
    for (const [id, value] of Object.entries(fields)) await (id === 'model' ? this.chooseModel(value) : this.fill(id, value));
  }
}
