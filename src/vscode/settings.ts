/** Typed access to the `lmPlayground.*` settings (declared with defaults in package.json). */
import * as vscode from 'vscode';
import type { GenerationOptions } from '../core/generation';
import { isRemoteSpec } from '../core/remote/remoteRef';
import { PREFER_QUANTIZED, isDtypeSetting, type DtypeRequest } from '../core/neural/onnxVariants';
import type { HeatmapSettings } from '../editor/heatmapBuckets';
import type { InlineOptions } from '../editor/inlineEngine';
import { SETTING_DEFAULTS, type SettingValues } from './settingDefaults';

export const SECTION = 'lmPlayground';

export interface HoverSettings {
  enabled: boolean;
  languages: string[];
  topK: number;
}

function config(scope?: vscode.ConfigurationScope): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration(SECTION, scope);
}

/** A setting's value, or its default (settingDefaults.ts, the same as package.json's) when it has none. */
export function read<K extends keyof SettingValues>(c: vscode.WorkspaceConfiguration, key: K): SettingValues[K] {
  return c.get<SettingValues[K]>(key, SETTING_DEFAULTS[key]);
}

/**
 * The model setting. A workspace may name a model file but never a server: a URL there would send
 * the user's text wherever a cloned repository points, so it is ignored (`workspaceRemoteModel`
 * says which) and the user's own setting applies.
 */
export function modelSetting(): string {
  const c = config();
  if (workspaceRemoteModel() === undefined) return read(c, 'model').trim();
  const user = c.inspect<string>('model')?.globalValue;
  return (typeof user === 'string' ? user : SETTING_DEFAULTS.model).trim();
}

/** A remote model (URL) that the workspace's or a folder's settings name, which is ignored. */
export function workspaceRemoteModel(): string | undefined {
  const inspected = config().inspect<string>('model');
  const fromWorkspace = [inspected?.workspaceFolderValue, inspected?.workspaceValue].find((v) => typeof v === 'string' && v.trim());
  return fromWorkspace !== undefined && isRemoteSpec(fromWorkspace) ? fromWorkspace.trim() : undefined;
}

/**
 * `lmPlayground.dtype`, the precision variant of a neural model's graph. While it is `auto`, the
 * older `lmPlayground.preferQuantized: true` still counts: the 8-bit graph first, then auto's order.
 */
export function dtypeSetting(): DtypeRequest {
  const c = config();
  const dtype = read(c, 'dtype');
  if (dtype !== 'auto') return { setting: isDtypeSetting(dtype) ? dtype : 'auto' };
  return read(c, 'preferQuantized') ? { setting: 'auto', prefer: PREFER_QUANTIZED } : { setting: 'auto' };
}

export type DeviceSetting = 'auto' | 'native' | 'wasm' | 'webgpu';

export function deviceSetting(): DeviceSetting {
  const d = read(config(), 'device');
  return d === 'native' || d === 'wasm' || d === 'webgpu' ? d : 'auto';
}

/** Characters of text before a position that the model is shown (a bounded context window). */
export function contextChars(): number {
  return clampInt(read(config(), 'contextChars'), 64, 1_000_000);
}

export function generationSettings(scope?: vscode.ConfigurationScope): GenerationOptions {
  const c = config(scope);
  const seed = read(c, 'generation.seed');
  return {
    temperature: Math.max(0, read(c, 'generation.temperature')),
    maxTokens: clampInt(read(c, 'generation.maxTokens'), 1, 4096),
    stopSequences: read(c, 'generation.stopSequences').filter((s) => typeof s === 'string' && s.length > 0),
    numCompletions: clampInt(read(c, 'generation.numCompletions'), 1, 16),
    topK: clampInt(read(c, 'generation.topK'), 0, 1_000_000),
    topP: Math.min(1, Math.max(1e-6, read(c, 'generation.topP'))),
    seed: typeof seed === 'number' && Number.isFinite(seed) ? Math.trunc(seed) : undefined,
    stopAtBlankLine: read(c, 'generation.stopAtBlankLine'),
  };
}

export function hoverSettings(scope?: vscode.ConfigurationScope): HoverSettings {
  const c = config(scope);
  return {
    enabled: read(c, 'hover.enabled'),
    languages: read(c, 'hover.languages'),
    topK: clampInt(read(c, 'hover.topK'), 1, 50),
  };
}

/** Whether a neural model warms its cache with the visible text's context before a hover (contextWarmup.ts). */
export function hoverWarmUp(scope?: vscode.ConfigurationScope): boolean {
  return read(config(scope), 'hover.warmUp');
}

export function heatmapSettings(): HeatmapSettings & { maxChars: number } {
  const c = config();
  const ranks = read(c, 'heatmap.rankThresholds');
  const probs = read(c, 'heatmap.probabilityThresholds');
  /** Three finite numbers in the order `ok` checks, else the defaults. */
  const three = (v: number[], fallback: number[], ok: (a: number[]) => boolean): [number, number, number] => {
    const t = Array.isArray(v) && v.length === 3 && v.every((x) => Number.isFinite(x)) && ok(v) ? v : fallback;
    return [t[0], t[1], t[2]];
  };
  return {
    mode: read(c, 'heatmap.colorBy') === 'probability' ? 'probability' : 'rank',
    rankThresholds: three(ranks, SETTING_DEFAULTS['heatmap.rankThresholds'], (a) => a[0] >= 1 && a[0] <= a[1] && a[1] <= a[2]),
    probabilityThresholds: three(probs, SETTING_DEFAULTS['heatmap.probabilityThresholds'], (a) => a[0] <= 1 && a[0] >= a[1] && a[1] >= a[2] && a[2] > 0),
    maxChars: clampInt(read(c, 'heatmap.maxChars'), 1000, 100_000_000),
  };
}

export function inlineSettings(scope?: vscode.ConfigurationScope): InlineOptions & { enabled: boolean; languages: string[] } {
  const c = config(scope);
  return {
    enabled: read(c, 'inline.enabled'),
    languages: read(c, 'inline.languages'),
    debounceMs: clampInt(read(c, 'inline.debounceMs'), 0, 5000),
    maxTokens: clampInt(read(c, 'inline.maxTokens'), 1, 256),
    temperature: Math.max(0, read(c, 'inline.temperature')),
    stopAtLineEnd: read(c, 'inline.stopAtLineEnd'),
    maxWords: clampInt(read(c, 'inline.maxWords'), 0, 1000),
    stopSequences: read(c, 'inline.stopSequences').filter((s) => typeof s === 'string' && s.length > 0),
  };
}

export function metricsSettings(scope?: vscode.ConfigurationScope): { enabled: boolean; languages: string[]; maxChars: number } {
  const c = config(scope);
  return {
    enabled: read(c, 'metrics.enabled'),
    languages: read(c, 'metrics.languages'),
    maxChars: clampInt(read(c, 'metrics.maxChars'), 1000, 100_000_000),
  };
}

function clampInt(v: number, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) return min;
  return Math.min(max, Math.max(min, Math.trunc(v)));
}
