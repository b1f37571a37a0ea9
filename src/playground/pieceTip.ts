/**
 * What the playground's token tooltip says of one displayed piece: a token, or the byte tokens
 * that spell one character together ("é" as bytes C3 A9). The character's p is the product of its
 * tokens' p; the alternatives are those where the piece starts (its first token's), each shown as
 * text, or as its bytes when it holds part of a character ("byte C3", never "�").
 */
import type { GeneratedToken } from '../core/generation';
import { visibleToken } from '../core/numberFormat';
import { splitsCharacter, visibleTokenBytes } from '../core/tokenBytes';

export interface TipRow {
  /** "1", "2", … or the chosen token's rank when it is not among the top ones ("…" when unknown). */
  rank: string;
  label: string;
  logProb: number;
  chosen: boolean;
}

export interface PieceTip {
  /** The piece as shown, whitespace drawn. */
  shown: string;
  /** Σ ln p over its tokens. */
  logProb: number;
  /** The rank of a piece that is one token. */
  rank?: number;
  /** Tokens > 1: each of them ("byte C3") with its p. */
  spelledBy: { label: string; logProb: number }[];
  /** Whether every token of a piece of several holds part of a character. */
  byteTokens: boolean;
  /** At the piece's first token. */
  alternatives: TipRow[];
  /** Texts with whitespace the legend explains. */
  texts: string[];
}

/** A token or an alternative as shown: its text, or its bytes when its text cannot show them. */
export function tokenLabel(t: { text: string; bytes?: readonly number[] }): string {
  return t.bytes && splitsCharacter(t.bytes) ? visibleTokenBytes(t.bytes) : visibleToken(t.text);
}

export function pieceTip(tokens: readonly GeneratedToken[], text: string): PieceTip {
  const first = tokens[0];
  const alternatives: TipRow[] = (first.alternatives ?? []).map((a, i) => ({
    rank: String(i + 1),
    label: tokenLabel(a),
    logProb: a.logProb,
    chosen: a.id === first.id,
  }));
  if (first.alternatives && !first.alternatives.some((a) => a.id === first.id))
    alternatives.push({ rank: first.rank ? first.rank.toLocaleString('en-US') : '…', label: tokenLabel(first), logProb: first.logProb, chosen: true });
  const several = tokens.length > 1;
  return {
    shown: visibleToken(text),
    logProb: tokens.reduce((s, t) => s + t.logProb, 0),
    rank: several ? undefined : first.rank,
    spelledBy: several ? tokens.map((t) => ({ label: tokenLabel(t), logProb: t.logProb })) : [],
    byteTokens: several && tokens.every((t) => !!t.bytes && splitsCharacter(t.bytes)),
    alternatives,
    texts: [text, ...(first.alternatives ?? []).map((a) => a.text)],
  };
}
