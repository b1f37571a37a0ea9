/** `lmp`: the LM core on the command line, for scripting and benchmarks. */
import { CancelledError, LmError } from '../core/errors';
import { LAYOUT_SUMMARY } from '../core/neural/hfLayout';
import { setFixAudience } from '../core/remote/fixHints';
import { exitOnTerminationSignals } from '../node/atomicWrite';
import { benchNeural } from '../node/neuralBench';
import { onnxBackend } from '../node/backends/onnxBackend';
import { listEmbeddedModels, recognizeModel } from '../node/modelLoader';
import { generateCommand } from './generate';
import { intOption, parse } from './options';
import { convertNgram } from './convert';
import { StreamOut, type Out } from './output';
import { score } from './score';
import { serveCommand } from './serve';
import { trainNgram } from './train';

const USAGE = `lmp — LM Playground on the command line

Usage:
  lmp train-ngram --order N (--arpa OUT.arpa | --binary OUT.ngram[.gz]) [--tokens whitespace|editor]
                  [--name NAME] [--planes] [--discount-fallback] FILE...
      Interpolated modified Kneser-Ney as KenLM's lmplz. --tokens whitespace (default): one
      sentence per line, words split on whitespace (KenLM's convention, for ARPA interop);
      editor: each file is one sequence of editor tokens (words, punctuation, spaces, newlines);
      editor models are written with --binary only (ARPA words cannot hold spaces). A .gz binary
      stores its arrays in byte planes (format 3), which gzip about a fifth smaller; an
      uncompressed one stores them as in memory, so that loading views them in place, unless
      --planes asks for planes (a file shipped inside a zip, as the embedded model). Outputs are
      written to a temporary file beside them and renamed into place when complete.
  lmp convert IN OUT.ngram[.gz] [--name NAME] [--planes]
      Rewrites an n-gram model (an ARPA file, e.g. from KenLM's lmplz, gzipped or not, or an LM
      Playground file) as an LM Playground binary: loading it is one read instead of parsing text.
      The ARPA file is read as a stream (files of several GB convert in the memory of the model);
      the output is checksummed, written beside its target and renamed into place when complete.
      OUT.ngram keeps the arrays as in memory (fastest to load); OUT.ngram.gz is gzipped, in byte
      planes (smallest); --planes writes byte planes uncompressed (for a file that a zip carries).
  lmp score --model MODEL [--device auto|native|wasm] [--dtype DTYPE] [--json] [--details] [--top-k K] FILE...
      Scores each file by the chain rule. Each file starts a sequence with <s>, which is given
      (the first token is conditioned on <s>) and not scored. For whitespace models, tokens are
      the words plus one </s> per line break, as KenLM's query counts them. Neural models
      condition the first token on their BOS token (<|endoftext|> for the embedded ones); a model
      with none (no BOS in its config or tokenizer files) cannot score the first token: it is
      given, and stderr says so. A text of no token gives null for every average.
      Files are UTF-8 text (- reads standard input; a byte-order mark at the start is left out, as
      editors do), read and scored in chunks, so of any size;
      --details streams one line per token before the totals; with --json, an error after
      tokens were streamed closes the document with an "error" member (exit code 1).
  lmp generate --model MODEL [--device auto|native|wasm] [--dtype DTYPE] (--prompt TEXT | --prompt-file FILE)
               [--temperature T] [--max-tokens N] [--stop S]...
               [--num-completions K] [--top-k K] [--top-p P] [--seed S] [--top-k-per-token K]
               [--echo] [--json]
      --prompt-file FILE reads the prompt from a UTF-8 file (- for standard input), for prompts
      longer than a command line takes. Defaults, as vLLM's /v1/completions: --temperature 1,
      --max-tokens 16, --num-completions 1, no --stop, --top-k 0 and --top-p 1 (off), a seed drawn
      at random; the editor's are temperature 0.7 and 24 tokens (lmPlayground.generation.*).
  lmp serve --model MODEL [--host 127.0.0.1] [--port 8000] [--served-model-name NAME]
            [--concurrency N] [--queue N] [--max-body-bytes N] [--max-logprobs K] [--api-key KEY]
            [--device auto|native|wasm] [--dtype DTYPE]
      Serves the model over vLLM's OpenAI-compatible API: GET /v1/models, POST /v1/completions
      (echo, logprobs, prompt_logprobs, streaming), POST /tokenize, POST /detokenize. Listens on
      loopback unless --host says otherwise (port 0: any free port); --concurrency completions
      run at once (default 1), --queue more wait (default 32), more are refused with 503.
      --api-key (or LMP_SERVE_API_KEY) requires "Authorization: Bearer KEY". SIGINT or SIGTERM
      lets running requests finish (at most 10 s) and stops.
  lmp bench [--model FOLDER] [--runs N]
      Neural model speed: prefill and decode tokens/s, time to first token and load time for the
      engine on native onnxruntime and on WASM, against a bare onnxruntime-node loop.
  lmp models
      Lists the embedded models.

MODEL is an ARPA file, an LM Playground n-gram file or folder, a Hugging Face model folder
(${LAYOUT_SUMMARY}), the name of an embedded model, or a model on a server,
http(s)://HOST[:PORT]/v1#MODEL (vLLM, SGLang, \`lmp serve\`; llama.cpp and Ollama generate only:
add ?dialect=llama.cpp or ?dialect=ollama before the # to skip detection), with its API key, if any,
in the LMP_API_KEY variable. --device picks
where neural models run: native onnxruntime (default where available) or WASM; --dtype picks the
precision variant of the graph: auto (default: the fastest the folder has for that runtime),
fp32, fp16, q4, q4f16, int8, uint8, bnb4 or quantized (onnx/model.onnx, onnx/model_fp16.onnx, …);
--quantized, the older flag, prefers onnx/model_quantized.onnx (int8 weights).
Errors go to stderr with a non-zero exit code.`;

export async function main(argv: string[], out: Out = (s) => void process.stdout.write(s)): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'train-ngram':
      return trainNgram(rest, out);
    case 'score':
      return score(rest, out);
    case 'convert':
      return convertNgram(rest, out);
    case 'generate':
      return generateCommand(rest, out);
    case 'serve':
      return serveCommand(rest);
    case 'bench':
      return bench(rest, out);
    case 'models':
      for (const m of listEmbeddedModels()) await out(`${m}\n`);
      return 0;
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      await out(USAGE + '\n');
      return command === undefined ? 2 : 0;
    default:
      throw new LmError(`unknown command ${JSON.stringify(command)}; see lmp --help`);
  }
}

async function bench(args: string[], out: Out): Promise<number> {
  const { values } = parse(args, { model: { type: 'string' }, runs: { type: 'string' } });
  const model = recognizeModel(values.model ?? 'gpt-classics');
  // It compares the engine with bare onnxruntime on the same graph.
  if (model.backend !== onnxBackend) throw new LmError('lmp bench measures ONNX models: give a Hugging Face model folder or gpt-classics');
  const { results, prefill, decode } = await benchNeural(model.location, intOption(values.runs, 'runs', 5, 1, 100));
  await out(`prefill ${prefill} tokens, then ${decode} greedy tokens; medians\n`);
  await out('runner\tload s\tprefill tok/s\tdecode tok/s\tfirst token s\n');
  for (const r of results)
    await out(
      `${r.runner}\t${r.loadSeconds.toFixed(3)}\t${r.prefillTokensPerSecond.toFixed(0)}\t${r.decodeTokensPerSecond.toFixed(1)}\t${r.firstTokenSeconds.toFixed(4)}\n`,
    );
  return 0;
}

if (require.main === module) {
  // A remote model's messages name lmp's options, not the editor's commands.
  setFixAudience('cli');
  // A reader that went away (lmp score ... | head) ends the command quietly.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  // lmp serve shuts down on these signals itself, letting running requests finish.
  if (process.argv[2] !== 'serve') exitOnTerminationSignals();
  const stdout = new StreamOut();
  main(process.argv.slice(2), stdout.write).then(
    async (code) => {
      await stdout.flush();
      process.exit(code);
    },
    async (e) => {
      await stdout.flush().catch(() => undefined); // what was scored before the error
      if (e instanceof LmError || e instanceof CancelledError) process.stderr.write(`lmp: ${e.message}\n`);
      else process.stderr.write(`lmp: internal error: ${(e as Error).stack ?? e}\n`);
      process.exit(1);
    },
  );
}
