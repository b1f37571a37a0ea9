/**
 * Requests per second that `lmp serve` sustains for 1-token completions with concurrent clients on
 * loopback, against the same completions made by `generate()` in this process (no HTTP, one after
 * another): the difference is what the protocol and the queue cost.
 */
import { generate } from '../src/core/generation';
import { loadModel } from '../src/node/modelLoader';
import { startServe } from './serveProcess';

export interface ServeBench {
  clients: number;
  requestsPerRun: number;
  /** Requests per second of each run through lmp serve. */
  served: number[];
  /** Requests per second of each run of generate() in process. */
  inProcess: number[];
}

/** Prompts of about 200 characters from the text, each different (a neural model's cache cannot reuse one for the next). */
function prompts(text: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => text.slice(i * 211, i * 211 + 200));
}

export async function benchServe(cli: string, spec: string, text: string, runs: number, clients = 8, requestsPerRun = 96): Promise<ServeBench> {
  const all = prompts(text, requestsPerRun);
  const serve = await startServe(cli, spec, ['--queue', String(clients * 2)]);
  const served: number[] = [];
  try {
    const url = `${serve.origin}/v1/completions`;
    const complete = async (prompt: string) => {
      const r = await fetch(url, { method: 'POST', body: JSON.stringify({ prompt, max_tokens: 1, temperature: 0 }) });
      const body = (await r.json()) as { usage?: { completion_tokens: number }; error?: { message: string } };
      if (r.status !== 200 || body.usage?.completion_tokens !== 1) throw new Error(`lmp serve answered ${r.status}: ${JSON.stringify(body.error ?? body)}`);
    };
    for (const p of all.slice(0, clients)) await complete(p); // warm-up: the first requests pay for lazy initialisation
    for (let run = 0; run < runs; run++) {
      let next = 0;
      const t0 = process.hrtime.bigint();
      await Promise.all(
        Array.from({ length: clients }, async () => {
          while (next < all.length) await complete(all[next++]);
        }),
      );
      served.push(all.length / (Number(process.hrtime.bigint() - t0) / 1e9));
    }
  } finally {
    await serve.stop();
  }
  const model = await loadModel(spec);
  const inProcess: number[] = [];
  try {
    for (const p of all.slice(0, clients)) await generate(model, p, { maxTokens: 1, temperature: 0 });
    for (let run = 0; run < runs; run++) {
      const t0 = process.hrtime.bigint();
      for (const p of all) await generate(model, p, { maxTokens: 1, temperature: 0 });
      inProcess.push(all.length / (Number(process.hrtime.bigint() - t0) / 1e9));
    }
  } finally {
    model.dispose?.();
  }
  return { clients, requestsPerRun, served, inProcess };
}
