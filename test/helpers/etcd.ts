/**
 * Test fixture: real Debian etcd members on loopback, one or a three-member cluster, each with its
 * own data directory and free ports. Members can be stopped (SIGKILL, like a crash) and started
 * again on their data, which is how the tests take quorum away and give it back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Debian's `etcd-server` puts the binary. */
export const ETCD_BIN = process.env.ETCD_BIN ?? '/usr/bin/etcd';

/** Whether etcd is installed; tests pass `skip: etcdSkipReason()` to say why they did not run. */
export function etcdAvailable(): boolean {
  return existsSync(ETCD_BIN);
}

/** `false` when etcd is installed, else the message a skipped test shows. */
export function etcdSkipReason(): string | false {
  return etcdAvailable() ? false : `${ETCD_BIN} is missing (apt-get install etcd-server)`;
}

export interface EtcdCluster {
  /** Client URLs, one per member (`http://127.0.0.1:PORT`). */
  endpoints: string[];
  /** Kills member `i` (SIGKILL) and waits for it to exit. */
  stop(i: number): Promise<void>;
  /** Starts a stopped member again on its data directory; resolves once it answers /health. */
  start(i: number): Promise<void>;
  /** Kills every member and removes the data directories. */
  close(): Promise<void>;
}

export interface StartEtcdOptions {
  members: 1 | 3;
  /** Raft timings (etcd's defaults: 100 ms heartbeat, 1000 ms election timeout). */
  heartbeatMs?: number;
  electionMs?: number;
  /** How long to wait for the cluster to become healthy. */
  timeoutMs?: number;
}

/** A port free on 127.0.0.1 now: bind port 0, read it, let it go. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// Every member this process started, killed on exit however the test ends, so that no etcd outlives it.
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Starts `members` etcd processes and resolves once every one of them reports healthy. */
export async function startEtcd(opts: StartEtcdOptions): Promise<EtcdCluster> {
  if (!etcdAvailable()) throw new Error(`${ETCD_BIN} is missing (apt-get install etcd-server)`);
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const root = mkdtempSync(join(tmpdir(), 'etcd-'));
  const members: { name: string; client: number; peer: number; dir: string }[] = [];
  for (let i = 0; i < opts.members; i++) {
    members.push({
      name: `m${i}`,
      client: await freePort(),
      peer: await freePort(),
      dir: join(root, `m${i}`),
    });
  }
  const cluster = members.map((m) => `${m.name}=http://127.0.0.1:${m.peer}`).join(',');
  const endpoints = members.map((m) => `http://127.0.0.1:${m.client}`);
  const children: (ChildProcess | undefined)[] = members.map(() => undefined);
  const logs: string[] = members.map(() => '');

  const launch = (i: number) => {
    const m = members[i]!;
    const args = [
      `--name=${m.name}`,
      `--data-dir=${m.dir}`,
      `--listen-client-urls=${endpoints[i]}`,
      `--advertise-client-urls=${endpoints[i]}`,
      `--listen-peer-urls=http://127.0.0.1:${m.peer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${m.peer}`,
      `--initial-cluster=${cluster}`,
      '--initial-cluster-state=new',
      `--initial-cluster-token=infermesh-test-${members[0]!.peer}`,
      `--heartbeat-interval=${opts.heartbeatMs ?? 100}`,
      `--election-timeout=${opts.electionMs ?? 1000}`,
      '--logger=zap',
      '--log-level=warn',
    ];
    const child = spawn(ETCD_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    // Keep only the tail of the log: enough to explain a failure to start.
    child.stderr.on('data', (d: Buffer) => (logs[i] = (logs[i] + d.toString()).slice(-4000)));
    live.add(child);
    child.on('exit', () => live.delete(child));
    children[i] = child;
  };

  const waitHealthy = async (indexes: number[]) => {
    const deadline = Date.now() + timeoutMs;
    for (const i of indexes) {
      while (!(await healthy(endpoints[i]!))) {
        const child = children[i];
        if (!child || child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`etcd member ${i} exited early:\n${logs[i]}`);
        }
        if (Date.now() > deadline) {
          throw new Error(`etcd member ${i} not healthy after ${timeoutMs} ms:\n${logs[i]}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };

  const stop = async (i: number) => {
    const child = children[i];
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  };

  const all = members.map((_, i) => i);
  all.forEach(launch);
  try {
    await waitHealthy(all);
  } catch (err) {
    await Promise.all(all.map(stop));
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  return {
    endpoints,
    stop,
    async start(i) {
      const child = children[i];
      if (child && child.exitCode === null && child.signalCode === null) return;
      launch(i);
      // Alone, a member of a cluster without quorum never reports healthy: wait only until it listens.
      const deadline = Date.now() + timeoutMs;
      while (!(await answers(endpoints[i]!))) {
        if (Date.now() > deadline) throw new Error(`etcd member ${i} did not restart:\n${logs[i]}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async close() {
      await Promise.all(all.map(stop));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** etcd's /health: `{"health":"true"}` once the member has a leader and can serve. */
async function healthy(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await res.json()) as { health?: string };
    return body.health === 'true';
  } catch {
    return false;
  }
}

/** Whether the member's client port answers HTTP at all (healthy or not). */
async function answers(endpoint: string): Promise<boolean> {
  try {
    await fetch(`${endpoint}/version`, { signal: AbortSignal.timeout(1000) });
    return true;
  } catch {
    return false;
  }
}
