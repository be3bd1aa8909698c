// A node link's client side on real TLS sockets: the expected node is accepted, another node or
// an admin identity is refused, and a re-issued certificate is presented by the next connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { initCaDir } from './ca-dir.ts';
import { issueToFiles } from './issue-files.ts';
import { createLinkTls, type LinkClientOptions } from './link-tls.ts';
import { startProbeServer } from './testing/mtls-probe.ts';

const TD = 'mesh.local';

async function setup(t: { after(fn: () => Promise<void> | void): void }) {
  const dir = await mkdtemp(join(tmpdir(), 'link-tls-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const caDir = join(dir, 'ca');
  await initCaDir(caDir, { trustDomain: TD });
  const issue = (id: string, kind: 'node' | 'admin' = 'node') =>
    issueToFiles({ caDir, kind, id, roles: [kind === 'node' ? 'router' : 'admin'], out: join(dir, id) });
  const linkOf = async (id: string) => {
    const f = await issue(id);
    const link = await createLinkTls({
      certFile: f.certFile,
      keyFile: f.keyFile,
      caFile: join(caDir, 'bundle.pem'),
      trustDomain: TD,
    });
    t.after(() => link.close());
    return link;
  };
  return { issue, linkOf };
}

/** One handshake with the link's options; resolves with the error message, or 'ok'. */
function dial(port: number, options: LinkClientOptions): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, ...options }, () => {
      socket.end();
      resolve('ok');
    });
    socket.on('error', (err: Error) => resolve(err.message));
  });
}

test('a link accepts the node it expects, any node without an id, and refuses others', async (t) => {
  const { issue, linkOf } = await setup(t);
  const server = await linkOf('gpu-1');
  const probe = await startProbeServer(server.current().options, {
    bundle: server.current().options.ca,
    trustDomain: TD,
  });
  t.after(() => probe.close());
  const client = await linkOf('router-1');

  assert.equal(await dial(probe.port, client.clientOptions('gpu-1')), 'ok');
  assert.equal(await dial(probe.port, client.clientOptions()), 'ok');
  assert.match(
    await dial(probe.port, client.clientOptions('gpu-2')),
    /not the expected spiffe:\/\/mesh\.local\/node\/gpu-2/,
  );

  // A server holding an admin identity is no node.
  const admin = await issue('alice', 'admin');
  const { readFile } = await import('node:fs/promises');
  const adminProbe = await startProbeServer(
    {
      cert: await readFile(admin.certFile, 'utf8'),
      key: await readFile(admin.keyFile, 'utf8'),
      ca: server.current().options.ca,
    },
    { bundle: server.current().options.ca, trustDomain: TD },
  );
  t.after(() => adminProbe.close());
  assert.match(await dial(adminProbe.port, client.clientOptions()), /admin identity/);
});

test('the next connection presents a re-issued certificate', async (t) => {
  const { issue, linkOf } = await setup(t);
  const server = await linkOf('gpu-1');
  const seen: string[] = [];
  const probe = await startProbeServer(server.current().options, {
    bundle: server.current().options.ca,
    trustDomain: TD,
  });
  probe.server.on('secureConnection', (s) => seen.push(s.getPeerCertificate().serialNumber.toLowerCase()));
  t.after(() => probe.close());
  const client = await linkOf('router-1');
  const options = client.clientOptions('gpu-1');
  assert.equal(await dial(probe.port, options), 'ok');
  const renewed = await issue('router-1');
  assert.equal(await client.reload(), true);
  assert.equal(await dial(probe.port, options), 'ok');
  // In TLS 1.3 the client is done a round trip before the server.
  for (let i = 0; i < 50 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(seen.length, 2);
  assert.notEqual(seen[0], seen[1]);
  assert.equal(BigInt(`0x${seen[1]}`), BigInt(`0x${renewed.serial.replace(/:/g, '')}`));
});
