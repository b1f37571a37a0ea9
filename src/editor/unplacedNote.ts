/**
 * What the hover, a selection's heat-map and the status bar's tooltip say when a text window's
 * tokens could not be given the windows the whole document is scored in (DocumentTokenIndex found
 * no place for it): one token far into a 10 MB file had three numbers, from the hover, a
 * selection's heat-map and `lmp score`, and nothing said why (hostile30 1).
 */
import type { TextWindow } from '../core/contextWindow';
import { MAX_COUNTED_CHARS, type WindowPlacement } from '../core/documentTokenIndex';
import type { LanguageModel } from '../core/model';

/** How a hover scores an unplaced window's token (hoverFacts.windowContextStart). */
export const HOVER_GIVEN = "it is given as many of the tokens before it as the model's window holds, read";
/** How a selection's heat-map and the status bar score an unplaced window's tokens (chunkContextStart from 0). */
export const SCOPE_GIVEN = 'its tokens are scored in windows counted';

/**
 * Why the tokens of `window` (starting at `at`, line and column 1-based) are not in the document's windows,
 * when `placement` is undefined and `model`'s numbers depend on where its windows start; undefined
 * where they are the document's (placed, or from its start) or where that makes no difference (an
 * n-gram model, a server that tokenizes only for itself, whose windows the README describes).
 */
export function unplacedNote(
  window: Pick<TextWindow, 'startOffset' | 'atStart'>,
  at: { line: number; column: number },
  model: LanguageModel,
  placement: WindowPlacement | undefined,
  given: string,
): string | undefined {
  if (placement || (window.startOffset === 0 && window.atStart) || model.info.capabilities.context !== 'window') return undefined;
  const server = model.server;
  if (server && (!server.tokenizeText || server.markovContext !== undefined)) return undefined;
  // A window inside a long line (no line start near its grid point) starts at a column of it (hostile31 F1).
  const from = `${at.line.toLocaleString('en-US')}${at.column > 1 ? `, column ${at.column.toLocaleString('en-US')}` : ''}`;
  const why =
    window.startOffset > MAX_COUNTED_CHARS
      ? `past the document's first ${MAX_COUNTED_CHARS.toLocaleString('en-US')} characters its tokens are not counted`
      : `the text from line ${from} was not found among the document's tokens`;
  return (
    `${why}, so ${given} from line ${from} on, not in windows counted from the document's start: ` +
    'lmp score of the file, and a heat-map or hover whose text starts elsewhere, can give other numbers'
  );
}
