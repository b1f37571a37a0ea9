/**
 * Where a remote model's messages send the user to fix it: the editor's LM: Select Model, or, in
 * a terminal, lmp's --model and LMP_API_KEY (lmp says so when it starts; the editor is the default).
 */
export type FixAudience = 'editor' | 'cli';

let audience: FixAudience = 'editor';

export function setFixAudience(a: FixAudience): void {
  audience = a;
}

/** Where the URL is fixed. */
export function fixUrlHint(): string {
  return audience === 'cli' ? 'lmp --model URL#MODEL' : 'LM: Select Model';
}

/** Where the served models are listed and one picked (`baseUrl` ends in /v1). */
export function pickModelHint(baseUrl: string): string {
  return audience === 'cli' ? `curl ${baseUrl}/models lists them; name one in --model URL#MODEL` : 'LM: Select Model → Add remote model… lists them';
}

/** Where the API key is given. */
export function apiKeyHint(): string {
  return audience === 'cli' ? 'the LMP_API_KEY environment variable' : 'LM: Select Model → Add remote model… (for lmp: the LMP_API_KEY variable)';
}
