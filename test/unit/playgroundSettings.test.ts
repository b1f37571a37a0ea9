import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeUserSettings } from '../../scripts/codeServer';

// `npm start` keeps the playground's user data: a setting the user chose must survive the next start.
describe('npm start: the playground user settings file', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmp-settings-'));
    file = path.join(dir, 'settings.json');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes the defaults when there is no file', () => {
    writeUserSettings(file, { 'update.mode': 'none' }, true);
    assert.deepStrictEqual(JSON.parse(fs.readFileSync(file, 'utf8')), { 'update.mode': 'none' });
  });

  it("keeps the user's settings over the defaults and adds the defaults they lack", () => {
    fs.writeFileSync(file, JSON.stringify({ 'lmPlayground.model': '/models/smollm2', 'update.mode': 'manual' }));
    writeUserSettings(file, { 'update.mode': 'none', 'git.enabled': false }, true);
    assert.deepStrictEqual(JSON.parse(fs.readFileSync(file, 'utf8')), {
      'update.mode': 'manual',
      'git.enabled': false,
      'lmPlayground.model': '/models/smollm2',
    });
  });

  it('leaves a file with comments as it is', () => {
    const text = '{\n  // my model\n  "lmPlayground.model": "/models/smollm2",\n}\n';
    fs.writeFileSync(file, text);
    writeUserSettings(file, { 'update.mode': 'none' }, true);
    assert.strictEqual(fs.readFileSync(file, 'utf8'), text);
  });

  it('replaces the file when it is not kept (the end-to-end tests start afresh)', () => {
    fs.writeFileSync(file, JSON.stringify({ 'lmPlayground.model': '/models/smollm2' }));
    writeUserSettings(file, { 'update.mode': 'none' }, false);
    assert.deepStrictEqual(JSON.parse(fs.readFileSync(file, 'utf8')), { 'update.mode': 'none' });
  });
});
