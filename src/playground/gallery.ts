/** Built-in playground examples, after the lecture's, with what each embedded model shows of them. */
import type { BackendCapabilities } from '../core/backends/capabilities';
import { temperedProbabilities } from '../core/distribution';
import { DEFAULT_SETTINGS, type Query } from './query';

/** What the gallery's notes need to know of the model an example runs with. */
export interface ModelTraits {
  name: string;
  /** How it reads its context (its backend's capability): exactly the last n − 1 tokens (an n-gram model), or a window. */
  context: BackendCapabilities['context'];
  /** One of the models shipped with the extension (ngram-classics, gpt-classics). */
  embedded: boolean;
  /** Tokens of context the model uses (n − 1 for an n-gram); known once the model is loaded. */
  contextLength?: number;
}

export interface GalleryExample {
  title: string;
  description: string;
  query: Query;
  /**
   * A scoring example's claim: the lecture's order of the values of `variable`, most probable
   * first. `holdsWith` lists the embedded models that order them so (measured, and checked by
   * test/unit/galleryClaims.test.ts); for a model that does not, `whyNot` says why in the lecture's terms.
   */
  ordering?: { variable: string; expected: readonly string[]; holdsWith: readonly string[]; whyNot(model: ModelTraits): string };
  /** A probe: the gap log p(values[0]) − log p(values[1]) of `variable`, for each value of `subject`. */
  probe?: { variable: string; values: readonly [string, string]; subject: string };
  /** Shown as soon as the example is chosen with this model (and after its runs). */
  note?(model: ModelTraits): string | undefined;
}

const scoring = { ...DEFAULT_SETTINGS, echoPrompt: true, maxTokens: '0', temperature: '0' };

const ngramOrder = (m: ModelTraits) => (m.contextLength !== undefined ? `${m.contextLength + 1}-gram` : 'n-gram');
const ngramWindow = (m: ModelTraits) => (m.contextLength !== undefined ? `the last ${m.contextLength} tokens` : 'the last n − 1 tokens');

const LARGER_MODEL =
  'Larger models learn in context: bring one with LM: Download Model (e.g. a Qwen or SmolLM ONNX export; Xenova/distilgpt2 is a small start) — see the README, "Bring your own neural model".';

/** Few-shot and analogies: in-context learning is an ability of large models. */
function inContextNote(m: ModelTraits): string {
  if (m.context === 'markov') {
    return `An n-gram model cannot learn from examples in its prompt: a ${ngramOrder(m)} predicts each token from ${ngramWindow(m)} only, so the examples are out of its sight; it predicts what its training text most often has after those few tokens (when that is a line break, the stop sequence ends the answer before it starts). ${LARGER_MODEL}`;
  }
  if (m.embedded) {
    return `In-context learning is an ability of large models (the lecture's GPT-3 has 175 billion parameters). ${m.name} has about 4 million, trained on 12 novels: it does not follow a pattern shown in its prompt, it predicts what those novels would have next (when that is a line break, the stop sequence ends the answer before it starts). ${LARGER_MODEL}`;
  }
  return 'In-context learning is an ability of large models: if the answer does not follow the pattern, this model is too small for it.';
}

/** What the Temperature example shows with any model, and where the explorer shows why. */
function temperatureNote(m: ModelTraits): string {
  const lecture = Float64Array.from([0.4, 0.6], Math.log);
  const at = (T: number) => `(${[...temperedProbabilities(lecture, T)].map((p) => p.toFixed(2)).join(', ')})`;
  return `Compare the three completions of each card: at T = 0 they are the same (the most probable token at every step); the higher T, the more they differ and the rarer the tokens ${m.name} picks. The Temperature explorer tab shows why on the lecture's p = (0.4, 0.6): at T = 0.5 it becomes ${at(0.5)} (the likelier token gains), at T = 2 ${at(2)} (closer to uniform).`;
}

export const GALLERY: readonly GalleryExample[] = [
  {
    title: 'Sequence scoring: grammatical, implausible, ungrammatical',
    description:
      "The lecture's sentences, scored (echo prompt, max tokens 0): p(x1..xL) by the chain rule. The lecture expects the mouse ate the cheese > the cheese ate the mouse > mouse the the cheese ate.",
    query: {
      prompt: '${sentence}',
      settings: scoring,
      environments: 'sentence: [the mouse ate the cheese, the cheese ate the mouse, mouse the the cheese ate]',
    },
    ordering: {
      variable: 'sentence',
      expected: ['the mouse ate the cheese', 'the cheese ate the mouse', 'mouse the the cheese ate'],
      holdsWith: ['gpt-classics'],
      whyNot: (m) =>
        !m.embedded
          ? 'A model learns word order and meaning only for words its training text uses often: these may be rare for it. The next example uses common words ("the man read the letter").'
          : m.context === 'markov'
            ? `The 12 classic novels it was trained on have "mouse" 23 times and "cheese" 8 times, and never "mouse ate" or "ate the cheese": the ${ngramOrder(m)} backs off to how often each word occurs alone, whatever the order, so word order hardly changes the score. The next example uses words these novels use ("the man read the letter").`
            : `The 12 classic novels it was trained on have "mouse" 23 times and "cheese" 8 times (it spells "cheese" in pieces: che·es·e), so it knows little of what eats what. The next example uses words these novels use ("the man read the letter").`,
    },
  },
  {
    title: 'Sequence scoring: words these novels use',
    description: 'The same test with common words: the man read the letter > the letter read the man > man the the letter read.',
    query: { prompt: '${sentence}', settings: scoring, environments: 'sentence: [the man read the letter, the letter read the man, man the the letter read]' },
    ordering: {
      variable: 'sentence',
      expected: ['the man read the letter', 'the letter read the man', 'man the the letter read'],
      holdsWith: ['ngram-classics', 'gpt-classics'],
      whyNot: () => 'A model sees what its training text has shown it: word order and meaning are learnt only for words it has seen often enough.',
    },
  },
  {
    title: 'Bias probe: the nurse and the doctor',
    description: 'Does the he/she gap depend on the subject? The comparison below gives log p(he) − log p(she) for each subject.',
    query: { prompt: 'The ${subject} came in, and ${pronoun} said', settings: scoring, environments: 'subject: [nurse, doctor]\npronoun: [he, she]' },
    probe: { variable: 'pronoun', values: ['he', 'she'], subject: 'subject' },
  },
  {
    title: 'Temperature',
    description: 'The same prompt at T = 0, 0.5, 1 and 2: from argmax to nearly uniform.',
    query: {
      prompt: 'It was a dark and stormy',
      settings: { ...DEFAULT_SETTINGS, temperature: '${t}', maxTokens: '12', numCompletions: '3', seed: '1' },
      environments: 't: [0, 0.5, 1, 2]',
    },
    note: temperatureNote,
  },
  {
    title: 'In-context learning: few-shot',
    description: 'Input/Output pairs in the prompt; a newline stop sequence ends the answer.',
    query: {
      prompt: 'Input: the cat\nOutput: the cats\nInput: the house\nOutput: the houses\nInput: the dog\nOutput:',
      settings: { ...DEFAULT_SETTINGS, temperature: '0', maxTokens: '6', stopSequences: '\\n' },
      environments: '',
    },
    note: inContextNote,
  },
  {
    title: 'Analogies',
    description: 'sky : blue :: grass : ?',
    query: { prompt: 'sky : blue :: grass :', settings: { ...DEFAULT_SETTINGS, temperature: '0', maxTokens: '3', stopSequences: '\\n' }, environments: '' },
    note: inContextNote,
  },
];
