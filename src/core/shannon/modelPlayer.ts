/** The model's turn at the Shannon game: for each character, its guess count and surprisal. */
import { throwIfCancelled, type CancelSignal } from '../errors';
import { characters, modelPrefix, type GameState } from './game';
import { guessRank, type NextCharPredictor } from './nextCharDistribution';

export interface ModelGuess {
  position: number;
  /** Guesses a player ranking characters by the model's probability needs. */
  rank: number;
  /** −log2 of the model's probability of the true character. */
  bits: number;
}

/** Plays characters `from` .. `to` (exclusive) in order, reporting each as it is done. */
export async function playModel(
  predictor: NextCharPredictor,
  game: GameState,
  from: number,
  to: number,
  onGuess: (g: ModelGuess) => void,
  signal?: CancelSignal,
): Promise<void> {
  const chars = characters(game);
  const symbols = predictor.alphabet.symbols;
  let slice = Date.now();
  for (let i = from; i < Math.min(to, chars.length); i++) {
    // A model in the caller's thread would otherwise hold it for the whole text.
    if (Date.now() - slice > 15) {
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
      slice = Date.now();
    }
    throwIfCancelled(signal);
    const { prefix, atStart } = modelPrefix(game, i);
    const p = await predictor.distribution(prefix, atStart, signal);
    const truth = symbols.indexOf(chars[i]);
    if (truth < 0) throw new Error(`character ${JSON.stringify(chars[i])} at ${i} is not in the game's alphabet`);
    onGuess({ position: i, rank: guessRank(p, truth), bits: -Math.log2(p[truth]) });
  }
}
