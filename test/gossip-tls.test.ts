// mTLS on gossip's TCP channel, on real sockets on loopback: members with certificates of the
// mesh's CA join and push-pull; another CA, an expired certificate, the wrong node at an address
// and a header that names another node are refused and counted (and logged once per peer); a
// renewed certificate is used by new connections without restarting the member.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext, type TLSSocket } from 'node:tls';
import { pino, type Logger } from 'pino';
import { gossipTls, startMembership, type MembershipTls } from '../src/agent/membership-role.ts';
import { parseConfig } from '../src/core/config.ts';
import { createGpuStore } from '../src/signal/state/gpu-store.ts';
import { createStateStore } from '../src/signal/state/state-store.ts';
import {
  createKeyring,
  createMember,
  createNetTransport,
  createRealClock,
  generateGossipKey,
  type Member,
  type NetTlsOptions,
  type NetTransport,
} from '../src/membership/index.ts';
import { initCaDir, loadIssuer } from '../src/security/pki/ca-dir.ts';
import { createCertReloader } from '../src/security/pki/cert-reloader.ts';
import { issueCertificate } from '../src/security/pki/issue.ts';
import { issueToFiles } from '../src/security/pki/issue-files.ts';

const TD = 'mesh.local';
const FAST = {
  probeIntervalMs: 200,
  probeTimeoutMs: 100,
  gossipIntervalMs: 50,
  pushPullIntervalMs: 0,
  leaveTimeoutMs: 1_000,
  joinTimeoutMs: 3_000,
};
const keyring = createKeyring([generateGossipKey()]);

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A logger whose lines the test reads. */
function captureLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (l: string) => lines.push(JSON.parse(l) as Record<string, unknown>) },
  );
  return { logger, lines };
}

/** Fixed certificate material in the shape meshd's `LinkTls` has. */
function staticTls(pem: { cert: string; key: string; ca: string }): MembershipTls {
  const state = { secureContext: createSecureContext(pem), options: pem };
  return { trustDomain: TD, current: () => state };
}

interface Pki {
  dir: string;
  caDir: string;
  ca: string;
  /** A node certificate of `caDir` (default: the mesh's CA), as files and PEM. */
  issue(
    id: string,
    caDir?: string,
  ): Promise<{ cert: string; key: string; certFile: string; keyFile: string }>;
}

async function setup(t: { after(fn: () => Promise<void>): void }): Promise<Pki> {
  const dir = await mkdtemp(join(tmpdir(), 'gossip-tls-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const caDir = join(dir, 'ca');
  await initCaDir(caDir, { trustDomain: TD });
  const ca = await readFile(join(caDir, 'bundle.pem'), 'utf8');
  return {
    dir,
    caDir,
    ca,
    async issue(id, from = caDir) {
      const f = await issueToFiles({ caDir: from, kind: 'node', id, roles: ['gpu'], out: join(dir, id) });
      return {
        cert: await readFile(f.certFile, 'utf8'),
        key: await readFile(f.keyFile, 'utf8'),
        certFile: f.certFile,
        keyFile: f.keyFile,
      };
    },
  };
}

interface Running {
  member: Member;
  transport: NetTransport;
}

/** A member over the real net transport with mTLS (and the keyring, as meshd runs it). */
async function start(
  t: { after(fn: () => Promise<void>): void },
  id: string,
  tls: NetTlsOptions | undefined,
  config: Partial<typeof FAST> = {},
): Promise<Running> {
  const transport = await createNetTransport({ host: '127.0.0.1', port: 0, tls });
  const member = createMember({
    id,
    transport,
    clock: createRealClock(),
    keyring,
    config: { ...FAST, ...config },
  });
  t.after(async () => {
    member.close();
    await transport.close();
  });
  return { member, transport };
}

const alive = (m: Member) => m.members().filter((x) => x.status === 'alive').length;
const sendRaw = (from: NetTransport, to: string, toId?: string) =>
  new Promise<Error | undefined>((resolve) => from.sendReliable(to, new Uint8Array(8), resolve, toId));

test('three members with mTLS join through one seed and push-pull over TLS TCP', async (t) => {
  const pki = await setup(t);
  const { logger, lines } = captureLogger();
  const nodes: Running[] = [];
  for (const id of ['n0', 'n1', 'n2']) {
    const tls = gossipTls(staticTls({ ...(await pki.issue(id)), ca: pki.ca }), id, logger);
    nodes.push(await start(t, id, tls));
  }
  const [a, b, c] = nodes as [Running, Running, Running];
  assert.equal(await b.member.join([a.transport.address]), 1);
  assert.equal(await c.member.join([a.transport.address]), 1);
  await until(() => nodes.every((n) => alive(n.member) === 3), 5_000, 'all three alive everywhere');
  // A push-pull between two members that did not talk over TCP yet: each dials the other's id.
  assert.equal(await c.member.join([b.transport.address]), 1);
  for (const n of nodes) {
    assert.equal(n.member.stats().tlsRefused, 0);
    assert.equal(n.member.stats().peerMismatches, 0);
  }
  assert.ok(c.member.stats().pushPulls >= 2);
  // The dialler checks the node it expects: n1's address does not hold n2.
  const wrong = await sendRaw(a.transport, b.transport.address, 'n2');
  assert.match(String(wrong), /not the expected "n2"/);
  assert.equal(a.member.stats().tlsRefused, 1);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(b.member.stats().tlsRefused, 0, 'n1 did not refuse anything: the dialler hung up on it');
  const warn = lines.find((l) => l.direction === 'outbound');
  assert.equal(warn?.expectedId, 'n2');
  assert.equal(warn?.presented, `spiffe://${TD}/node/n1`);
});

test('another CA or an expired certificate: no push-pull, no reliable probe; refused, counted, logged once', async (t) => {
  const pki = await setup(t);
  const seedLog = captureLogger();
  const seed = await start(
    t,
    'seed',
    gossipTls(staticTls({ ...(await pki.issue('seed')), ca: pki.ca }), 'seed', seedLog.logger),
  );
  const quiet = captureLogger().logger;

  // A node of the same trust domain from another CA, which trusts ours (so only the seed refuses).
  const evilCa = join(pki.dir, 'evil-ca');
  await initCaDir(evilCa, { trustDomain: TD });
  const both = `${pki.ca}${await readFile(join(evilCa, 'bundle.pem'), 'utf8')}`;
  const evilPem = { ...(await pki.issue('evil', evilCa)), ca: both };
  const evil = await start(t, 'evil', gossipTls(staticTls(evilPem), 'evil', quiet));
  for (let i = 0; i < 3; i++)
    await assert.rejects(evil.member.join([seed.transport.address]), /no seed answered/);
  // The reliable channel of a probe (ping over TCP) is the same path: refused as well.
  assert.ok(await sendRaw(evil.transport, seed.transport.address, 'seed'));
  assert.equal(seed.member.stats().tlsRefused, 4);
  assert.equal(evil.member.stats().tlsRefused, 0, 'evil trusts our CA: only the seed refused');
  assert.equal(alive(seed.member), 1, 'the seed never learnt of evil');
  const evilLogs = seedLog.lines.filter((l) => l.presented === `spiffe://${TD}/node/evil`);
  assert.equal(evilLogs.length, 1, 'one log line for four refusals of one peer');
  assert.equal(evilLogs[0]!.direction, 'inbound');
  assert.match(String(evilLogs[0]!.reason), /refused by TLS/);

  // An expired certificate of the right CA.
  const { issuer } = await loadIssuer(pki.caDir);
  const past = new Date(Date.now() - 48 * 3_600_000);
  const old = await issueCertificate(issuer, {
    trustDomain: TD,
    kind: 'node',
    id: 'old',
    roles: ['gpu'],
    notBefore: past,
    notAfter: new Date(past.getTime() + 3_600_000),
  });
  const expired = await start(
    t,
    'old',
    gossipTls(staticTls({ cert: old.certPem, key: old.keyPem, ca: pki.ca }), 'old', quiet),
  );
  await assert.rejects(expired.member.join([seed.transport.address]), /no seed answered/);
  assert.equal(seed.member.stats().tlsRefused, 5);
  const oldLog = seedLog.lines.find((l) => l.presented === `spiffe://${TD}/node/old`);
  assert.match(String(oldLog?.reason), /EXPIRED/);

  // The seed dialling a node with a certificate of another CA refuses it as well (outbound).
  assert.ok(await sendRaw(seed.transport, evil.transport.address));
  assert.equal(seed.member.stats().tlsRefused, 6);

  // A member with the gossip key but no TLS at all: its plain TCP push-pull is refused.
  const plain = await start(t, 'plain', undefined, { joinTimeoutMs: 500 });
  await assert.rejects(plain.member.join([seed.transport.address]), /no seed answered/);
  assert.equal(seed.member.stats().tlsRefused, 7);
  assert.ok(seedLog.lines.some((l) => /WRONG_VERSION_NUMBER/.test(String(l.reason))));
  assert.equal(alive(seed.member), 1);
});

test("a valid certificate whose node sends another node's id in its packets is dropped", async (t) => {
  const pki = await setup(t);
  const quiet = captureLogger().logger;
  const seed = await start(
    t,
    'seed',
    gossipTls(staticTls({ ...(await pki.issue('seed')), ca: pki.ca }), 'seed', quiet),
  );
  // gossipTls refuses to start a node whose certificate names another node…
  const x = staticTls({ ...(await pki.issue('x')), ca: pki.ca });
  assert.throws(() => gossipTls(x, 'y', quiet), /node\.id and the certificate must agree/);
  // …so build the mismatch by hand: certificate of x, member id y.
  const verify = (s: TLSSocket) => {
    assert.ok(s.authorized);
    return 'seed';
  };
  const liar = await start(
    t,
    'y',
    { context: () => x.current().secureContext, verify },
    { joinTimeoutMs: 500 },
  );
  await assert.rejects(liar.member.join([seed.transport.address]), /no seed answered/);
  assert.equal(seed.member.stats().peerMismatches, 1);
  assert.equal(alive(seed.member), 1, 'y was never added');
});

test('a renewed certificate is used for new TCP connections without restarting the member', async (t) => {
  const pki = await setup(t);
  const quiet = captureLogger().logger;
  const a = await pki.issue('a');
  const reloader = await createCertReloader({
    certFile: a.certFile,
    keyFile: a.keyFile,
    caFile: join(pki.caDir, 'bundle.pem'),
    pollMs: 100,
  });
  t.after(async () => reloader.close());
  const aTls = gossipTls({ trustDomain: TD, current: () => reloader.current() }, 'a', quiet);
  const memberA = await start(t, 'a', aTls);

  // b records the serial of every certificate it accepts, inbound (as server) and outbound.
  const seen: string[] = [];
  const bTls = gossipTls(staticTls({ ...(await pki.issue('b')), ca: pki.ca }), 'b', quiet);
  const memberB = await start(t, 'b', {
    ...bTls,
    verify: (s) => {
      const id = bTls.verify(s);
      if (id === 'a') seen.push(new X509Certificate(s.getPeerCertificate().raw).serialNumber.toLowerCase());
      return id;
    },
  });
  assert.equal(await memberA.member.join([memberB.transport.address]), 1);
  const first = reloader.current().serial;
  assert.deepEqual([...new Set(seen)], [first]);

  const renewed = await issueToFiles({
    caDir: pki.caDir,
    kind: 'node',
    id: 'a',
    roles: ['gpu'],
    out: join(pki.dir, 'a'),
  });
  await until(
    () => reloader.current().serial === renewed.serial,
    5_000,
    'the reloader took the new certificate',
  );
  assert.notEqual(renewed.serial, first);
  seen.length = 0;
  // a dials b (a's client certificate) and b dials a back with the reply (a's server certificate).
  assert.equal(await memberA.member.join([memberB.transport.address]), 1);
  assert.equal(await memberB.member.join([memberA.transport.address]), 1);
  assert.ok(seen.length >= 2);
  assert.deepEqual([...new Set(seen)], [renewed.serial], 'only the renewed certificate was seen');
  assert.equal(memberA.member.stats().tlsRefused + memberB.member.stats().tlsRefused, 0);
});

test("meshd's membership role with security.tls: joins over mTLS; a certificate of another node id refuses to start", async (t) => {
  const pki = await setup(t);
  const { logger } = captureLogger();
  const role = async (id: string, seeds: string[], certOf = id) => {
    const config = parseConfig({
      apiVersion: 'infermesh/v1',
      node: { id },
      membership: {
        bind: '127.0.0.1:0',
        seeds,
        keyring: [keyring.primary()],
        timing: { probeIntervalMs: 200, probeTimeoutMs: 100, gossipIntervalMs: 50 },
      },
    });
    const tls = staticTls({ ...(await pki.issue(certOf)), ca: pki.ca });
    const r = await startMembership(config, {
      store: createStateStore(),
      gpus: createGpuStore(),
      apiUrl: 'http://127.0.0.1:1',
      logger,
      tls,
    });
    t.after(() => r.stop());
    return r;
  };
  const first = await role('r1', []);
  const second = await role('r2', [first.address]);
  await until(() => second.joined() && first.members().length === 2, 5_000, 'r2 joined r1 over mTLS');
  assert.equal(first.member.stats().tlsRefused, 0);
  await assert.rejects(role('r3', [first.address], 'someone-else'), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'invalid_config');
    assert.match(err.message, /node\/someone-else.*needs spiffe:\/\/mesh\.local\/node\/r3/);
    return true;
  });
});
