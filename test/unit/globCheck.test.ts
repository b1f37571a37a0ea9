import * as assert from 'assert';
import { globProblem } from '../../src/editor/globCheck';

describe('the training glob, checked as it is typed (hostile H20)', () => {
  it('flags an unclosed or unopened { or [ in the extension’s words, before the search is run', () => {
    assert.match(globProblem('**/*.{txt')!, /\*\*\/\*\.\{txt has an unclosed \{/);
    assert.match(globProblem('**/*.{txt,md}}')!, /a \} with no \{ before it/);
    assert.match(globProblem('**/[abc*.txt')!, /an unclosed \[/);
    assert.match(globProblem('  ')!, /give a glob/);
  });

  it('passes the globs ripgrep takes: nested alternatives, classes holding braces or a ], escapes', () => {
    for (const ok of [
      '**/*.{txt,md}',
      '**/*.txt',
      '{a,{b,c}}/*.md',
      '**/[{]*.txt',
      '**/[]]*.txt',
      '**/[!]]*.txt',
      '**/\\{*.txt',
      'notes/*.\\[md\\]',
      '../../**/*.txt',
    ])
      assert.strictEqual(globProblem(ok), undefined, ok);
  });
});
