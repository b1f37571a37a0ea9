/** Built-in playground examples, after the lecture's. */
import { DEFAULT_SETTINGS, type Query } from './query';

export interface GalleryExample {
  title: string;
  description: string;
  query: Query;
}

const scoring = { ...DEFAULT_SETTINGS, echoPrompt: true, maxTokens: '0', temperature: '0' };

export const GALLERY: readonly GalleryExample[] = [
  {
    title: 'Sequence scoring: grammatical, implausible, ungrammatical',
    description: 'With echo prompt and max tokens 0 the prompt itself is scored: p(x1..xL) by the chain rule.',
    query: { prompt: '${sentence}', settings: scoring, environments: 'sentence: [the mouse ate the cheese, the cheese ate the mouse, mouse the the cheese ate]' },
  },
  {
    title: 'Bias probe: the software developer',
    description: 'Compare sentences that differ in one word.',
    query: { prompt: 'The software developer finished the program. ${pronoun} celebrated.', settings: scoring, environments: 'pronoun: [He, She]' },
  },
  {
    title: 'Temperature',
    description: 'The same prompt at T = 0, 0.5, 1 and 2: from argmax to nearly uniform.',
    query: { prompt: 'It was a dark and stormy', settings: { ...DEFAULT_SETTINGS, temperature: '${t}', maxTokens: '12', numCompletions: '3', seed: '1' }, environments: 't: [0, 0.5, 1, 2]' },
  },
  {
    title: 'In-context learning: few-shot',
    description: 'Input/Output pairs in the prompt; a newline stop sequence ends the answer.',
    query: {
      prompt: 'Input: the cat\nOutput: the cats\nInput: the house\nOutput: the houses\nInput: the dog\nOutput:',
      settings: { ...DEFAULT_SETTINGS, temperature: '0', maxTokens: '6', stopSequences: '\\n' },
      environments: '',
    },
  },
  {
    title: 'Analogies',
    description: 'sky : blue :: grass : ?',
    query: { prompt: 'sky : blue :: grass :', settings: { ...DEFAULT_SETTINGS, temperature: '0', maxTokens: '3', stopSequences: '\\n' }, environments: '' },
  },
];
