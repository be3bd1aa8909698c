/**
 * The bare Node proxy (`baselines/bare-proxy.ts`) as the benchmarks start it: `n` reusePort
 * processes, or `n` worker threads of one process (`baselines/bare-proxy-threads.ts`), all on one
 * port, pinned to `cores`.
 */
import type { CoreSet } from './cores.ts';
import { freePort } from './ports.ts';
import { spawnPinned, type Pinned } from './procs.ts';

export async function startBareProxy(opts: {
  n: number;
  mode: 'processes' | 'threads';
  cores: CoreSet;
  backendUrl: string;
}): Promise<{ url: string; procs: Pinned[] }> {
  const port = await freePort();
  const proxyArgs = ['--port', String(port), '--upstream', opts.backendUrl];
  const threads = opts.mode === 'threads';
  const procs: Pinned[] = [];
  for (let i = 0; i < (threads ? 1 : opts.n); i++) {
    procs.push(
      await spawnPinned({
        name: threads ? `bare-proxy ${opts.n} threads` : `bare-proxy ${i}`,
        cores: opts.cores,
        command: process.execPath,
        args: threads
          ? ['bench/baselines/bare-proxy-threads.ts', '--threads', String(opts.n), ...proxyArgs]
          : ['bench/baselines/bare-proxy.ts', ...proxyArgs],
        cwd: new URL('../..', import.meta.url).pathname,
        ready: 'listening on',
        stdin: 'pipe',
      }),
    );
  }
  return { url: `http://127.0.0.1:${port}`, procs };
}
