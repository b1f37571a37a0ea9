// The Web APIs the pure LM core may use: present in Node ≥ 18, browsers and Web Workers alike.
// Declared here (not via DOM or Node typings) so that nothing host-specific type-checks in src/core.
declare class TextEncoder {
  encode(input?: string): Uint8Array;
  encodeInto(source: string, destination: Uint8Array): { read: number; written: number };
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  decode(input?: Uint8Array, options?: { stream?: boolean }): string;
}
declare function setInterval(callback: () => void, ms: number): unknown;
declare function clearInterval(handle: unknown): void;
declare function setTimeout(callback: () => void, ms: number): unknown;
declare function clearTimeout(handle: unknown): void;
declare class URL {
  constructor(url: string, base?: string);
  readonly origin: string;
  readonly pathname: string;
  readonly hash: string;
  readonly username: string;
  readonly password: string;
  readonly searchParams: Iterable<[string, string]>;
}
declare class MessageChannel {
  readonly port1: { onmessage: ((event: unknown) => void) | null; close(): void };
  readonly port2: { postMessage(message: unknown): void };
}
