/**
 * Workspace trust: a cloned repository's `.vscode/settings.json` must not point the extension at
 * files or hosts. Every setting whose name, format or description says it is a path, a URL, a host
 * or a download limit is restricted in untrusted workspaces and scoped so that a workspace cannot
 * set it (or, for the listed exceptions, only a trusted one can).
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { REPO } from '../helpers';

interface SettingSchema {
  scope?: string;
  format?: string;
  description?: string;
  markdownDescription?: string;
}

const manifest = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, SettingSchema> } };
  capabilities?: { untrustedWorkspaces?: { supported: boolean | 'limited'; restrictedConfigurations?: string[] } };
};
const settings = manifest.contributes.configuration.properties;

/** Settings that point the product at files, hosts or the disk it may fill. */
function pointsOutside(name: string, s: SettingSchema): boolean {
  const text = `${s.description ?? ''} ${s.markdownDescription ?? ''}`;
  return (
    s.format === 'uri' ||
    /(url|uri|host|endpoint|server|proxy|path|dir|folder|file|model|download\w*)$/i.test(name) ||
    /\b(path|URL|URI|host(name)?|endpoint|server|mirror|proxy)s?\b/i.test(text)
  );
}

/**
 * Scoped `machine-overridable` on purpose: a trusted workspace may pin the model it is about (an
 * embedded name or a model in the repository); an untrusted one cannot, being restricted.
 */
const WORKSPACE_MAY_CHOOSE = new Set(['lmPlayground.model']);

describe('workspace trust: settings that point at files or hosts', () => {
  const flagged = Object.entries(settings).filter(([name, s]) => pointsOutside(name, s));

  it('recognises the known ones (the check is not vacuous)', () => {
    const names = flagged.map(([n]) => n);
    for (const known of ['lmPlayground.model', 'lmPlayground.hub.baseUrl', 'lmPlayground.hub.maxDownloadBytes']) assert.ok(names.includes(known), known);
  });

  it('restricts every one of them in untrusted workspaces', () => {
    const trust = manifest.capabilities?.untrustedWorkspaces;
    assert.strictEqual(trust?.supported, 'limited');
    const restricted = new Set(trust?.restrictedConfigurations ?? []);
    const missing = flagged.map(([n]) => n).filter((n) => !restricted.has(n));
    assert.deepStrictEqual(missing, [], 'add these to capabilities.untrustedWorkspaces.restrictedConfigurations');
    for (const n of restricted) assert.ok(settings[n], `restricted setting ${n} is not declared`);
  });

  it('scopes every one of them to the user or the machine', () => {
    const wrong = flagged
      .filter(([name, s]) => !(s.scope === 'machine' || s.scope === 'application' || (s.scope === 'machine-overridable' && WORKSPACE_MAY_CHOOSE.has(name))))
      .map(([name, s]) => `${name}: ${s.scope ?? 'window (default)'}`);
    assert.deepStrictEqual(wrong, [], 'give these "scope": "machine" or "application"');
  });
});
