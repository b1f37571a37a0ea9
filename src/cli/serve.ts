/** `lmp serve`: one model behind vLLM's OpenAI-compatible API, until SIGINT or SIGTERM. */
import { LmError } from '../core/errors';
import { loadModel, recognizeModel } from '../node/modelLoader';
import { DEFAULT_MAX_BODY_BYTES, OpenAiServer } from '../node/openaiServer/httpServer';
import { maxModelLen } from '../node/openaiServer/servedModel';
import { deviceOption, dtypeOption, noteIgnoredDtype, noteModelWarning, intOption, parse } from './options';
import { SIDE_LANE_TOKENS } from '../core/cacheLanes';

/** How long shutting down waits for running requests before cancelling them. */
const SHUTDOWN_GRACE_MS = 10_000;

export async function serveCommand(args: string[]): Promise<number> {
  const { values } = parse(args, {
    model: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    'served-model-name': { type: 'string' },
    concurrency: { type: 'string' },
    queue: { type: 'string' },
    'max-body-bytes': { type: 'string' },
    'max-logprobs': { type: 'string' },
    'api-key': { type: 'string' },
    device: { type: 'string' },
    dtype: { type: 'string' },
    quantized: { type: 'boolean' },
  });
  if (!values.model) throw new LmError('give --model MODEL');
  const host = values.host ?? '127.0.0.1';
  const port = intOption(values.port, 'port', 8000, 0, 65535);
  const options = {
    host,
    port,
    concurrency: intOption(values.concurrency, 'concurrency', 1, 1, 256),
    queue: intOption(values.queue, 'queue', 32, 0, 100_000),
    maxBodyBytes: intOption(values['max-body-bytes'], 'max-body-bytes', DEFAULT_MAX_BODY_BYTES, 1024),
    maxLogprobs: intOption(values['max-logprobs'], 'max-logprobs', 20, 0, 100_000),
    apiKey: values['api-key'] ?? (process.env.LMP_SERVE_API_KEY || undefined),
    shutdownGraceMs: SHUTDOWN_GRACE_MS,
    log: (line: string) => void process.stderr.write(`lmp serve: ${line}\n`),
  };
  const model = await loadModel(values.model, undefined, { device: deviceOption(values.device), dtype: dtypeOption(values.dtype, values.quantized) });
  noteIgnoredDtype(values.dtype, model);
  noteModelWarning(model);
  if (options.concurrency > 1 && (model.info.backend === 'onnx' || model.info.backend === 'gguf')) {
    // Measured (hostile G5, docs/BENCHMARKS.md): with one cache two long completions at once took 45× (GGUF) and 12× (ONNX)
    // the time of one after the other; the side cache (cacheLanes.ts) holds only SIDE_LANE_TOKENS.
    options.log(
      `--concurrency ${options.concurrency} with a model computed here: it keeps two caches (a window, and a side one of about ${SIDE_LANE_TOKENS} tokens), so two completions at once run about as fast as one after the other only while one of them (prompt and output) fits in the side one; longer ones, or more than two at once, run their whole prompt again at each step, many times slower than 1, which runs them one after the other`,
    );
  }
  const name = values['served-model-name'] ?? recognizeModel(values.model).name;
  const server = new OpenAiServer({ name, model, created: Math.floor(Date.now() / 1000), maxModelLen: maxModelLen(model) }, options);
  let address;
  try {
    address = await server.listen();
  } catch (e) {
    model.dispose?.();
    throw new LmError(`cannot listen on ${host}:${port}: ${(e as Error).message}`);
  }
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  if (!isLoopback(address.address))
    options.log(`listening on ${shown}, which other machines can reach${options.apiKey ? '' : ' — with no API key (--api-key or LMP_SERVE_API_KEY)'}`);
  // Written at once, not batched as other commands' output: scripts wait for this line.
  process.stdout.write(`serving ${name} at http://${shown}:${address.port}/v1 (${model.info.description}); Ctrl+C stops\n`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  options.log(`${signal}: finishing running requests (at most ${SHUTDOWN_GRACE_MS / 1000} s), then stopping; a second signal stops at once`);
  const now = () => process.exit(signal === 'SIGINT' ? 130 : 143);
  process.once('SIGINT', now);
  process.once('SIGTERM', now);
  await server.close();
  model.dispose?.();
  options.log('stopped');
  return 0;
}

function isLoopback(address: string): boolean {
  return /^127\./.test(address) || address === '::1' || address === '::ffff:127.0.0.1';
}
