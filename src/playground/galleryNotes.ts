/**
 * What the playground says about a gallery example with a given model: the example's note, whether
 * the model ordered the scored sentences as the lecture does (and why not), and a probe's gaps,
 * with, for an n-gram, whether the subject was within its window.
 */
import type { GalleryExample, ModelTraits } from './gallery';
import { GALLERY } from './gallery';
import type { Query } from './query';
import { substitute } from './templates';

/** One scored prompt of a run: its bindings, its text, log p and its tokens' texts (in order). */
export interface ScoredPrompt {
  bindings: Record<string, string>;
  prompt: string;
  logProb: number;
  tokens: readonly string[];
}

/** The gallery example a query is (same prompt and environments), if any. */
export function galleryExampleFor(q: Pick<Query, 'prompt' | 'environments'>): GalleryExample | undefined {
  return GALLERY.find((g) => g.query.prompt === q.prompt && g.query.environments.trim() === q.environments.trim());
}

/** A log-prob (nats) in bits, signed: "+0.72", "−1.44". */
const signedBits = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x / Math.LN2).toFixed(2)}`;

/**
 * The notes for `example` with `model`; `scored` (the run's scored prompts) adds what the run
 * showed, and `stoppedAtOnce` (the first token, named, when every completion of the run stopped
 * before it) why nothing appeared.
 */
export function galleryNotes(example: GalleryExample, model: ModelTraits, scored: readonly ScoredPrompt[] = [], stoppedAtOnce?: string): string[] {
  const notes: string[] = [];
  const note = example.note?.(model);
  if (note) notes.push(note);
  if (stoppedAtOnce !== undefined)
    notes.push(
      `Nothing appears: ${model.name}'s first token is ${stoppedAtOnce}, and the stop sequence ends the completion there, before any token. Its first tokens are listed under the result; clear the stop sequences to see what it writes after it.`,
    );
  if (example.ordering && scored.length) {
    const o = example.ordering;
    const observed = [...scored].sort((a, b) => b.logProb - a.logProb);
    const shown = observed.map((s) => `${s.bindings[o.variable]} (${(s.logProb / Math.LN2).toFixed(2)})`).join(' > ');
    if (
      sameOrder(
        observed.map((s) => s.bindings[o.variable]),
        o.expected,
      )
    ) {
      notes.push(`${model.name} orders them as the lecture does (log₂ p in bits): ${shown}.`);
    } else {
      const others = o.holdsWith.filter((m) => m !== model.name);
      notes.push(
        `${model.name} orders them (log₂ p in bits) ${shown}: not as the lecture does. ${o.whyNot(model)}${others.length ? ` With ${others.join(', ')} the lecture's order holds.` : ''}`,
      );
    }
  }
  if (example.probe && scored.length) notes.push(...probeNotes(example, model, scored));
  return notes;
}

function sameOrder(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Gap log p(values[0]) − log p(values[1]) for each subject, when both runs are there. */
export function probeGaps(example: GalleryExample, scored: readonly ScoredPrompt[]): { subject: string; gap: number }[] {
  const p = example.probe!;
  const subjects = [...new Set(scored.map((s) => s.bindings[p.subject]))];
  const out: { subject: string; gap: number }[] = [];
  for (const subject of subjects) {
    const lp = (v: string) => scored.find((s) => s.bindings[p.subject] === subject && s.bindings[p.variable] === v)?.logProb;
    const [a, b] = [lp(p.values[0]), lp(p.values[1])];
    if (a !== undefined && b !== undefined) out.push({ subject, gap: a - b });
  }
  return out;
}

function probeNotes(example: GalleryExample, model: ModelTraits, scored: readonly ScoredPrompt[]): string[] {
  const p = example.probe!;
  const gaps = probeGaps(example, scored);
  if (gaps.length < 2) return [];
  const listed = gaps.map((g) => `${g.subject} ${signedBits(g.gap)}`).join(', ');
  const gapLine = `log₂ p(${p.values[0]}) − log₂ p(${p.values[1]}) in bits (positive: ${p.values[0]} likelier): ${listed}.`;
  const distances = scored.map((s) => tokenDistance(example.query.prompt, s, p.subject, p.variable));
  const known = distances.every((d): d is number => d !== undefined);
  if (model.context === 'markov' && model.contextLength !== undefined && known) {
    const nearest = Math.min(...distances);
    if (nearest > model.contextLength) {
      return [
        `${gapLine} A ${model.contextLength + 1}-gram predicts each token from the ${model.contextLength} tokens before it (n − 1), and the ${p.subject} is ${nearest} tokens before the ${p.variable}: out of its window. It cannot see the ${p.subject}, so the gap is the same for every ${p.subject}. A neural model (gpt-classics) sees the whole prompt: with it the gap depends on the ${p.subject}.`,
      ];
    }
    return [`${gapLine} The ${p.subject} is within the ${model.contextLength} tokens this ${model.contextLength + 1}-gram sees before the ${p.variable}.`];
  }
  if (model.context === 'window') {
    const window = model.contextLength !== undefined ? `up to ${model.contextLength} tokens` : 'the whole prompt';
    return [`${gapLine} ${model.name} sees ${window} before each token, the ${p.subject} included: the gap depends on the ${p.subject}.`];
  }
  return [gapLine];
}

/**
 * Tokens from the one holding the end of `from`'s value to the one holding the start of `to`'s
 * value in a scored prompt (1: adjacent); undefined when the tokens do not spell the prompt (a
 * character split between tokens) or a variable is not in the template.
 */
export function tokenDistance(template: string, s: ScoredPrompt, from: string, to: string): number | undefined {
  if (s.tokens.join('') !== s.prompt) return undefined;
  const at = (name: string) => {
    const i = template.indexOf(`\${${name}}`);
    return i < 0 ? undefined : substitute(template.slice(0, i), s.bindings).length;
  };
  const fromStart = at(from);
  const toStart = at(to);
  if (fromStart === undefined || toStart === undefined) return undefined;
  const fromEnd = fromStart + s.bindings[from].length - 1;
  const tokenAt = (offset: number) => {
    let end = 0;
    for (let i = 0; i < s.tokens.length; i++) {
      end += s.tokens[i].length;
      if (offset < end) return i;
    }
    return s.tokens.length;
  };
  return tokenAt(toStart) - tokenAt(fromEnd);
}
