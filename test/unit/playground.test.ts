import * as assert from 'assert';
import { EngineServer } from '../../src/core/engine/engineServer';
import { EngineConnection } from '../../src/core/engine/engineClient';
import type { EngineResponse } from '../../src/core/engine/protocol';
import { TokenStream } from '../../src/core/engine/tokenStream';
import { generate, type GeneratedToken } from '../../src/core/generation';
import { GALLERY } from '../../src/playground/gallery';
import { DEFAULT_SETTINGS, parseQuery, parseStopSequences, serializeQuery, type Query } from '../../src/playground/query';
import { buildRequests, isScoring } from '../../src/playground/requests';
import { differingVariables, expand, parseEnvironments, substitute, variablesIn } from '../../src/playground/templates';
import { mergeUtf8 } from '../../src/playground/utf8Merge';
import { sampledToken, topCountThrough } from '../../src/playground/sampledToken';
import { rankOf, topIndices } from '../../src/core/distribution';
import { loadModel } from '../../src/node/modelLoader';
import * as path from 'path';
import { REPO, TEST_LOAD_SPEC } from './helpers';

const query = (prompt: string, environments = '', settings: Partial<Query['settings']> = {}): Query => ({
  prompt,
  environments,
  settings: { ...DEFAULT_SETTINGS, ...settings },
});

describe('playground templates', () => {
  it('parses environments: bare and quoted values, comments, JSON', () => {
    assert.deepStrictEqual(
      { ...parseEnvironments('pronoun: [He, She]\n# a comment\n\nx: ["a, b", " c ", "line\\nbreak"]') },
      { pronoun: ['He', 'She'], x: ['a, b', ' c ', 'line\nbreak'] },
    );
    assert.deepStrictEqual({ ...parseEnvironments('{"t": [0, 1], "w": ["a"]}') }, { t: ['0', '1'], w: ['a'] });
    assert.deepStrictEqual({ ...parseEnvironments('') }, {});
  });

  it('says which line of the environments is wrong', () => {
    assert.throws(() => parseEnvironments('a: [x]\nb = [y]'), /line 2: expected name: \[value/);
    assert.throws(() => parseEnvironments('a: ["x, y]'), /line 1: a quoted value is not closed/);
    assert.throws(() => parseEnvironments('a: [x]\na: [y]'), /line 2: a is defined twice/);
    assert.throws(() => parseEnvironments('a: []'), /a has no values/);
    assert.throws(() => parseEnvironments('{"a": 1'), /not valid JSON/);
  });

  it('expands the Cartesian product of the variables used, with nested variables', () => {
    const env = parseEnvironments('pronoun: [He, She]\nverb: [celebrated, ${adverb} cried]\nadverb: [softly, loudly]\nunused: [1, 2, 3]');
    const out = expand(['${pronoun} ${verb}.'], env, (b) => substitute('${pronoun} ${verb}.', b));
    // adverb only matters inside one value of verb: "He celebrated." is run once, not twice.
    assert.deepStrictEqual(
      out.map((e) => e.item),
      ['He celebrated.', 'He softly cried.', 'He loudly cried.', 'She celebrated.', 'She softly cried.', 'She loudly cried.'],
    );
    assert.deepStrictEqual(variablesIn('$${literal} ${a} ${b} ${a}'), ['a', 'b']);
    assert.strictEqual(substitute('$${x} ${x}', { x: 'y' }), '${x} y');
  });

  it('refuses unknown variables, cycles, and more requests than the cap', () => {
    assert.throws(() => expand(['${nope}'], {}, () => 0), /\$\{nope\} is used but no environment gives its values/);
    assert.throws(() => substitute('${a}', { a: '${b}', b: '${a}' }), /nest more than 10 deep/);
    const env = { a: ['1', '2', '3', '4'], b: ['1', '2', '3', '4'], c: ['1', '2', '3', '4', '5'] };
    assert.throws(() => expand(['${a}${b}${c}'], env, () => 0, 64), /80 requests \(a: 4 × b: 4 × c: 5\), more than the limit of 64/);
    assert.strictEqual(expand(['${a}${b}'], env, (b) => b.a + b.b, 64).length, 16);
  });

  it('heads expansions with the variables that differ', () => {
    assert.deepStrictEqual(differingVariables([{ bindings: { a: '1', b: 'x' } }, { bindings: { a: '2', b: 'x' } }]), ['a']);
  });

  it('builds requests with variables in settings, and names the bad value', () => {
    const reqs = buildRequests(query('T=${t}', 't: [0, 1, ∞]', { temperature: '${t}', maxTokens: '3' }));
    assert.deepStrictEqual(
      reqs.map((r) => r.options.temperature),
      [0, 1, Infinity],
    );
    assert.deepStrictEqual(
      reqs.map((r) => r.prompt),
      ['T=0', 'T=1', 'T=∞'],
    );
    assert.throws(() => buildRequests(query('x', 't: [0, hot]', { temperature: '${t}' })), /temperature must be a number \(or ∞\), got "hot" \(with t = hot\)/);
    assert.throws(() => buildRequests(query('x', '', { maxTokens: '2.5' })), /max tokens must be a whole number/);
    assert.ok(isScoring(buildRequests(query('x', '', { echoPrompt: true, maxTokens: '0' }))[0]));
  });
});

describe('playground query files', () => {
  it('round-trip, and reading a file gives clear errors', () => {
    const q = query('a ${x}', 'x: [1, 2]', { temperature: '${x}', echoPrompt: true, stopSequences: '\\n' });
    assert.deepStrictEqual(parseQuery(serializeQuery(q)), q);
    assert.throws(() => parseQuery('{', 'q.lmquery.json'), /q\.lmquery\.json: not valid JSON/);
    assert.throws(() => parseQuery('{"prompt": "x"}', 'f'), /not an LM Playground query/);
    assert.throws(() => parseQuery('{"lmPlaygroundQuery": 1, "prompt": 3}', 'f'), /"prompt" must be a string/);
    assert.throws(
      () => parseQuery('{"lmPlaygroundQuery": 1, "prompt": "", "settings": {"echoPrompt": "yes"}}', 'f'),
      /settings\.echoPrompt must be true or false/,
    );
    assert.throws(() => parseQuery('{"lmPlaygroundQuery": 1, "prompt": "", "settings": {"temprature": 1}}', 'f'), /unknown setting\(s\) temprature/);
    assert.deepStrictEqual(parseQuery('{"lmPlaygroundQuery": 1, "prompt": "p", "settings": {"maxTokens": 5}}').settings.maxTokens, '5');
  });

  it('reads stop sequences one per line with escapes', () => {
    assert.deepStrictEqual(parseStopSequences('\\n\nInput:\n\\t\\\\'), ['\n', 'Input:', '\t\\']);
  });

  it('every gallery example builds its requests', () => {
    for (const g of GALLERY) assert.ok(buildRequests(g.query).length >= 1, g.title);
  });
});

describe('UTF-8 byte merging for display', () => {
  it('joins byte tokens that split a character, and leaves whole tokens alone', () => {
    const e = new TextEncoder();
    const cafe = [...e.encode(' caf'), ...e.encode('é')];
    const tokens = [
      { bytes: cafe.slice(0, 5), text: ' caf\uFFFD' }, // " caf" + first byte of é
      { bytes: cafe.slice(5), text: '\uFFFD' },
      { bytes: [...e.encode('!')], text: '!' },
      { bytes: [...e.encode('😀')].slice(0, 2), text: '\uFFFD' },
      { bytes: [...e.encode('😀')].slice(2), text: '\uFFFD' },
      { text: ' word' },
    ];
    assert.deepStrictEqual(mergeUtf8(tokens), [
      { first: 0, last: 1, text: ' café' },
      { first: 2, last: 2, text: '!' },
      { first: 3, last: 4, text: '😀' },
      { first: 5, last: 5, text: ' word' },
    ]);
    // An unfinished character at the end still shows (as the replacement character).
    assert.deepStrictEqual(mergeUtf8([{ bytes: [0xc3], text: '\uFFFD' }]), [{ first: 0, last: 0, text: '\uFFFD' }]);
  });
});

describe('engine generate op (the playground streams through it)', function () {
  this.timeout(60_000);
  it('streams every token, then returns the same completions as generating in-process', async () => {
    const model = await loadModel('ngram-classics');
    const server = new EngineServer(
      async () => ({ model }),
      (r) => setImmediate(() => conn.receive(r as EngineResponse)),
    );
    const conn = new EngineConnection((req) => void server.handle(req));
    await conn.request({ op: 'load', spec: TEST_LOAD_SPEC });
    const options = { maxTokens: 8, temperature: 1, numCompletions: 2, seed: 7, topKPerToken: 3 };
    const streamed: { completion: number; token: GeneratedToken }[] = [];
    const res = await conn.request({ op: 'generate', prompt: 'the mouse ate the', options }, undefined, (r) => {
      for (const token of r.tokens) streamed.push({ completion: r.completion, token });
    });
    const local = await generate(model, 'the mouse ate the', options);
    // As they cross a worker boundary: JSON-like data.
    assert.deepStrictEqual(JSON.parse(JSON.stringify(res.completions)), JSON.parse(JSON.stringify(local)));
    for (const c of [0, 1])
      assert.deepStrictEqual(
        streamed.filter((s) => s.completion === c).map((s) => s.token.id),
        local[c].tokens.map((t) => t.id),
      );
    const top = await conn.request({ op: 'topTokens', prompt: 'the mouse ate the', k: 5 });
    assert.strictEqual(top.top!.length, 5);
    assert.strictEqual(top.logProbs!.length, model.vocabSize);
  });
});

describe('token stream (generation tokens out of a worker in batches)', () => {
  const token = (id: number): GeneratedToken => ({ id, text: String(id), logProb: -1 });
  it('sends the first token at once, then a batch per interval, and the rest on flush', () => {
    let t = 0;
    const sent: [number, number[]][] = [];
    const stream = new TokenStream(
      (c, tokens) => sent.push([c, tokens.map((x) => x.id)]),
      16,
      () => t,
    );
    stream.add(0, token(1)); // first: at once
    t = 5;
    stream.add(0, token(2));
    t = 10;
    stream.add(0, token(3));
    assert.deepStrictEqual(sent, [[0, [1]]]);
    t = 16;
    stream.add(0, token(4)); // 16 ms after the last batch
    assert.deepStrictEqual(sent, [
      [0, [1]],
      [0, [2, 3, 4]],
    ]);
    t = 20;
    stream.add(0, token(5));
    stream.add(1, token(6)); // another completion: the buffered tokens go first, under their own index
    t = 40;
    stream.add(1, token(7));
    stream.flush();
    stream.flush(); // nothing left: nothing sent
    assert.deepStrictEqual(sent, [
      [0, [1]],
      [0, [2, 3, 4]],
      [0, [5]],
      [1, [6, 7]],
    ]);
  });
  it('sends every token alone when steps are slower than the interval', () => {
    let t = 0;
    const sent: number[][] = [];
    const stream = new TokenStream(
      (_, tokens) => sent.push(tokens.map((x) => x.id)),
      16,
      () => t,
    );
    for (let i = 0; i < 4; i++, t += 40) stream.add(0, token(i));
    assert.deepStrictEqual(sent, [[0], [1], [2], [3]]);
  });
});

describe("the temperature explorer's sampled token", function () {
  this.timeout(60_000);
  it('asks the engine down to a token outside the top 10 and shows its text and rank, not its number', async () => {
    const model = await loadModel('ngram-classics');
    const server = new EngineServer(
      async () => ({ model }),
      (r) => setImmediate(() => conn.receive(r as EngineResponse)),
    );
    const conn = new EngineConnection((req) => void server.handle(req));
    await conn.request({ op: 'load', spec: TEST_LOAD_SPEC });
    const prompt = 'the mouse ate the';
    const { logProbs } = await conn.request({ op: 'topTokens', prompt, k: 10 });
    // The token of rank 500, far below the 10 whose texts the explorer has.
    const id = topIndices(logProbs, 500)[499];
    let asked = 0;
    const s = await sampledToken(logProbs, id, async (k) => {
      asked = k;
      return (await conn.request({ op: 'topTokens', prompt, k })).top;
    });
    assert.strictEqual(asked, 500);
    assert.deepStrictEqual({ text: s.text, rank: s.rank }, { text: model.tokenizer.tokenText(id), rank: rankOf(logProbs, id) });
    assert.ok(s.rank <= 500 && s.text !== String(id));
    // Another distribution (the prompt changed): said, not shown as a wrong token.
    await assert.rejects(
      sampledToken(logProbs, id, async () => []),
      /the model or the prompt changed/,
    );
  });

  it('labels byte tokens as the hover does (<0xC3>), not as the "�" they decode to', async () => {
    const model = await loadModel(path.join(REPO, 'test/fixtures/models/tiny-llama'));
    try {
      const server = new EngineServer(
        async () => ({ model }),
        (r) => setImmediate(() => conn.receive(r as EngineResponse)),
      );
      const conn = new EngineConnection((req) => void server.handle(req));
      await conn.request({ op: 'load', spec: TEST_LOAD_SPEC });
      const { top } = await conn.request({ op: 'topTokens', prompt: 'caf', k: model.vocabSize });
      const [c3] = model.tokenizer.encode('é', false).map((t) => t.id);
      assert.strictEqual(top.find((t) => t.id === c3)?.text, '<0xC3>');
      const unreadable = top.filter((t) => t.text.includes('\uFFFD'));
      assert.deepStrictEqual(unreadable, [], `tokens shown as �: ${unreadable.length}`);
    } finally {
      await model.dispose?.();
    }
  });

  it('counts ties as the top tokens order them (the lower id first)', () => {
    const lp = [-1, -2, -2, -2];
    assert.strictEqual(topCountThrough(lp, 2), 3);
    assert.deepStrictEqual(topIndices(lp, 3), [0, 1, 2]);
    assert.strictEqual(topCountThrough(lp, 0), 1);
  });
});
