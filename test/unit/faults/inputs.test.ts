/**
 * Fault injection: hostile inputs from files and pages (query files, template environments, saved
 * Shannon games, messages from the Shannon page, model names shown in Markdown). Each is generated
 * here and must give a clear error or be repaired, never an internal exception or lost results.
 */
import * as assert from 'assert';
import { LmError } from '../../../src/core/errors';
import { makeAlphabet } from '../../../src/core/shannon/alphabet';
import { characters, gameStats, gamesToCsv, guess, newGame, pooledBounds, visibleText, type GameState } from '../../../src/core/shannon/game';
import { checkPageMessage, readSavedGames } from '../../../src/core/shannon/validation';
import { DEFAULT_SETTINGS, MAX_QUERY_FILE_BYTES, parseQuery, type Query } from '../../../src/playground/query';
import { buildRequests } from '../../../src/playground/requests';
import { MAX_ENVIRONMENTS_JSON_DEPTH, MAX_EXPANDED_LENGTH, MAX_TOTAL_EXPANDED_LENGTH, parseEnvironments, substitute } from '../../../src/playground/templates';
import { escapeMarkdown } from '../../../src/editor/markdownText';
import { metricsTooltipMarkdown } from '../../../src/vscode/metricsTooltip';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const MarkdownIt = require('markdown-it') as new (o: { html: boolean }) => { render(s: string): string };

const queryFile = (settings: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ lmPlaygroundQuery: 1, prompt: 'p', settings, ...extra });

describe('faults: hostile query files', () => {
  it('every numeric setting is bounded, and the error names the file and the field', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ maxTokens: 100000000 }, /q\.lmquery\.json: settings\.maxTokens must be 0 to 4096, got "100000000"/],
      [{ maxTokens: 1e300 }, /settings\.maxTokens must be 0 to 4096/],
      [{ maxTokens: -1 }, /settings\.maxTokens must be 0 to 4096/],
      [{ maxTokens: 0 }, /settings\.maxTokens must be 1 to 4096 \(0 only with echo/],
      [{ maxTokens: '2.5' }, /settings\.maxTokens must be a whole number/],
      [{ maxTokens: 'NaN' }, /settings\.maxTokens must be a whole number/],
      [{ numCompletions: 17 }, /settings\.numCompletions must be 1 to 16/],
      [{ numCompletions: 0 }, /settings\.numCompletions must be 1 to 16/],
      [{ temperature: -0.5 }, /settings\.temperature must be ≥ 0/],
      [{ temperature: 'hot' }, /settings\.temperature must be a number/],
      [{ topP: 0 }, /settings\.topP must be in \(0, 1\]/],
      [{ topP: 1.5 }, /settings\.topP must be in \(0, 1\]/],
      [{ topKPerToken: 51 }, /settings\.topKPerToken must be 0 to 50/],
      [{ topKPerToken: -1 }, /settings\.topKPerToken must be 0 to 50/],
      [{ seed: 1.5 }, /settings\.seed must be a whole number/],
      [{ seed: 1e300 }, /settings\.seed must be a whole number from -2147483648 to 4294967295/],
      [{ seed: 'Infinity' }, /settings\.seed must be a whole number/],
    ];
    for (const [settings, expected] of cases) {
      assert.throws(
        () => parseQuery(queryFile(settings), 'q.lmquery.json'),
        (e: unknown) => e instanceof LmError && expected.test(e.message),
        JSON.stringify(settings),
      );
    }
    // The bounds themselves, ∞ and an empty seed are fine; 0 tokens with echo scores the prompt.
    const ok = parseQuery(queryFile({ maxTokens: 4096, numCompletions: 16, temperature: '∞', topP: 1, topKPerToken: 50, seed: '' }));
    assert.strictEqual(ok.settings.maxTokens, '4096');
    assert.strictEqual(parseQuery(queryFile({ maxTokens: 0, echoPrompt: true })).settings.maxTokens, '0');
  });

  it('a value from a variable is checked once substituted, naming the setting and the binding', () => {
    const q = parseQuery(queryFile({ maxTokens: '${n}' }, { environments: 'n: [3, 100000000]' }), 'q.lmquery.json');
    assert.throws(() => buildRequests(q), /max tokens must be 0 to 4096, got "100000000" \(with n = 100000000\)/);
  });

  it('a query file over the size cap is refused before parsing', () => {
    const huge = queryFile({}, { environments: `# ${'x'.repeat(MAX_QUERY_FILE_BYTES)}` });
    assert.throws(() => parseQuery(huge, 'big.lmquery.json'), /big\.lmquery\.json: too large for a query file \(more than 8 MiB\)/);
  });
});

describe('faults: template expansion bombs', () => {
  // Each variable's value repeats the next one 8 times: 8^6 × 80 characters ≈ 21 MB when expanded.
  const bombEnv = () => {
    const lines = Array.from({ length: 6 }, (_, i) => `v${i}: ["${`\${v${i + 1}}`.repeat(8)}"]`);
    lines.push(`v6: ["${'x'.repeat(80)}"]`);
    return lines.join('\n');
  };

  it('stops as soon as the text passes the cap, naming the variable, without building the long text', () => {
    const env = parseEnvironments(bombEnv());
    const bindings = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v[0]]));
    // Count the characters of values the expansion takes: it stops near the cap, not at 21 MB.
    let taken = 0;
    const counted = new Proxy(bindings, {
      get(target, key: string) {
        const v = target[key];
        if (typeof v === 'string') taken += v.length;
        return v;
      },
    });
    assert.throws(
      () => substitute('${v0}', counted),
      (e: unknown) => e instanceof LmError && /\$\{v\d\} expands the text past 1,000,000 characters/.test(e.message),
    );
    assert.ok(taken < 2 * MAX_EXPANDED_LENGTH, `took ${taken} characters of values`);
  });

  it('a query whose prompt nests variables into megabytes gets a clear error', () => {
    const q: Query = { prompt: 'Once ${v0}', environments: bombEnv(), settings: { ...DEFAULT_SETTINGS } };
    assert.throws(() => buildRequests(q), /\$\{v\d\} expands the text past 1,000,000 characters/);
    // Just under the cap is fine.
    const small = substitute('${a}', { a: 'y'.repeat(MAX_EXPANDED_LENGTH - 1) });
    assert.strictEqual(small.length, MAX_EXPANDED_LENGTH - 1);
    assert.throws(() => substitute('z${a}z', { a: 'y'.repeat(MAX_EXPANDED_LENGTH - 1) }), /\$\{a\} expands the text past/);
  });
});

describe('faults: variables named like built-in object properties', () => {
  const NAMES = ['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__proto__', 'length', 'isPrototypeOf'];
  const query = (prompt: string, environments: string): Query => ({ prompt, environments, settings: { ...DEFAULT_SETTINGS } });

  it('an unknown one is an ordinary unknown variable: kept by substitute, a clear error in a query', () => {
    for (const name of NAMES) {
      assert.strictEqual(substitute(`a \${${name}} b`, {}), `a \${${name}} b`);
      assert.throws(
        () => buildRequests(query(`Hello \${${name}}`, '')),
        (e: unknown) => e instanceof LmError && e.message === `\${${name}} is used but no environment gives its values`,
      );
      assert.throws(
        () => buildRequests(query('Hello ${x}', `x: ["\${${name}}"]`)),
        (e: unknown) => e instanceof LmError && e.message === `\${${name}} is used but no environment gives its values`,
      );
    }
  });

  it('a defined one is an ordinary variable, in the line format and in JSON', () => {
    for (const name of NAMES) {
      const lines = parseEnvironments(`${name}: [a, b]`);
      assert.deepStrictEqual(Object.keys(lines), [name]);
      assert.deepStrictEqual(
        buildRequests(query(`<\${${name}}>`, `${name}: [a, b]`)).map((r) => r.prompt),
        ['<a>', '<b>'],
      );
      assert.deepStrictEqual(
        buildRequests(query(`<\${${name}}>`, JSON.stringify({ [name]: ['j'] }))).map((r) => r.prompt),
        ['<j>'],
      );
      assert.throws(() => parseEnvironments(`${name}: [a]\n${name}: [b]`), /line 2: .* is defined twice/);
    }
    const env = parseEnvironments('{"__proto__": ["p"], "length": ["l"]}');
    assert.deepStrictEqual(
      buildRequests(query('${__proto__} ${length}', '{"__proto__": ["p"], "length": ["l"]}')).map((r) => r.prompt),
      ['p l'],
    );
    assert.strictEqual(Object.getPrototypeOf(env), null);
    // A setting named like one is unknown, not silently ignored.
    assert.throws(() => parseQuery(queryFile({ constructor: 1 }), 'q.lmquery.json'), /q\.lmquery\.json: unknown setting\(s\) constructor/);
  });

  it('JSON environments nested deeper than the limit get a clear error, not a stack overflow', () => {
    const deep = `{"x": ${'['.repeat(5000)}${']'.repeat(5000)}}`;
    assert.throws(
      () => parseEnvironments(deep),
      (e: unknown) =>
        e instanceof LmError && e.message === `environments: the JSON nests 5001 levels deep, more than the limit of ${MAX_ENVIRONMENTS_JSON_DEPTH}`,
    );
    // Brackets inside strings do not count.
    assert.deepStrictEqual(parseEnvironments(`{"x": ["${'['.repeat(5000)}"]}`).x, ['['.repeat(5000)]);
    assert.deepStrictEqual(parseEnvironments('{"x": [[1, [2]]]}').x, ['[1,[2]]']);
  });

  it('all requests of one run together are capped, not only each text', () => {
    // 64 requests of just under the per-text cap each: every text is allowed, the total is not.
    const values = Array.from({ length: 64 }, (_, i) => `${i}`).join(', ');
    const q = query('${n}${big}', `n: [${values}]\nbig: ["${'y'.repeat(MAX_EXPANDED_LENGTH - 10)}"]`);
    assert.throws(
      () => buildRequests(q),
      (e: unknown) => e instanceof LmError && e.message.includes(`add up to more than ${MAX_TOTAL_EXPANDED_LENGTH.toLocaleString('en-US')} characters`),
    );
    // Fewer requests of the same size are fine.
    assert.strictEqual(buildRequests(query('${n}${big}', `n: [1, 2]\nbig: ["${'y'.repeat(MAX_EXPANDED_LENGTH - 10)}"]`)).length, 2);
  });
});

/** A played game: every path that shows or exports games must work on it. */
function played(id: string, text: string, alphabet: 'shannon27' | 'all'): GameState {
  const g = newGame(`title ${id}`, text, alphabet, 0, id, new Date(Date.UTC(2026, 0, 2)));
  for (const ch of characters(g).slice(0, 3)) {
    if (ch !== 'z') guess(g, 'z');
    guess(g, ch);
  }
  g.modelPlay = { model: 'm', ranks: [1, 2], bits: [0.5, 1.25] };
  return g;
}

/** What the panel computes to render, and the CSV export. */
function renderAndExport(games: GameState[]): void {
  for (const g of games) {
    gameStats(g);
    visibleText(g);
    makeAlphabet(g.alphabet, g.text);
    for (let i = 0; i < g.guesses.length; i++) assert.strictEqual(typeof g.wrong[i].join(''), 'string');
  }
  pooledBounds(games, 'shannon27');
  pooledBounds(games, 'all');
  gamesToCsv(games);
}

describe('faults: hostile saved Shannon games', () => {
  const good1 = () => played('good1', 'The cat sat.', 'shannon27');
  const good2 = () => played('good2', 'Über naïve!\n', 'all');
  const hostile = (): unknown[] => {
    const g = () => JSON.parse(JSON.stringify(good1())) as Record<string, unknown>;
    const with_ = (patch: Record<string, unknown>) => ({ ...g(), ...patch, id: `bad-${Object.keys(patch).join('-')}` });
    return [
      null,
      42,
      'a game',
      [],
      { ...g(), id: 7 },
      with_({ title: undefined }),
      with_({ alphabet: 'klingon' }),
      with_({ text: 12 }),
      with_({ text: 'x'.repeat(20000) }),
      with_({ window: NaN }),
      with_({ window: -1 }),
      with_({ guesses: 'many' }),
      with_({ guesses: [1, NaN, 1], wrong: [[], [], []] }),
      with_({ guesses: [1, 99, 1] }), // more guesses than the alphabet has symbols
      with_({ guesses: new Array(100000).fill(1), wrong: new Array(100000).fill([]) }), // longer than the text
      with_({ wrong: [[], 'z', []] }),
      with_({ wrong: [[]] }),
      with_({ wrong: [[], [7], []] }),
    ];
  };

  it('keeps every good game, drops the bad ones with a reason, and rendering and export work', () => {
    const a = good1();
    const b = good2();
    const saved = { version: 1, history: [hostile()[0], a, ...hostile().slice(1), b], current: hostile()[6] };
    const read = readSavedGames(JSON.parse(JSON.stringify(saved)), 200)!;
    assert.deepStrictEqual(
      read.history.map((g) => g.id),
      ['good1', 'good2'],
    );
    assert.deepStrictEqual(read.history, [a, b]);
    assert.strictEqual(read.current, undefined);
    assert.strictEqual(read.problems.length, hostile().length + 1);
    assert.ok(
      read.problems.some((p) => /unknown alphabet "klingon"/.test(p)),
      read.problems.join('\n'),
    );
    assert.ok(read.problems.every((p) => /dropped/.test(p)));
    renderAndExport([...read.history]);
  });

  it("repairs what can be recomputed: the model's play (NaN, wrong lengths, bad ranks) and pending guesses", () => {
    const bad: unknown[] = [
      { model: 'm', ranks: [1, 2], bits: [NaN, 1] },
      { model: 'm', ranks: [1, 2, 3], bits: [1] },
      { model: 'm', ranks: [0, 1000], bits: [1, 1] },
      { model: 'm', ranks: new Array(100000).fill(1), bits: new Array(100000).fill(1) },
      { model: 5, ranks: [], bits: [] },
      'played',
    ];
    const games = bad.map((modelPlay, i) => ({ ...JSON.parse(JSON.stringify(good1())), id: `g${i}`, modelPlay, pending: i === 0 ? 'ab' : [] }));
    const read = readSavedGames({ version: 1, history: games }, 200)!;
    assert.strictEqual(read.history.length, bad.length);
    for (const g of read.history) {
      assert.strictEqual(g.modelPlay, undefined);
      assert.deepStrictEqual(g.pending, []);
    }
    assert.ok(
      read.problems.every((p) => /repaired|dropped \(it plays again\)|were dropped/.test(p)),
      read.problems.join('\n'),
    );
    renderAndExport(read.history);
    // Good games come back unchanged and without problems.
    const [a, b] = [good1(), good2()];
    assert.deepStrictEqual(readSavedGames({ version: 1, history: [a], current: b }, 200), { history: [a], current: b, problems: [] });
  });

  it('is not saved games at all: a wrong version or a non-object', () => {
    for (const v of [null, 'x', [], { version: 2, history: [] }]) assert.strictEqual(readSavedGames(v, 200), undefined);
    const notList = readSavedGames({ version: 1, history: { 0: good1() }, current: good1() }, 200)!;
    assert.strictEqual(notList.current?.id, 'good1');
    assert.ok(notList.problems.some((p) => /not a list/.test(p)));
  });

  it('of games sharing an id keeps the newest (the game in progress, then the later one) and says which was dropped', () => {
    const games = ['a', 'b', 'a', 'c', 'b'].map((id, i) => ({ ...good1(), id, title: `t${i}` }));
    const read = readSavedGames({ version: 1, history: games, current: { ...good1(), id: 'c', title: 'current' } }, 200)!;
    assert.deepStrictEqual(
      read.history.map((g) => `${g.id} ${g.title}`),
      ['a t2', 'b t4'],
    );
    assert.strictEqual(read.current?.title, 'current');
    assert.deepStrictEqual(read.problems.sort(), [
      'earlier game 1: dropped (a newer game has the same id "a")',
      'earlier game 2: dropped (a newer game has the same id "b")',
      'earlier game 4: dropped (a newer game has the same id "c")',
    ]);
  });

  it('exports cells that start like a spreadsheet formula as text (a leading apostrophe)', () => {
    const titles = ['=HYPERLINK("http://x","y")', '+1+1', '-2+3', '@SUM(A1)', '\tx', '\rx', 'plain = text'];
    const csv = gamesToCsv(titles.map((title, i) => ({ ...played(`g${i}`, 'abc', 'all'), title })));
    const cells = csv
      .split('\n')
      .slice(1, -1)
      .map((row) => row.slice(row.indexOf(',') + 1));
    for (const title of titles) {
      const shown = title === 'plain = text' ? title : `'${title}`;
      const field = /[",\n\r]/.test(shown) ? `"${shown.replace(/"/g, '""')}"` : shown;
      assert.ok(
        cells.some((c) => c.startsWith(`${field},`)),
        `${JSON.stringify(title)} → ${JSON.stringify(field)} in ${JSON.stringify(csv)}`,
      );
    }
    assert.ok(!/(^|,)[=+\-@]/m.test(csv.replace(/\n[ \t]/g, '')), csv);
  });

  it('keeps the newest games beyond the cap', () => {
    const many = Array.from({ length: 5 }, (_, i) => ({ ...good1(), id: `g${i}` }));
    const read = readSavedGames({ version: 1, history: many }, 3)!;
    assert.deepStrictEqual(
      read.history.map((g) => g.id),
      ['g2', 'g3', 'g4'],
    );
  });
});

describe('faults: messages from the Shannon game page', () => {
  it('an unknown alphabet or a bad window is refused with a message before it reaches a game', () => {
    assert.throws(
      () => checkPageMessage({ type: 'newGame', source: 'passage:0', alphabet: 'klingon', window: 0 }),
      (e: unknown) => e instanceof LmError && /unknown alphabet "klingon": use shannon27 or all/.test(e.message),
    );
    assert.throws(() => checkPageMessage({ type: 'newGame', source: 'passage:0', alphabet: 'all', window: 1.5 }), /letters shown/);
    assert.throws(() => checkPageMessage({ type: 'newGame', source: 7, alphabet: 'all', window: 0 }), /no text source/);
    assert.throws(() => checkPageMessage({ type: 'guess', char: { length: 1 } }), /not one character/);
    assert.throws(() => checkPageMessage({ type: 'guess', char: 'abc' }), /not one character/);
    for (const char of ['ab', '', '\ud83d', 'é\u0301'])
      assert.throws(() => checkPageMessage({ type: 'guess', char }), /not one character/, JSON.stringify(char));
    for (const char of ['a', '😀', ' ']) assert.deepStrictEqual(checkPageMessage({ type: 'guess', char }), { type: 'guess', char });
    assert.throws(() => checkPageMessage({ type: 'delete everything' }), /unknown message/);
    for (const x of [null, 3, 'guess', []]) assert.throws(() => checkPageMessage(x), LmError);
  });

  it('passes well-formed messages through, with only their known fields', () => {
    assert.deepStrictEqual(checkPageMessage({ type: 'newGame', source: 'editor', alphabet: 'shannon27', window: 3, extra: 1 }), {
      type: 'newGame',
      source: 'editor',
      alphabet: 'shannon27',
      window: 3,
    });
    assert.deepStrictEqual(checkPageMessage({ type: 'guess', char: '😀' }), { type: 'guess', char: '😀' });
    assert.deepStrictEqual(checkPageMessage({ type: 'exportCsv' }), { type: 'exportCsv' });
  });
});

describe('faults: model names in the status bar tooltip (Markdown)', () => {
  const md = new MarkdownIt({ html: true });
  const summary = { bitsPerChar: 2, bitsPerToken: 8, perplexity: 256, tokens: 10, chars: 40 };
  const names = [
    '[x](command:workbench.action.terminal.new)',
    '<img src=x onerror=alert(1)>',
    '**bold** _it_ `code` # head',
    'two\n\n| a | b |\n|---|---|',
    '![i](https://example.com/i.png) &lt;b&gt; $(zap)',
  ];

  it('renders the name as the text it is: no link, image, HTML or table from it', () => {
    for (const name of names) {
      const html = md.render(metricsTooltipMarkdown({ modelName: name, scope: 'document', summary, elapsedMs: 3 }));
      assert.ok(!/<a |<img|<em>|<code>|<h1>|&lt;b&gt;/.test(html.split('</p>')[0]), `${name} → ${html}`);
      assert.strictEqual((html.match(/<table>/g) ?? []).length, 1, `${name}: one table only`);
      const first = html.split('</p>')[0].replace(/^<p><strong>/, '');
      const shown = first.slice(0, first.indexOf('</strong>'));
      const text = shown
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&quot;/g, '"')
        .replace(/&amp;/g, '&');
      assert.strictEqual(text, name.replace(/\n+/g, ' '));
    }
  });

  it('escapes every Markdown punctuation mark', () => {
    assert.strictEqual(escapeMarkdown('a[b](c)<d>'), 'a\\[b\\]\\(c\\)\\<d\\>');
    assert.strictEqual(escapeMarkdown('gpt-classics'), 'gpt\\-classics');
  });
});
