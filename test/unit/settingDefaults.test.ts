/**
 * The defaults of the lmPlayground.* settings in the three places that state them: package.json
 * (what VS Code's settings editor shows and returns), the code's fallbacks (settingDefaults.ts)
 * and the README's settings table.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { SETTING_DEFAULTS } from '../../src/vscode/settingDefaults';
import { REPO } from './helpers';

const PREFIX = 'lmPlayground.';

function packageDefaults(): Record<string, unknown> {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
  const properties: Record<string, { default?: unknown }> = pkg.contributes.configuration.properties;
  return Object.fromEntries(
    Object.entries(properties).map(([key, p]) => {
      assert.ok(key.startsWith(PREFIX), key);
      assert.ok('default' in p, `${key} declares no default`);
      return [key.slice(PREFIX.length), p.default];
    }),
  );
}

/** The README's settings table: `| \`lmPlayground.key\` | \`default\` | … |`, a default in JSON or a bare string. */
function readmeDefaults(): Record<string, unknown> {
  const rows = fs
    .readFileSync(path.join(REPO, 'README.md'), 'utf8')
    .split('\n')
    .map((line) => /^\| `lmPlayground\.([\w.]+)` \| `([^`]*)`/.exec(line))
    .filter((m) => m !== null);
  return Object.fromEntries(
    rows.map(([, key, text]) => {
      try {
        return [key, JSON.parse(text)];
      } catch {
        return [key, text];
      }
    }),
  );
}

describe('settings: one default each, wherever it is stated', () => {
  it("package.json declares exactly the settings the code has defaults for, with the code's defaults", () => {
    const declared = packageDefaults();
    assert.deepStrictEqual(Object.keys(declared).sort(), Object.keys(SETTING_DEFAULTS).sort());
    for (const [key, value] of Object.entries(declared)) assert.deepStrictEqual(SETTING_DEFAULTS[key as keyof typeof SETTING_DEFAULTS], value, key);
  });

  it('the README lists every setting with the same default', () => {
    assert.deepStrictEqual(readmeDefaults(), packageDefaults());
  });

  it('the code reads every setting through its default, and only declared ones', () => {
    // settings.ts's read(config, key) is the one place a setting is read with a fallback.
    const dir = path.join(REPO, 'src', 'vscode');
    const read = new Set<string>();
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const source = fs.readFileSync(path.join(dir, file), 'utf8');
      assert.ok(!/\.get<[^>]*>\('/.test(source), `${file} reads a setting without its default`);
      for (const m of source.matchAll(/\bread\([\w.()]+, '([\w.]+)'\)/g)) read.add(m[1]);
    }
    assert.deepStrictEqual([...read].sort(), Object.keys(SETTING_DEFAULTS).sort());
  });
});
