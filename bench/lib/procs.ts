/**
 * Benchmark processes pinned to cores: every child runs under `taskset -c`, is remembered, and is
 * stopped when the benchmark ends, fails or is interrupted (SIGINT/SIGTERM). A child is ready once
 * its output contains a text, or once a probe (e.g. an HTTP request) succeeds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CoreSet } from './cores.ts';

export interface Pinned {
  name: string;
  pid: number;
  child: ChildProcess;
  /** The last 64 KiB of the child's stdout and stderr together. */
  output(): string;
  /** Resolves with the exit code (or 128 + signal number) once the child is gone. */
  exited: Promise<number>;
  /** Sends `signal` (default SIGTERM), waits up to `graceMs`, then SIGKILL; resolves with the exit code. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number>;
}

export interface SpawnPinnedOptions {
  name: string;
  cores: CoreSet;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Ready when the output contains this text, or when this probe resolves true. */
  ready: string | (() => Promise<boolean>);
  timeoutMs?: number;
  /** `pipe` keeps stdin open: children that watch it stop when the benchmark dies, however it dies. */
  stdin?: 'ignore' | 'pipe';
}

const OUTPUT_LIMIT = 64 * 1024;
const running = new Set<Pinned>();
const tempDirs: string[] = [];

/** A temp folder (configs, scripts, logs, client records), removed when the benchmark exits. */
export function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `bench-${name}-`));
  tempDirs.push(dir);
  return dir;
}

/** Starts `command args` under `taskset -c cores` and waits until it is ready. */
export async function spawnPinned(opts: SpawnPinnedOptions): Promise<Pinned> {
  const child = spawn('taskset', ['-c', opts.cores.list, opts.command, ...opts.args], {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > OUTPUT_LIMIT * 2) out = out.slice(-OUTPUT_LIMIT);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
    child.once('error', (err) => {
      out += `\n${String(err)}`;
      resolve(127);
    });
  });
  const handle: Pinned = {
    name: opts.name,
    pid: child.pid ?? -1,
    child,
    output: () => out.slice(-OUTPUT_LIMIT),
    exited,
    async stop(signal = 'SIGTERM', graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      running.delete(handle);
      return exited;
    },
  };
  running.add(handle);
  void exited.then(() => running.delete(handle));
  try {
    await waitReady(handle, opts.ready, opts.timeoutMs ?? 30_000);
  } catch (err) {
    await handle.stop('SIGKILL');
    throw err;
  }
  return handle;
}

async function waitReady(p: Pinned, ready: SpawnPinnedOptions['ready'], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let gone = false;
  void p.exited.then(() => (gone = true));
  while (true) {
    if (typeof ready === 'string' ? p.output().includes(ready) : await ready().catch(() => false)) return;
    if (gone)
      throw new Error(`${p.name} exited before it was ready (code ${await p.exited}):\n${p.output()}`);
    if (Date.now() > deadline) throw new Error(`${p.name} not ready after ${timeoutMs} ms:\n${p.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Stops every child still running (SIGTERM, then SIGKILL after `graceMs`). */
export async function stopAll(graceMs = 5_000): Promise<void> {
  await Promise.all([...running].map((p) => p.stop('SIGTERM', graceMs)));
}

/**
 * Kills children on exit and stops them on SIGINT/SIGTERM, so no benchmark leaves processes
 * behind; removes the temp folders on exit.
 */
export function installCleanup(): void {
  process.once('exit', () => {
    for (const p of running) p.child.kill('SIGKILL');
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping the benchmark's processes\n`);
      void stopAll(2_000).finally(() => process.exit(130));
    });
  }
}

/** Resolves once `url` answers (any status below 500). */
export function httpProbe(url: string): () => Promise<boolean> {
  return async () => {
    const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await res.arrayBuffer();
    return res.status < 500;
  };
}

/** Waits for a process's exit, or gives up after `ms`: then resolves undefined. */
export async function exitWithin(p: Pinned, ms: number): Promise<number | undefined> {
  const timeout = new Promise<undefined>((r) => setTimeout(() => r(undefined), ms).unref());
  return Promise.race([p.exited, timeout]);
}
