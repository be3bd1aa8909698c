/**
 * One simulated GPU runtime for `bench:routing --mode real`: the same `createSimServer` that
 * `mesh-sim` runs, started with the one option the `mesh-sim` CLI does not expose, a long
 * `maxModelLen` (Mooncake prompts reach 126k tokens; mesh-sim's 8,192 would refuse half of them).
 * Prints mesh-sim's own "listening on" line so the same process fixture can wait for it; stops
 * on SIGINT/SIGTERM, and when its parent dies (stdin closes), so no simulator outlives a run.
 *
 *   node bench/routing/real-sim.ts '{"profile":"a100","timeScale":20,...}'
 */
import { createSimServer, type SimServerOptions } from '../../src/sim/server.ts';
import { stopWithParent } from '../lib/stop-with-parent.ts';

/** Longest prompt + output the benchmark's simulators accept (the virtual mode uses the same). */
export const REAL_SIM_MAX_MODEL_LEN = 262_144;

/** End of the start-up line: real-fleet.ts (`REAL_SIM_READY`) waits for it, so the line is complete. */
const REAL_SIM_READY = 'sim-ready';

const options = JSON.parse(process.argv[2] ?? '{}') as SimServerOptions;
const sim = await createSimServer({ maxModelLen: REAL_SIM_MAX_MODEL_LEN, port: 0, ...options });
// One write, ending in a marker the parent waits for, so it never parses a half-written URL.
// With `kvEvents`, the KV-event sockets too (vLLM's `--kv-events-config`), for precise profiles.
const kv = sim.kvEvents
  ? ` kv-events=${sim.kvEvents.endpoint} kv-replay=${sim.kvEvents.replayEndpoint ?? '-'}`
  : '';
process.stdout.write(
  `mesh-sim listening on ${sim.url} profile=${options.profile ?? 'h100'} time-scale=${options.timeScale ?? 1}${kv} ${REAL_SIM_READY}\n`,
);

stopWithParent(() => sim.close());
