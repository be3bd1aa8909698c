/**
 * One membership node as its own process, for test/membership-netns.test.ts: a `Member` over the
 * real network transport (UDP + TCP on one port), sealed with a gossip key, on real timers. It
 * prints JSON lines on stdout: `{"type":"ready","address":…}`, one line per membership event
 * (`{"type":"dead","id":"n4","status":"dead","incarnation":1,"at":…}`), and, for a `stats` line on
 * stdin, `{"type":"stats","stats":{…},"members":[…]}`. It exits on SIGTERM or when stdin closes.
 *
 *   node test/helpers/membership-node.ts --id n0 --host 10.77.0.1 --port 7946 --key BASE64
 *     [--seeds 10.77.0.1:7946,…] [--config '{"probeIntervalMs":200}'] [--insecure]
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import {
  checkGossipSecurity,
  createKeyring,
  createMember,
  createNetTransport,
  createRealClock,
  type SwimConfig,
} from '../../src/membership/index.ts';

const { values } = parseArgs({
  options: {
    id: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '7946' },
    key: { type: 'string' },
    seeds: { type: 'string', default: '' },
    config: { type: 'string', default: '{}' },
    insecure: { type: 'boolean', default: false },
  },
});

const out = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
const host = values.host ?? '127.0.0.1';
const keyring = values.key ? createKeyring([values.key]) : undefined;
try {
  checkGossipSecurity({ host, keyring, insecure: values.insecure });
} catch (err) {
  out({ type: 'refused', error: (err as Error).message });
  process.exit(2);
}
const transport = await createNetTransport({ host, port: Number(values.port) });
const clock = createRealClock();
const member = createMember({
  id: values.id ?? 'node',
  transport,
  clock,
  ...(keyring ? { keyring } : {}),
  config: JSON.parse(values.config ?? '{}') as Partial<SwimConfig>,
  onEvent: (e) =>
    out({
      type: e.type,
      id: e.member.id,
      status: e.member.status,
      previous: e.previous,
      incarnation: e.member.incarnation,
      at: Date.now(),
    }),
});
out({ type: 'ready', id: member.id, address: member.address });

const seeds = (values.seeds ?? '').split(',').filter((s) => s !== '' && s !== member.address);
// A seed may not be listening yet: retry for a while (bounded).
for (let attempt = 0; seeds.length > 0 && attempt < 20; attempt++) {
  try {
    const answered = await member.join(seeds);
    out({ type: 'joined', answered });
    break;
  } catch {
    await new Promise((r) => setTimeout(r, 250));
  }
}

const stop = async () => {
  member.close();
  await transport.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (line.trim() === 'stats')
    out({
      type: 'stats',
      stats: member.stats(),
      members: member.members().map((m) => ({ id: m.id, status: m.status, incarnation: m.incarnation })),
    });
});
rl.on('close', () => void stop());
