/**
 * Generation gives byte-identical completions for a grid of settings on both embedded models,
 * compared against a fixture recorded from an earlier implementation: a refactor of the sampling
 * or stopping code cannot change what a seed produces. To record the fixture again (only when a
 * change of output is intended): LMP_RECORD_GOLDEN=1 npx mocha --timeout 120000 out/test/unit/generationGolden.test.js
 */
import * as assert from 'assert';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { generate, type GenerationOptions } from '../../src/core/generation';
import type { LanguageModel } from '../../src/core/model';
import { loadModel } from '../../src/node/modelLoader';
import { loadHuggingFaceFolder } from '../../src/node/neuralLoader';
import { REPO } from './helpers';

const FIXTURE = path.join(REPO, 'test', 'unit', 'fixtures', 'generationGolden.json');

interface Case {
  prompt: string;
  options: GenerationOptions;
}

function cases(): Case[] {
  const out: Case[] = [];
  let n = 0;
  for (const temperature of [0, 0.7, 1, Infinity]) {
    for (const topK of [0, 5]) {
      for (const topP of [1, 0.9]) {
        for (const stopSequences of [undefined, [', ', 'he', '\n']]) {
          out.push({
            prompt: 'It was a dark and',
            options: {
              maxTokens: 12,
              temperature,
              topK,
              topP,
              stopSequences,
              numCompletions: 3,
              seed: 1000 + n,
              echoPrompt: n % 3 === 0,
              topKPerToken: n % 2 === 0 ? 3 : 0,
            },
          });
          n++;
        }
      }
    }
  }
  // The masks and the blank-line stop, which the grid does not reach.
  for (const temperature of [0, 1]) {
    out.push({ prompt: 'the mou', options: { maxTokens: 6, temperature, numCompletions: 3, seed: 7, healPartialWord: true } });
    out.push({ prompt: 'The end.\n', options: { maxTokens: 8, temperature, numCompletions: 3, seed: 8, noLeadingLineBreak: true } });
    out.push({ prompt: 'CHAPTER I.\n\n', options: { maxTokens: 40, temperature, numCompletions: 3, seed: 9, stopAtBlankLine: true } });
  }
  out.push({ prompt: 'The mouse ate the cheese.', options: { maxTokens: 0, temperature: 1, echoPrompt: true, topKPerToken: 2, seed: 10 } });
  return out;
}

/** A case's key in the fixture (JSON has no Infinity). */
function key(c: Case): string {
  return JSON.stringify({ prompt: c.prompt, ...c.options, temperature: String(c.options.temperature) });
}

/** What is compared: the visible texts and token ids, and a digest of everything else (log-probs, alternatives, the onToken calls). */
async function run(model: LanguageModel, c: Case): Promise<{ texts: string[]; ids: number[][]; finish: string[]; digest: string }> {
  const streamed: unknown[] = [];
  const completions = await generate(model, c.prompt, c.options, { onToken: (i, t) => streamed.push([i, t.id, t.text]) });
  // Without stopKind (which rule stopped a completion, added after the fixture was recorded; completionFit.test checks it):
  // the digests then show that nothing recorded changed with it.
  const recordedFields = completions.map(({ stopKind: _, ...rest }) => rest);
  const digest = createHash('sha256')
    .update(JSON.stringify({ completions: recordedFields, streamed }))
    .digest('hex');
  return {
    texts: completions.map((x) => x.text),
    ids: completions.map((x) => x.tokens.map((t) => t.id)),
    finish: completions.map((x) => x.finishReason),
    digest,
  };
}

describe('generation golden outputs (unchanged by refactors)', function () {
  this.timeout(180000);
  const models: Record<string, () => Promise<LanguageModel & { dispose?: () => void }>> = {
    'ngram-classics': () => loadModel('ngram-classics'),
    'gpt-classics': () => loadHuggingFaceFolder(path.join(REPO, 'models', 'gpt-classics'), 'gpt-classics'),
  };
  const recording = process.env.LMP_RECORD_GOLDEN === '1';
  const recorded: Record<string, Record<string, unknown>> = {};
  const expected: Record<string, Record<string, unknown>> = recording ? {} : JSON.parse(fs.readFileSync(FIXTURE, 'utf8'));

  for (const [name, load] of Object.entries(models)) {
    it(`${name}: the same completions for every setting in the grid`, async () => {
      const model = await load();
      try {
        recorded[name] = {};
        for (const c of cases()) {
          const got = await run(model, c);
          recorded[name][key(c)] = got;
          if (!recording) assert.deepStrictEqual(got, expected[name][key(c)], `${name} ${key(c)}`);
        }
        if (!recording) assert.strictEqual(Object.keys(expected[name]).length, cases().length);
      } finally {
        model.dispose?.();
      }
    });
  }

  after(() => {
    if (recording) fs.writeFileSync(FIXTURE, JSON.stringify(recorded, null, 1) + '\n');
  });
});
