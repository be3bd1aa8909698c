/**
 * Router overhead: throughput and added latency of going through meshd's router versus calling a
 * simulator directly, in the same run on the same machine (wrk, HTTP/1.1 keep-alive).
 *
 *   npm run bench:router [-- --seconds 10 --connections 32]
 *
 * The simulator (`mesh-sim`) and the router (`meshd`) run as their own processes, as in production;
 * the simulator runs at a huge time scale so its own step time is negligible and what is measured is
 * HTTP handling: the router's parse, pick, forward and relay. Results go to bench/results/.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { spawnMeshd, spawnSim } from '../test/helpers/processes.ts';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '32' } },
});
const run = promisify(execFile);
const seconds = Number(values.seconds);
const connections = Number(values.connections);

const body = JSON.stringify({ model: 'sim-llama-3-8b', prompt: 'The quick brown fox', max_tokens: 4 });

/** One wrk run (microsecond latency percentiles); throws on any non-2xx answer or socket error. */
async function measure(url: string, title: string) {
  const script = join(mkdtempSync(join(tmpdir(), 'bench-')), 'post.lua');
  writeFileSync(
    script,
    `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = ${JSON.stringify(body)}\n`,
  );
  const args = [
    '-t2',
    `-c${connections}`,
    `-d${seconds}s`,
    '--latency',
    '-s',
    script,
    `${url}/v1/completions`,
  ];
  const { stdout } = await run('wrk', args);
  if (/Non-2xx|Socket errors/.test(stdout)) throw new Error(`${title}: errors\n${stdout}`);
  const percentile = (p: string) => toMs(stdout.match(new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)`, 'm')));
  return {
    title,
    requestsPerSecond: Number(stdout.match(/Requests\/sec:\s+([\d.]+)/)?.[1]),
    latencyMs: { p50: percentile('50'), p90: percentile('90'), p99: percentile('99') },
  };
}

function toMs(match: RegExpMatchArray | null): number {
  if (!match) throw new Error('wrk printed no latency distribution');
  const value = Number(match[1]);
  return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value;
}

const sim = await spawnSim(['--time-scale', '100000', '--max-num-seqs', '256']);
const meshd = await spawnMeshd({
  apiVersion: 'infermesh/v1',
  node: { id: 'bench', roles: ['router', 'gpu'] },
  api: { port: 0 },
  metrics: { port: 0 },
  log: { level: 'warn' },
  router: { listen: { port: 0 } },
  gpu: { runtimes: [{ name: 'sim', url: sim.url }] },
});
const routerUrl = meshd.urls.router;

// Warm both paths (JIT, connection pools) before measuring.
await measure(sim.url, 'warm-up');
await measure(routerUrl, 'warm-up');
const direct = await measure(sim.url, 'direct to simulator');
const routed = await measure(routerUrl, 'through router');
await meshd.stop();
await sim.stop();

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
- workload: ${connections} keep-alive connections for ${seconds} s each, \`POST /v1/completions\` (max_tokens 4, not streamed), \`mesh-sim\` at time scale 100000 (its step time is negligible) and \`meshd\` each in their own process; wrk, router and simulator share the machine's cores.

| path | req/s | p50 ms | p90 ms | p99 ms |
|---|---|---|---|---|
| direct to simulator | ${direct.requestsPerSecond.toFixed(0)} | ${direct.latencyMs.p50} | ${direct.latencyMs.p90} | ${direct.latencyMs.p99} |
| through router | ${routed.requestsPerSecond.toFixed(0)} | ${routed.latencyMs.p50} | ${routed.latencyMs.p90} | ${routed.latencyMs.p99} |

Added latency: p50 ${added.p50.toFixed(2)} ms, p99 ${added.p99.toFixed(2)} ms. Throughput through the router: ${(report.throughputRatio * 100).toFixed(0)}% of direct.
`;
writeFileSync(new URL('results/router-overhead.md', import.meta.url), md);
process.stdout.write(md);
