/**
 * The default of every `lmPlayground.*` setting: what the code falls back on when VS Code has no
 * value for it. package.json declares the same defaults for the settings editor; a unit test checks
 * that the two agree, key by key. (No `vscode` import: the test reads this file in plain Node.)
 */
import { DEFAULT_MAX_DOWNLOAD_BYTES } from '../node/hubDownload';

export interface SettingValues {
  model: string;
  device: string;
  dtype: string;
  preferQuantized: boolean;
  contextChars: number;
  'generation.temperature': number;
  'generation.maxTokens': number;
  'generation.stopSequences': string[];
  'generation.stopAtBlankLine': boolean;
  'generation.numCompletions': number;
  'generation.topK': number;
  'generation.topP': number;
  'generation.seed': number | null;
  'hover.enabled': boolean;
  'hover.languages': string[];
  'hover.topK': number;
  'hover.warmUp': boolean;
  'hub.baseUrl': string;
  'hub.maxDownloadBytes': number;
  'inline.enabled': boolean;
  'inline.languages': string[];
  'inline.debounceMs': number;
  'inline.maxTokens': number;
  'inline.temperature': number;
  'inline.stopAtLineEnd': boolean;
  'inline.maxWords': number;
  'inline.stopSequences': string[];
  'heatmap.colorBy': string;
  'heatmap.rankThresholds': number[];
  'heatmap.probabilityThresholds': number[];
  'heatmap.maxChars': number;
  'metrics.enabled': boolean;
  'metrics.languages': string[];
  'metrics.maxChars': number;
}

export const SETTING_DEFAULTS: Readonly<SettingValues> = {
  model: 'ngram-classics',
  device: 'auto',
  dtype: 'auto',
  preferQuantized: false,
  contextChars: 4000,
  'generation.temperature': 0.7,
  'generation.maxTokens': 24,
  'generation.stopSequences': [],
  'generation.stopAtBlankLine': true,
  'generation.numCompletions': 1,
  'generation.topK': 0,
  'generation.topP': 1,
  'generation.seed': null,
  'hover.enabled': true,
  'hover.languages': ['plaintext', 'markdown'],
  'hover.topK': 5,
  'hover.warmUp': true,
  'hub.baseUrl': 'https://huggingface.co',
  'hub.maxDownloadBytes': DEFAULT_MAX_DOWNLOAD_BYTES,
  'inline.enabled': true,
  'inline.languages': ['plaintext', 'markdown'],
  'inline.debounceMs': 150,
  'inline.maxTokens': 16,
  'inline.temperature': 0,
  'inline.stopAtLineEnd': true,
  'inline.maxWords': 8,
  'inline.stopSequences': [],
  'heatmap.colorBy': 'rank',
  'heatmap.rankThresholds': [10, 100, 1000],
  'heatmap.probabilityThresholds': [0.1, 0.01, 0.001],
  'heatmap.maxChars': 2_000_000,
  'metrics.enabled': true,
  'metrics.languages': ['plaintext', 'markdown'],
  'metrics.maxChars': 50_000,
};
