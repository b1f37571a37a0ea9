/** Typed access to the `lmPlayground.*` settings (declared with defaults in package.json). */
import * as vscode from 'vscode';
import type { GenerationOptions } from '../core/generation';

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

export function preferQuantizedSetting(): boolean {
  return config().get<boolean>('preferQuantized', false);
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

function clampInt(v: number, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) return min;
  return Math.min(max, Math.max(min, Math.trunc(v)));
}
