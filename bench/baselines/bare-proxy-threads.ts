/**
 * The bare proxy as N worker threads of one process, each its own `bare-proxy.ts` on the same
 * reusePort port: what Node's threads cost against processes, with no shared state at all.
 *
 *   node bench/baselines/bare-proxy-threads.ts --threads 4 --port 8081 --upstream http://127.0.0.1:8000
 *
 * Says `listening on` once every thread listens; stops when its stdin closes or on SIGTERM/SIGINT.
 */
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '4' },
    port: { type: 'string' },
    upstream: { type: 'string' },
  },
});
if (!values.port || !values.upstream) throw new Error('--port and --upstream are required');
const argv = ['--port', values.port, '--upstream', values.upstream];
const count = Number(values.threads);
let listening = 0;
for (let i = 0; i < count; i++) {
  // stdin: true gives each thread a stdin that stays open, so the proxy's "stdin closed" stop
  // does not fire in the thread; this process stops them all instead.
  const worker = new Worker(new URL('./bare-proxy.ts', import.meta.url), { argv, stdin: true, stdout: true });
  worker.stdout.on('data', (chunk: Buffer) => {
    if (String(chunk).includes('listening on') && ++listening === count)
      process.stdout.write(
        `bare-proxy-threads listening on http://127.0.0.1:${values.port} (${count} threads)\n`,
      );
  });
}
const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
