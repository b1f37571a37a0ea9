/**
 * The head of a result card: the variables that differ between the run's requests, and the prompt
 * in grey, each only when it does not repeat what the card shows below it (an echoed prompt is its
 * token row; a variable that is the whole prompt, the prompt itself).
 */
import type { PlaygroundRequest } from './requests';

export interface CardHead {
  /** The card's heading, or undefined when it would repeat the prompt. */
  heading?: string;
  /** The prompt line, or undefined when the token row shows the prompt (echo). */
  prompt?: string;
  /** What the card is, for assistive technology: the heading, else the prompt. */
  label: string;
}

export function cardHead(request: PlaygroundRequest, differ: readonly string[]): CardHead {
  const echoed = !!request.options.echoPrompt;
  const shown = differ.filter((k) => request.bindings[k] !== request.prompt);
  const heading = shown.length ? shown.map((k) => `${k} = ${request.bindings[k]}`).join(', ') : differ.length ? undefined : 'Result';
  return { heading, prompt: echoed ? undefined : request.prompt, label: heading ?? request.prompt };
}
