/**
 * A model backend, as the Node hosts (extension host, CLI, the engine's worker thread) see it: it
 * recognises the references it can open, opens them, and declares what its models offer and where
 * they run. The registry (registry.ts) lists them; see the README, "Adding a model backend".
 */
import type { BackendCapabilities } from '../../core/backends/capabilities';
import type { LanguageModel, Tokenizer } from '../../core/model';
import type { ModelDescription } from '../../core/engine/protocol';
import type { DtypeRequest } from '../../core/neural/onnxVariants';
import type { ModelFacts } from '../modelSummary';
import type { NodeDevice } from '../neuralLoader';

/** A model reference as the registry hands it to each backend in turn. */
export interface ModelReference {
  /** As given, trimmed: a path, an embedded model's name, or (later backends) a URL. */
  spec: string;
  /** The file or folder it names, absolute, when one exists there; absent when it names none (a URL). */
  path?: string;
  isDirectory?: boolean;
}

/** What a backend opens: its location (a file, a folder) and the model's name in the UI. */
export interface ModelLocation {
  location: string;
  name: string;
}

/** A reference that a backend recognised. */
export interface RecognizedModel extends ModelLocation {
  backend: ModelBackend;
  /** The reference as given. */
  spec: string;
  /** One of the models shipped with the extension (by name). */
  embedded: boolean;
}

export interface OpenOptions {
  /** Where an accelerated backend runs (backends without a device choice ignore it). */
  device?: NodeDevice;
  /** The precision variant of a graph to run (lmPlayground.dtype; embedded models run the one they ship). */
  dtype?: DtypeRequest;
  /** For `webviewFiles`: where the page's worker computes, and whether its GPU computes float16 (the graph is chosen for them). */
  webview?: { runtime: 'wasm' | 'webgpu'; float16?: boolean };
  /** Intra-op threads of a native runtime. */
  threads?: number;
  /** Cap on a model file's size and on what it decompresses to. */
  maxBytes?: number;
  /** The model opens in an engine whose host holds its tokenizer: a backend may then keep none until one is asked for. */
  tokenizerOnHost?: boolean;
  /** A remote model's API key (the extension's SecretStorage, the CLI's LMP_API_KEY); never in settings. */
  apiKey?: string;
}

/** A file a webview's worker loads a model from: read by the extension and posted as bytes. */
export interface WebviewFile {
  /** Absolute path. */
  path: string;
  /** Relative to the model, for messages ("onnx/model.onnx"). */
  name: string;
  /** Largest size the extension reads for a page. */
  maxBytes: number;
}

/** What a webview's worker needs to run a model: its files by role, and the runtime the page sends with them. */
export interface WebviewFiles {
  files: Record<string, WebviewFile>;
  runtime?: 'onnxruntime-web';
}

export interface ModelBackend {
  /** The registry's name, carried by the engine protocol's `load` and by each model's info. */
  readonly id: string;
  /** Its models in a few words, for a file dialog: "ARPA or LM Playground n-gram files (.arpa, .ngram, .gz)". */
  readonly label: string;
  /** The references it accepts, in words, for the message that lists what is accepted. */
  readonly accepts: string;
  /** Name endings offered in a file dialog. */
  readonly fileExtensions: readonly string[];
  readonly capabilities: BackendCapabilities;
  /**
   * What it would open for `ref` (a file or folder inside or at `ref.path`, or the reference
   * itself), or undefined when `ref` is not one of its models. Names and existence only: nothing
   * is parsed, so a broken model is recognised and then reported by `open` with its fault.
   */
  recognize(ref: ModelReference): string | undefined;
  /** The model's name in the UI when it is not its folder's (a GGUF file: the file's name, as a folder may hold several). */
  nameOf?(location: string): string;
  /** Opens the model on this thread (the CLI; the extension for backends that run on its thread; the engine's worker). */
  open(model: ModelLocation, options: OpenOptions): Promise<LanguageModel>;
  /** What LM: Select Model says of it, read from its files without loading it; undefined when nothing can be read. */
  facts(model: ModelLocation, options: OpenOptions): ModelFacts | undefined;
  /**
   * The tokenizer a host keeps while it runs the model in a worker (the tokenizer is needed
   * synchronously); required when `placements` has `node-worker` or `node-process`, or `devices` has `webgpu` (the
   * editor's model in a webview). The playground's own worker needs none: it tokenizes there.
   * `loaded`: what a Node worker's load answered, for a tokenizer made from it (an n-gram model's
   * vocabulary); absent for a webview.
   */
  hostTokenizer?(model: ModelLocation, options: OpenOptions, loaded?: ModelDescription): Tokenizer | Promise<Tokenizer>;
  /** Whether `hostTokenizer` is read from the model's files alone (no `loaded`): the host then reads it while the worker loads the model. */
  hostTokenizerFromFiles?: boolean;
  /**
   * Whether a model the backend could run in a worker thread runs on the host's thread instead,
   * being small enough that it loads there without blocking and answers faster without messages.
   */
  prefersHost?(model: ModelLocation): boolean;
  /**
   * The files of a model folder its numbers are read from, watched for a change on the disk (a
   * new export); a model that is one file is watched without it.
   */
  folderFiles?(folder: string): string[];
  /** The files a webview's worker loads it from; required when `placements` has `webview-worker`. */
  webviewFiles?(model: ModelLocation, options: OpenOptions): WebviewFiles;
}
