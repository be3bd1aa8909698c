import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { FETCH_BLOCKED_PORTS, listen } from './listen.ts';

const node = new URL('../../node_modules/.bin/node', import.meta.url).pathname;
const probe = new URL('./testing/bind-probe.ts', import.meta.url).pathname;

/** Why a network namespace with its own port range cannot be made here, or undefined. */
function unsupported(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'a network namespace needs root';
  const r = spawnSync('unshare', ['-n', 'true'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : `unshare -n: ${r.stderr || r.error?.message}`;
}

test('port 0 never settles on a port fetch() refuses, even where the kernel offers one', (t) => {
  const why = unsupported();
  if (why) return t.skip(why);
  // 5060 and 5061 are blocked, 5062–5064 are not. In a namespace of its own with this range, Linux
  // offers bind() the lowest odd port first (even ones are left to connect()): 5061.
  assert.ok(FETCH_BLOCKED_PORTS.has(5061) && !FETCH_BLOCKED_PORTS.has(5063));
  const script = [
    'ip link set lo up',
    'echo "5060 5064" > /proc/sys/net/ipv4/ip_local_port_range',
    `exec "${node}" "${probe}"`,
  ].join(' && ');
  const r = spawnSync('unshare', ['-n', 'sh', '-c', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout.trim(), /^506[234] 200$/);
});

test('a fixed port is kept as asked, and closing ends open keep-alive connections', async () => {
  const server = createServer((_req, res) => res.end('ok'));
  const first = await listen(server, { host: '127.0.0.1', port: 0 });
  const res = await fetch(first.url, { headers: { connection: 'keep-alive' } });
  assert.equal(await res.text(), 'ok');
  await first.close(); // resolves although fetch's pool still holds the connection open
  const again = createServer((_req, res2) => res2.end('again'));
  const second = await listen(again, { host: '127.0.0.1', port: first.port });
  assert.equal(second.port, first.port);
  assert.equal(await (await fetch(second.url)).text(), 'again');
  await second.close();
});
