/**
 * Test fixture: Debian's `prometheus` on loopback, run on the shipped `deploy/prometheus/prometheus.yml`
 * with its targets pointed at a running mesh, a scrape and rule interval short enough for a test,
 * the shipped rule files, and a temporary storage directory. Killed on exit however the test ends.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { bind } from '../../src/core/listen.ts';

/** Where Debian's `prometheus` package puts the server. */
export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? 'prometheus';
/** The shipped scrape config; its rule files are relative to it. */
export const SHIPPED_CONFIG = new URL('../../deploy/prometheus/prometheus.yml', import.meta.url).pathname;

/** `false` when prometheus is installed, else the message a skipped test shows. */
export function prometheusSkipReason(): string | false {
  return spawnSync(PROMETHEUS_BIN, ['--version']).error
    ? `${PROMETHEUS_BIN} is not installed (.ci/run installs Debian's prometheus)`
    : false;
}

/** What `startPrometheus` scrapes, how often, and how long it waits for the server. */
export interface PrometheusOptions {
  /** Job name → its `host:port` targets, replacing the shipped config's static ones; every shipped job needs one. */
  targets: Record<string, string[]>;
  /** Scrape and rule evaluation interval (the shipped 15 s would make a test wait minutes). */
  intervalS?: number;
  /** How long to wait for `/-/ready`. */
  timeoutMs?: number;
}

/** One answer of the HTTP API (`/api/v1/...`): `status` and `data`, or `errorType` and `error`. */
export interface ApiAnswer<T> {
  status: 'success' | 'error';
  data: T;
  errorType?: string;
  error?: string;
  warnings?: string[];
}

/** An instant vector sample of `/api/v1/query`. */
export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** A started prometheus and its HTTP API. */
export interface RunningPrometheus {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** The config it runs (the shipped one, adapted). */
  config: PrometheusConfig;
  /** GET `/api/v1/<path>` with `params`; the parsed answer, whatever its HTTP status. */
  api<T>(path: string, params?: Record<string, string | string[]>): Promise<ApiAnswer<T>>;
  /** An instant query that must succeed; its samples (an instant vector) or a scalar as one sample. */
  query(expr: string): Promise<Sample[]>;
  /** The tail of the server's log, to explain a failure. */
  log(): string;
  close(): Promise<void>;
}

/** The parts of a Prometheus config the fixture reads and rewrites. */
export interface PrometheusConfig {
  global?: Record<string, unknown>;
  rule_files?: string[];
  scrape_configs: Array<
    { job_name: string; static_configs?: Array<{ targets: string[] }> } & Record<string, unknown>
  >;
}

// Every server this process started, killed on exit so that no prometheus outlives its test:
// at a normal exit, and at a signal (then the signal is raised again, so the process still dies of it).
const live = new Set<ChildProcess>();
const killLive = () => {
  for (const child of live) child.kill('SIGKILL');
};
process.on('exit', killLive);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    killLive();
    process.kill(process.pid, signal);
  });
}

/**
 * The shipped config with the test's changes only: every job's static targets become its entry in
 * `targets` (job names, metric paths and relabelling stay as shipped), the intervals shrink to
 * `intervalS`, and rule files become absolute (the config is written elsewhere).
 */
export function adaptShippedConfig(targets: Record<string, string[]>, intervalS: number): PrometheusConfig {
  const shipped = parse(readFileSync(SHIPPED_CONFIG, 'utf8')) as PrometheusConfig;
  const base = resolve(SHIPPED_CONFIG, '..');
  const interval = `${intervalS}s`;
  return {
    ...shipped,
    global: {
      ...shipped.global,
      scrape_interval: interval,
      scrape_timeout: interval,
      evaluation_interval: interval,
    },
    rule_files: (shipped.rule_files ?? []).map((f) => resolve(base, f)),
    scrape_configs: shipped.scrape_configs.map((job) => {
      const jobTargets = targets[job.job_name];
      if (!jobTargets) throw new Error(`no test targets for the shipped job ${job.job_name}`);
      return {
        ...job,
        // A job's own interval would override the global one: the test's interval wins.
        ...(job.scrape_interval ? { scrape_interval: interval, scrape_timeout: interval } : {}),
        static_configs: [{ ...job.static_configs?.[0], targets: jobTargets }],
      };
    }),
  };
}

/** A port free on 127.0.0.1 now (through `bind`, so never one fetch() refuses). */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  const { port } = await bind(server, { host: '127.0.0.1', port: 0 });
  await new Promise((r) => server.close(r));
  return port;
}

/** Starts prometheus and resolves once it reports ready (its config and rule files loaded). */
export async function startPrometheus(opts: PrometheusOptions): Promise<RunningPrometheus> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const dir = mkdtempSync(join(tmpdir(), 'prometheus-'));
  const config = adaptShippedConfig(opts.targets, opts.intervalS ?? 1);
  const file = join(dir, 'prometheus.yml');
  writeFileSync(file, stringify(config));
  let logTail = '';
  let running: ChildProcess | undefined;
  let url = '';
  // Another process may take the free port between the probe and prometheus's own bind: try again.
  for (let attempt = 1; ; attempt++) {
    const port = await freeLoopbackPort();
    const started = spawn(
      PROMETHEUS_BIN,
      [
        `--config.file=${file}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    live.add(started);
    started.on('exit', () => live.delete(started));
    // Keep only the tail of the log: enough to explain a failure.
    started.stderr.on('data', (d: Buffer) => (logTail = (logTail + d.toString()).slice(-8000)));
    const candidate = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && started.exitCode === null && started.signalCode === null) {
      if (await ready(candidate)) {
        url = candidate;
        running = started;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (running) break;
    await kill(started);
    if (!/address already in use/.test(logTail) || attempt === 3) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`prometheus did not become ready within ${timeoutMs} ms:\n${logTail}`);
    }
  }
  const server = running;

  const api = async <T>(path: string, params: Record<string, string | string[]> = {}) => {
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) for (const one of [v].flat()) search.append(k, one);
    const res = await fetch(`${url}/api/v1/${path}?${search.toString()}`, {
      signal: AbortSignal.timeout(5000),
    });
    return (await res.json()) as ApiAnswer<T>;
  };
  return {
    url,
    config,
    api,
    async query(expr) {
      const answer = await api<{ resultType: string; result: unknown }>('query', { query: expr });
      if (answer.status !== 'success') throw new Error(`${expr}: ${answer.errorType}: ${answer.error}`);
      const { resultType, result } = answer.data;
      if (resultType === 'vector') return result as Sample[];
      if (resultType === 'scalar') return [{ metric: {}, value: result as [number, string] }];
      throw new Error(`${expr}: expected an instant vector or a scalar, got ${resultType}`);
    },
    log: () => logTail,
    async close() {
      await kill(server);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function ready(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** SIGTERM (prometheus closes its TSDB), SIGKILL if it has not exited within 3 s. */
async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}
