/** Errors meant for the user: the message says what is wrong and where. */
export class LmError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LmError';
  }
}

/**
 * A request that failed because the model's engine (worker or process) stopped under it. Whoever
 * watches the engine's health tells the user once, naming the model: the features whose requests
 * fail with it log it rather than say it a second time.
 */
export class EngineStoppedError extends LmError {
  constructor(message: string) {
    super(message);
    this.name = 'EngineStoppedError';
  }
}

/** A model file that cannot be read; `line` is 1-based where the format has lines. */
export class ModelFormatError extends LmError {
  constructor(
    message: string,
    readonly file?: string,
    readonly line?: number,
  ) {
    // Without a file the message is taken as complete (e.g. forwarded from an engine worker).
    super(file ? `${file}${line !== undefined ? `:${line}` : ''}: ${message}` : message);
    this.name = 'ModelFormatError';
  }
}

export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

/** Minimal cancellation signal shared by every host (AbortSignal, VS Code tokens adapt to it). */
export interface CancelSignal {
  readonly cancelled: boolean;
}

export function throwIfCancelled(signal?: CancelSignal): void {
  if (signal?.cancelled) throw new CancelledError();
}
