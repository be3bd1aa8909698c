/**
 * `mesh-sim`: runs one simulated GPU runtime (vLLM's API, or TGI's or Triton's with `--flavor`)
 * until SIGINT/SIGTERM. Runs at import (bin/mesh-sim.js imports this module through launch()).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { createSimServer } from './server.ts';

function int(min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
    return n;
  };
}

function positive(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

const program = new Command('mesh-sim')
  .description('A simulated GPU LLM runtime speaking the vLLM OpenAI-compatible API and metrics')
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--port <port>', 'port to listen on (0 picks a free one)', int(0), 8000)
  .option('--model <name>', 'served model name', 'sim-llama-3-8b')
  .addOption(new Option('--profile <gpu>', 'GPU step-time profile').choices(['h100', 'a100']).default('h100'))
  // No defaults here: unset limits are sized from the profile's GPU as vLLM sizes them (sizing.ts).
  .option('--max-num-seqs <n>', "most requests in the running batch (default: vLLM's for the GPU)", int(1))
  .option('--kv-blocks <n>', 'KV cache size in blocks of 16 tokens (default: what fits in the GPU)', int(1))
  .option(
    '--max-num-batched-tokens <n>',
    "token budget of one step, chunked prefill (default: vLLM's for the GPU)",
    int(1),
  )
  .option('--time-scale <x>', 'speed-up over real time (>1 is faster, same ratios)', positive, 1)
  .option('--seed <n>', 'seed for generated text', int(-(2 ** 31)), 1)
  .addOption(
    new Option('--flavor <runtime>', 'whose API and metrics to speak')
      .choices(['vllm', 'tgi', 'triton'])
      .default('vllm'),
  )
  .option(
    '--kv-events-port <port>',
    'publish vLLM-format KV-cache events on a ZeroMQ PUB socket at this port (0 picks a free one)',
    int(0),
  )
  .option('--kv-events-replay-port <port>', 'its ROUTER replay socket (default: a free port)', int(0))
  .option('--kv-events-topic <topic>', 'its topic (default empty)', '')
  .showHelpAfterError();

program.parse(process.argv);
const o = program.opts<{
  host: string;
  port: number;
  model: string;
  profile: 'h100' | 'a100';
  maxNumSeqs?: number;
  kvBlocks?: number;
  maxNumBatchedTokens?: number;
  timeScale: number;
  seed: number;
  flavor: 'vllm' | 'tgi' | 'triton';
  kvEventsPort?: number;
  kvEventsReplayPort?: number;
  kvEventsTopic: string;
}>();

const { kvEventsPort, kvEventsReplayPort, kvEventsTopic, ...rest } = o;
const sim = await createSimServer({
  ...rest,
  ...(kvEventsPort === undefined
    ? {}
    : {
        kvEvents: {
          port: kvEventsPort,
          topic: kvEventsTopic,
          ...(kvEventsReplayPort === undefined ? {} : { replayPort: kvEventsReplayPort }),
        },
      }),
});
const e = sim.engine;
process.stdout.write(
  `mesh-sim listening on ${sim.url} flavor=${o.flavor} model=${o.model} profile=${o.profile} time-scale=${o.timeScale} max-num-seqs=${e.maxNumSeqs} kv-blocks=${e.numBlocks} max-num-batched-tokens=${e.maxNumBatchedTokens}\n`,
);
if (sim.kvEvents) {
  process.stdout.write(
    `mesh-sim kv events on ${sim.kvEvents.endpoint}${sim.kvEvents.replayEndpoint ? ` replay ${sim.kvEvents.replayEndpoint}` : ''}\n`,
  );
}

let stopping = false;
const stop = (signal: NodeJS.Signals) => {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`mesh-sim: ${signal}, shutting down\n`);
  sim.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
