/**
 * onnxruntime-node (1.30 on Linux and macOS) records usage events (the process, each session's
 * creation, run times) from the moment its native library loads: it keeps them in a SQLite file
 * under ~/.cache/Microsoft/DeveloperTools/.onnxruntime, queued for Microsoft's collector, with
 * background threads of its own. The extension talks to no server the user did not configure
 * (README, "Network"), and those threads take CPU time from the decode steps on a machine with few
 * cores (docs/BENCHMARKS.md, the SmolLM2-135M-shape section). The runtime reads
 * ORT_DISABLE_TELEMETRY from the process's environment when its library loads; transformers.js
 * sets it the same way. A value the user set is kept.
 */
export const ORT_TELEMETRY_VARIABLE = 'ORT_DISABLE_TELEMETRY';

/**
 * Called before onnxruntime-node is first required, and on a host's main thread before it starts a
 * worker that may load it: native code reads the process's own environment, which only the main
 * thread's `process.env` writes (a worker thread's is a copy of its own).
 */
export function optOutOfOnnxRuntimeTelemetry(): void {
  process.env[ORT_TELEMETRY_VARIABLE] ??= '1';
}
