/** From a query to the requests the playground runs: templates expanded, settings checked. */
import { LmError } from '../core/errors';
import { validateGenerationOptions, type GenerationOptions } from '../core/generation';
import { MAX_TOTAL_EXPANDED_LENGTH, expand, parseEnvironments, substitute } from './templates';
import { numericSetting, parseStopSequences, type NumericSetting, type Query, type QuerySettings } from './query';

export interface PlaygroundRequest {
  bindings: Record<string, string>;
  model: string;
  prompt: string;
  options: GenerationOptions;
}

function options(s: QuerySettings): GenerationOptions {
  const n = (key: NumericSetting) => numericSetting(key, s[key], s.echoPrompt);
  const o: GenerationOptions = {
    temperature: n('temperature')!,
    maxTokens: n('maxTokens')!,
    topKPerToken: n('topKPerToken')!,
    topP: n('topP')!,
    echoPrompt: s.echoPrompt,
    stopSequences: parseStopSequences(s.stopSequences),
    numCompletions: n('numCompletions')!,
    seed: n('seed'),
  };
  validateGenerationOptions(o);
  return o;
}

export function buildRequests(q: Query, cap?: number): PlaygroundRequest[] {
  const env = parseEnvironments(q.environments);
  const s = q.settings;
  const texts = [q.prompt, s.model, s.temperature, s.maxTokens, s.topKPerToken, s.topP, s.stopSequences, s.numCompletions, s.seed];
  // Each text is capped by substitute; this caps what all requests of the run hold together.
  let total = 0;
  const counted = (text: string) => {
    total += text.length;
    if (total > MAX_TOTAL_EXPANDED_LENGTH) {
      throw new LmError(
        `the requests of this run add up to more than ${MAX_TOTAL_EXPANDED_LENGTH.toLocaleString('en-US')} characters after substitution (the limit for one run): use fewer or shorter values`,
      );
    }
    return text;
  };
  return expand(
    texts,
    env,
    (b) => {
      const settings: QuerySettings = { ...s };
      for (const k of Object.keys(settings) as (keyof QuerySettings)[]) {
        if (k !== 'echoPrompt') settings[k] = counted(substitute(settings[k], b));
      }
      const where = Object.keys(b).length
        ? ` (with ${Object.entries(b)
            .map(([k, v]) => `${k} = ${v}`)
            .join(', ')})`
        : '';
      try {
        return { bindings: b, model: settings.model, prompt: counted(substitute(q.prompt, b)), options: options(settings) };
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
