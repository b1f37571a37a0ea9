/**
 * The playground offers the models LM: Select Model lists as used before, besides the catalog and
 * the active model (a first-time user's drive: its Model list had only the active GGUF file).
 */
import * as assert from 'assert';
import { withUsedBefore, type CatalogEntry } from '../../src/vscode/modelCatalog';

describe('the playground’s model list', () => {
  const catalog: CatalogEntry[] = [
    { label: 'ngram-classics', spec: 'ngram-classics', origin: 'embedded' },
    { label: 'gpt-classics', spec: 'gpt-classics', origin: 'embedded' },
  ];

  it('adds the active model and those used before, each once, most recent first', () => {
    const q8 = '/m/smollm2-135m-instruct-q8_0.gguf';
    const q4 = '/m/smollm2-135m-instruct-q4_0.gguf';
    const gpt = '/tmp/gpt-classics-f32.gguf';
    const out = withUsedBefore(catalog, [gpt, q4, q8, 'gpt-classics'], q8);
    assert.deepStrictEqual(
      out.map((e) => [e.label, e.origin]),
      [
        ['ngram-classics', 'embedded'],
        ['gpt-classics', 'embedded'],
        ['smollm2-135m-instruct-q8_0.gguf', 'setting'],
        ['gpt-classics-f32.gguf', 'used before'],
        ['smollm2-135m-instruct-q4_0.gguf', 'used before'],
      ],
    );
    assert.deepStrictEqual(catalog.length, 2, 'the catalog itself is not changed');
  });

  it('an active model of the catalog is not listed twice', () => {
    assert.deepStrictEqual(
      withUsedBefore(catalog, [], 'gpt-classics').map((e) => e.spec),
      ['ngram-classics', 'gpt-classics'],
    );
  });
});
