/**
 * Lets the host's event loop run (messages, cancellation) without sleeping: `setTimeout(0)` waits
 * at least 1 ms in Node and 4 ms when nested in a browser, and on a loaded machine a process that
 * slept then waits again for a core. Node has `setImmediate`; browsers and workers get a macrotask
 * through a MessageChannel.
 */
export function yieldToHost(): Promise<void> {
  const host = globalThis as { setImmediate?: (callback: () => void) => unknown };
  if (typeof host.setImmediate === 'function') return new Promise((resolve) => host.setImmediate!(resolve));
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(undefined);
  });
}
