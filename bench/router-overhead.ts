/**
 * Router overhead: throughput and added latency of going through meshd's router versus calling a
 * simulator directly, in the same run on the same machine (autocannon, HTTP/1.1 keep-alive).
 *
 *   npm run bench:router [-- --seconds 10 --connections 32]
 *
 * The simulator runs at a huge time scale so its own step time is negligible and what is measured
 * is HTTP handling: the router's parse, pick, forward and relay. Results go to bench/results/.
 */
import autocannon from 'autocannon';
import { cpus, totalmem } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseConfig } from '../src/core/config.ts';
import { startMeshd } from '../src/agent/meshd.ts';
import { createLogger } from '../src/observability/log.ts';
import { createSimServer } from '../src/sim/server.ts';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '32' } },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);

const body = JSON.stringify({ model: 'sim-llama-3-8b', prompt: 'The quick brown fox', max_tokens: 4 });

async function measure(url: string, title: string) {
  const result = await autocannon({
    url: `${url}/v1/completions`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections,
    duration: seconds,
    title,
  });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${title}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return {
    title,
    requestsPerSecond: result.requests.average,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      mean: result.latency.mean,
    },
    total: result.requests.total,
  };
}

const sim = await createSimServer({
  host: '127.0.0.1',
  port: 0,
  model: 'sim-llama-3-8b',
  profile: 'h100',
  timeScale: 100_000,
  maxNumSeqs: 256,
  seed: 1,
});
const config = parseConfig({
  apiVersion: 'infermesh/v1',
  node: { id: 'bench', roles: ['router', 'gpu'] },
  api: { port: 0 },
  metrics: { port: 0 },
  log: { level: 'warn' },
  router: { listen: { port: 0 } },
  gpu: { runtimes: [{ name: 'sim', url: sim.url }] },
});
const meshd = await startMeshd(config, createLogger('warn'));

// Warm both paths (JIT, connection pools) before measuring.
await measure(sim.url, 'warm-up');
await measure(meshd.routerUrl!, 'warm-up');
const direct = await measure(sim.url, 'direct to simulator');
const routed = await measure(meshd.routerUrl!, 'through router');
await meshd.stop();
await sim.close();

const added = {
  p50: routed.latencyMs.p50 - direct.latencyMs.p50,
  p99: routed.latencyMs.p99 - direct.latencyMs.p99,
};
const report = {
  date: new Date().toISOString(),
  machine: {
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  },
  command: `npm run bench:router -- --seconds ${seconds} --connections ${connections}`,
  workload: { connections, seconds, request: 'POST /v1/completions, max_tokens 4, non-streamed' },
  direct,
  routed,
  addedLatencyMs: added,
  throughputRatio: routed.requestsPerSecond / direct.requestsPerSecond,
};
mkdirSync(new URL('results/', import.meta.url), { recursive: true });
writeFileSync(
  new URL('results/router-overhead.json', import.meta.url),
  JSON.stringify(report, null, 2) + '\n',
);
const md = `# Router overhead

- date: ${report.date}
- machine: ${report.machine.cpu}, ${report.machine.cores} cores, ${report.machine.memoryGiB} GiB, Node ${report.machine.node}
- command: \`${report.command}\`
- workload: ${connections} keep-alive connections for ${seconds} s each, \`POST /v1/completions\` (max_tokens 4, not streamed), simulator at time scale 100000 (its step time is negligible); load generator, router and simulator share the machine.

| path | req/s | p50 ms | p90 ms | p99 ms |
|---|---|---|---|---|
| direct to simulator | ${direct.requestsPerSecond.toFixed(0)} | ${direct.latencyMs.p50} | ${direct.latencyMs.p90} | ${direct.latencyMs.p99} |
| through router | ${routed.requestsPerSecond.toFixed(0)} | ${routed.latencyMs.p50} | ${routed.latencyMs.p90} | ${routed.latencyMs.p99} |

Added latency: p50 ${added.p50.toFixed(2)} ms, p99 ${added.p99.toFixed(2)} ms. Throughput through the router: ${(report.throughputRatio * 100).toFixed(0)}% of direct.
`;
writeFileSync(new URL('results/router-overhead.md', import.meta.url), md);
process.stdout.write(md);
