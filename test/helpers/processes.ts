/** Test and bench fixture: meshd and mesh-sim as real child processes, their printed URLs read from stdout. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

const root = new URL('../../', import.meta.url).pathname;

export interface MeshdProcess extends ChildHandle {
  /** URLs meshd printed; empty for a role it does not run. */
  urls: { router: string; api: string; metrics: string; gossip: string };
}

/** `opts.root`: run the bins of another checkout (e.g. a snapshot of this one) instead of this one. */
export async function spawnMeshd(
  config: object,
  timeoutMs = 20_000,
  opts: { root?: string } = {},
): Promise<MeshdProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'meshd-'));
  const file = join(dir, 'meshd.yaml');
  // The node's data (its embedded control store) beside its config, unless the test names a place.
  const node = (config as { node?: object }).node;
  writeFileSync(file, stringify({ ...config, node: { dataDir: join(dir, 'data'), ...node } }));
  const started = await spawnUntil(
    ['bin/meshd.js', 'start', '--config', file],
    'Ctrl-C drains it',
    timeoutMs,
    'ignore',
    opts.root,
  );
  const out = started.output();
  const pick = (label: RegExp) => out.match(label)?.[1] ?? '';
  return {
    ...started,
    urls: {
      router: pick(/router \(OpenAI API\): (https?:\/\/\S+)\/v1/),
      api: pick(/control API \(gRPC \+ Connect JSON\): (https?:\/\/\S+)/),
      metrics: pick(/metrics: (http:\/\/\S+)\/metrics/),
      gossip: pick(/gossip \(SWIM, UDP\+TCP\): (\S+)/),
    },
  };
}

/** `mesh-sim` as a child process; resolves with its URL once it listens. */
export async function spawnSim(args: string[], timeoutMs = 20_000): Promise<ChildHandle & { url: string }> {
  const started = await spawnUntil(
    ['bin/mesh-sim.js', '--port', '0', ...args],
    'mesh-sim listening on',
    timeoutMs,
  );
  return { ...started, url: started.output().match(/listening on (http:\/\/\S+)/)?.[1] ?? '' };
}

export interface ChildHandle {
  child: ChildProcess;
  output: () => string;
  /** Sends SIGINT and resolves with the exit code (bounded wait, then SIGKILL). */
  stop(): Promise<number | null>;
}

/**
 * A TypeScript file of the repo (path from the repo root) as a child process (Node strips its types); resolves
 * once its output contains `readyText`. `stdin: 'pipe'` keeps a pipe open to the child, so a child
 * that watches its stdin can stop when this process dies, however it dies.
 */
export async function spawnScript(
  file: string,
  args: string[],
  readyText: string,
  opts: { timeoutMs?: number; stdin?: 'ignore' | 'pipe'; root?: string } = {},
): Promise<ChildHandle> {
  const args2 = [file, ...args];
  return spawnUntil(args2, readyText, opts.timeoutMs ?? 20_000, opts.stdin, opts.root);
}

/** Spawns one of the package's bins and waits until its output contains `readyText`. */
async function spawnUntil(
  args: string[],
  readyText: string,
  timeoutMs: number,
  stdin: 'ignore' | 'pipe' = 'ignore',
  cwd = root,
): Promise<ChildHandle> {
  const child =
    stdin === 'pipe'
      ? spawn(process.execPath, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] })
      : spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + timeoutMs;
  while (!out.includes(readyText)) {
    if (child.exitCode !== null) throw new Error(`${args[0]} exited early (${child.exitCode}):\n${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${args[0]} did not start in ${timeoutMs} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    output: () => out,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const [code] = (await once(child, 'exit')) as [number | null];
      clearTimeout(timer);
      return code;
    },
  };
}
