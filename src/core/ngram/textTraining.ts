/** Feeding text to the Kneser-Ney trainer in a pre-tokenizer's convention. */
import { KENLM_SPACE, editorPieces, type PretokenizerKind } from '../tokenizers/pretokenizers';
import type { KneserNeyTrainer } from './kneserNey';

/**
 * - `whitespace`: each line is a sentence of whitespace-separated words (lmplz's input format);
 * - `editor`: the whole text is one sequence of editor pieces, so line breaks and spacing are learnt.
 * Returns the number of sentences added.
 */
export function addTextToTrainer(trainer: KneserNeyTrainer, text: string, kind: PretokenizerKind): number {
  if (kind === 'editor') {
    trainer.addSentence(editorPieces(text.replace(/\0/g, ' ')).map((p) => p.text));
    return 1;
  }
  let count = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    trainer.addSentence(
      text
        .slice(start, end)
        .split(KENLM_SPACE)
        .filter((w) => w.length > 0),
    );
    count++;
    start = end + 1;
  }
  return count;
}
