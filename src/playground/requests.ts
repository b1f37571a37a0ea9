/** From a query to the requests the playground runs: templates expanded, settings checked. */
import { LmError } from '../core/errors';
import { validateGenerationOptions, type GenerationOptions } from '../core/generation';
import { expand, parseEnvironments, substitute } from './templates';
import { parseStopSequences, type Query, type QuerySettings } from './query';

export interface PlaygroundRequest {
  bindings: Record<string, string>;
  model: string;
  prompt: string;
  options: GenerationOptions;
}

function number(name: string, raw: string, integer: boolean): number {
  const v = Number(raw.trim());
  if (raw.trim() === '' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
    throw new LmError(`${name} must be ${integer ? 'a whole number' : 'a number'}, got "${raw}"`);
  }
  return v;
}

function options(s: QuerySettings): GenerationOptions {
  const temperature = s.temperature.trim() === '∞' || /^inf(inity)?$/i.test(s.temperature.trim()) ? Infinity : number('temperature', s.temperature, false);
  const o: GenerationOptions = {
    temperature,
    maxTokens: number('max tokens', s.maxTokens, true),
    topKPerToken: number('top-k per token', s.topKPerToken, true),
    topP: number('top-p', s.topP, false),
    echoPrompt: s.echoPrompt,
    stopSequences: parseStopSequences(s.stopSequences),
    numCompletions: number('number of completions', s.numCompletions, true),
    seed: s.seed.trim() === '' ? undefined : number('seed', s.seed, true),
  };
  validateGenerationOptions(o);
  if (o.topKPerToken! > 50) throw new LmError(`top-k per token must be at most 50, got ${o.topKPerToken}`);
  return o;
}

export function buildRequests(q: Query, cap?: number): PlaygroundRequest[] {
  const env = parseEnvironments(q.environments);
  const s = q.settings;
  const texts = [q.prompt, s.model, s.temperature, s.maxTokens, s.topKPerToken, s.topP, s.stopSequences, s.numCompletions, s.seed];
  return expand(
    texts,
    env,
    (b) => {
      const settings: QuerySettings = { ...s };
      for (const k of Object.keys(settings) as (keyof QuerySettings)[]) {
        if (k !== 'echoPrompt') settings[k] = substitute(settings[k], b);
      }
      const where = Object.keys(b).length ? ` (with ${Object.entries(b).map(([k, v]) => `${k} = ${v}`).join(', ')})` : '';
      try {
        return { bindings: b, model: settings.model, prompt: substitute(q.prompt, b), options: options(settings) };
      } catch (e) {
        throw new LmError(`${(e as Error).message}${where}`);
      }
    },
    cap,
  ).map((e) => e.item);
}

/** A scoring run: the prompt is echoed and nothing is generated, so its log-prob is what matters. */
export function isScoring(r: PlaygroundRequest): boolean {
  return !!r.options.echoPrompt && r.options.maxTokens === 0;
}
