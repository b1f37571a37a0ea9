import * as assert from 'assert';
import { featuresOffFor, languageEnabled, proseLanguage, withLanguage, type LanguageFeature } from '../../src/editor/languageFeatures';

const feature = (name: string, languages: string[], enabled = true): LanguageFeature => ({ name, enabled, languages });
const defaults = [
  feature('hovers', ['plaintext', 'markdown']),
  feature('ghost text', ['plaintext', 'markdown']),
  feature('bits/char', ['plaintext', 'markdown']),
];

describe('languageFeatures', function () {
  it('a language list holds its ids, or every language with *', function () {
    assert.ok(languageEnabled(['plaintext'], 'plaintext'));
    assert.ok(!languageEnabled(['plaintext'], 'ini'));
    assert.ok(languageEnabled(['*'], 'ini'));
    assert.ok(!languageEnabled([], 'plaintext'));
  });

  it('names every feature turned on when none of them lists the language (prose VS Code took for Ini)', function () {
    assert.deepStrictEqual(
      featuresOffFor(defaults, 'ini')?.map((f) => f.name),
      ['hovers', 'ghost text', 'bits/char'],
    );
    assert.strictEqual(featuresOffFor(defaults, 'plaintext'), undefined);
  });

  it('says nothing when one feature has the language, or when every feature is off', function () {
    const hoversOnIni = [feature('hovers', ['ini']), ...defaults.slice(1)];
    assert.strictEqual(featuresOffFor(hoversOnIni, 'ini'), undefined);
    assert.strictEqual(featuresOffFor([feature('hovers', ['*']), ...defaults.slice(1)], 'python'), undefined);
    assert.strictEqual(
      featuresOffFor(
        defaults.map((f) => ({ ...f, enabled: false })),
        'ini',
      ),
      undefined,
    );
  });

  it('leaves out the features turned off, whose lists do not matter', function () {
    const ghostOff = [defaults[0], feature('ghost text', ['ini'], false), defaults[2]];
    assert.deepStrictEqual(
      featuresOffFor(ghostOff, 'ini')?.map((f) => f.name),
      ['hovers', 'bits/char'],
    );
  });

  it('adds a language once, and not to a list that has every language', function () {
    assert.deepStrictEqual(withLanguage(['plaintext', 'markdown'], 'ini'), ['plaintext', 'markdown', 'ini']);
    assert.deepStrictEqual(withLanguage(['plaintext', 'ini'], 'ini'), ['plaintext', 'ini']);
    assert.deepStrictEqual(withLanguage(['*'], 'ini'), ['*']);
  });

  it('offers plain text as the prose language, else Markdown, else none', function () {
    assert.strictEqual(proseLanguage(defaults), 'plaintext');
    assert.strictEqual(proseLanguage([feature('hovers', ['markdown'])]), 'markdown');
    assert.strictEqual(proseLanguage([feature('hovers', ['python'])]), undefined);
    assert.strictEqual(proseLanguage([feature('hovers', ['plaintext'], false), feature('bits/char', ['markdown'])]), 'markdown');
  });
});
