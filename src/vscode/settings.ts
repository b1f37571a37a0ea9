/** Typed access to the `lmPlayground.*` settings (declared with defaults in package.json). */
import * as vscode from 'vscode';
import type { GenerationOptions } from '../core/generation';
import { PREFER_QUANTIZED, isDtypeSetting, type DtypeRequest } from '../core/neural/onnxVariants';
import type { HeatmapSettings } from '../editor/heatmapBuckets';
import type { InlineOptions } from '../editor/inlineEngine';

export const SECTION = 'lmPlayground';

export interface HoverSettings {
  enabled: boolean;
  languages: string[];
  topK: number;
}

function config(scope?: vscode.ConfigurationScope): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration(SECTION, scope);
}

export function modelSetting(): string {
  return config().get<string>('model', '').trim();
}

/**
 * `lmPlayground.dtype`, the precision variant of a neural model's graph. Where it is not set, the
 * older `lmPlayground.preferQuantized` still counts: true tries the 8-bit graph first, false full
 * precision (as it did), then `auto`'s order.
 */
export function dtypeSetting(): DtypeRequest {
  const c = config();
  const dtype = c.inspect<string>('dtype');
  const chosen = dtype?.workspaceFolderValue ?? dtype?.workspaceValue ?? dtype?.globalValue;
  if (chosen !== undefined) return { setting: isDtypeSetting(chosen) ? chosen : 'auto' };
  const legacy = c.inspect<boolean>('preferQuantized');
  const prefer = legacy?.workspaceFolderValue ?? legacy?.workspaceValue ?? legacy?.globalValue;
  if (prefer === undefined) return { setting: 'auto' };
  return { setting: 'auto', prefer: prefer ? PREFER_QUANTIZED : ['fp32'] };
}

export type DeviceSetting = 'auto' | 'native' | 'wasm' | 'webgpu';

export function deviceSetting(): DeviceSetting {
  const d = config().get<string>('device', 'auto');
  return d === 'native' || d === 'wasm' || d === 'webgpu' ? d : 'auto';
}

/** Characters of text before a position that the model is shown (a bounded context window). */
export function contextChars(): number {
  return clampInt(config().get<number>('contextChars', 4000), 64, 1_000_000);
}

export function generationSettings(scope?: vscode.ConfigurationScope): GenerationOptions {
  const c = config(scope);
  const seed = c.get<number | null>('generation.seed', null);
  return {
    temperature: Math.max(0, c.get<number>('generation.temperature', 0.7)),
    maxTokens: clampInt(c.get<number>('generation.maxTokens', 24), 1, 4096),
    stopSequences: c.get<string[]>('generation.stopSequences', []).filter((s) => typeof s === 'string' && s.length > 0),
    numCompletions: clampInt(c.get<number>('generation.numCompletions', 1), 1, 16),
    topK: clampInt(c.get<number>('generation.topK', 0), 0, 1_000_000),
    topP: Math.min(1, Math.max(1e-6, c.get<number>('generation.topP', 1))),
    seed: typeof seed === 'number' && Number.isFinite(seed) ? Math.trunc(seed) : undefined,
    stopAtBlankLine: c.get<boolean>('generation.stopAtBlankLine', true),
  };
}

export function hoverSettings(scope?: vscode.ConfigurationScope): HoverSettings {
  const c = config(scope);
  return {
    enabled: c.get<boolean>('hover.enabled', true),
    languages: c.get<string[]>('hover.languages', ['plaintext', 'markdown']),
    topK: clampInt(c.get<number>('hover.topK', 5), 1, 50),
  };
}

export function heatmapSettings(): HeatmapSettings & { maxChars: number } {
  const c = config();
  const ranks = c.get<number[]>('heatmap.rankThresholds', [10, 100, 1000]);
  const probs = c.get<number[]>('heatmap.probabilityThresholds', [0.1, 0.01, 0.001]);
  /** Three finite numbers in the order `ok` checks, else the defaults. */
  const three = (v: number[], fallback: [number, number, number], ok: (a: number[]) => boolean): [number, number, number] =>
    Array.isArray(v) && v.length === 3 && v.every((x) => Number.isFinite(x)) && ok(v) ? [v[0], v[1], v[2]] : fallback;
  return {
    mode: c.get<string>('heatmap.colorBy', 'rank') === 'probability' ? 'probability' : 'rank',
    rankThresholds: three(ranks, [10, 100, 1000], (a) => a[0] >= 1 && a[0] <= a[1] && a[1] <= a[2]),
    probabilityThresholds: three(probs, [0.1, 0.01, 0.001], (a) => a[0] <= 1 && a[0] >= a[1] && a[1] >= a[2] && a[2] > 0),
    maxChars: clampInt(c.get<number>('heatmap.maxChars', 2_000_000), 1000, 100_000_000),
  };
}

export function inlineSettings(scope?: vscode.ConfigurationScope): InlineOptions & { enabled: boolean; languages: string[] } {
  const c = config(scope);
  return {
    enabled: c.get<boolean>('inline.enabled', true),
    languages: c.get<string[]>('inline.languages', ['plaintext', 'markdown']),
    debounceMs: clampInt(c.get<number>('inline.debounceMs', 150), 0, 5000),
    maxTokens: clampInt(c.get<number>('inline.maxTokens', 16), 1, 256),
    temperature: Math.max(0, c.get<number>('inline.temperature', 0)),
    stopAtLineEnd: c.get<boolean>('inline.stopAtLineEnd', true),
    maxWords: clampInt(c.get<number>('inline.maxWords', 8), 0, 1000),
    stopSequences: c.get<string[]>('inline.stopSequences', []).filter((s) => typeof s === 'string' && s.length > 0),
  };
}

export function metricsSettings(scope?: vscode.ConfigurationScope): { enabled: boolean; languages: string[]; maxChars: number } {
  const c = config(scope);
  return {
    enabled: c.get<boolean>('metrics.enabled', true),
    languages: c.get<string[]>('metrics.languages', ['plaintext', 'markdown']),
    maxChars: clampInt(c.get<number>('metrics.maxChars', 200_000), 1000, 100_000_000),
  };
}

/** A language list setting: ids, or `*` for every language. */
export function languageEnabled(languages: readonly string[], languageId: string): boolean {
  return languages.includes('*') || languages.includes(languageId);
}

function clampInt(v: number, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) return min;
  return Math.min(max, Math.max(min, Math.trunc(v)));
}
