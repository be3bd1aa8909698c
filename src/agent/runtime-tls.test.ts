// A runtime served over https with a certificate of the mesh's CA: the gpu role's scraper trusts it
// through the same TLS settings as the router (public roots plus the mesh bundle), and refuses it
// without the bundle. The runtime is the fake vLLM behind a real TLS terminator on loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { bind } from '../core/listen.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { createLogger } from '../observability/log.ts';
import { initCaDir } from '../security/pki/ca-dir.ts';
import { issueToFiles } from '../security/pki/issue-files.ts';
import { createRuntimeScraper } from '../signal/runtime/scraper.ts';
import { startFakeVllm, vllmModelList } from '../signal/runtime/testing/fake-vllm-server.ts';
import { createStateStore } from '../signal/state/state-store.ts';

const metrics = readFileSync(
  new URL('../signal/runtime/vllm/fixtures/vllm-0.10.0-v1-engine0.prom', import.meta.url),
  'utf8',
);

test('https runtimes with a mesh-CA certificate are scraped with the mesh bundle, refused without it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'runtime-tls-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await initCaDir(join(dir, 'ca'), { trustDomain: 'mesh.local' });
  const cert = await issueToFiles({
    caDir: join(dir, 'ca'),
    kind: 'node',
    id: 'vllm-host',
    roles: ['gpu'],
    out: join(dir, 'vllm'),
  });
  const vllm = await startFakeVllm({ metrics, models: vllmModelList(['llama']) });
  t.after(() => vllm.close());
  // TLS in front of the fake, as a reverse proxy in front of vLLM would be.
  const target = new URL(vllm.url);
  const https = createHttpsServer(
    { cert: readFileSync(cert.certFile), key: readFileSync(cert.keyFile) },
    (req, res) => {
      const up = httpRequest(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      req.pipe(up);
    },
  );
  const { port } = await bind(https, { host: '127.0.0.1', port: 0 });
  t.after(() => new Promise<void>((resolve) => https.close(() => resolve())));
  const url = `https://127.0.0.1:${port}`;
  const bundle = readFileSync(join(dir, 'ca', 'bundle.pem'), 'utf8');

  const scrape = async (tls?: { ca?: string[]; rejectUnauthorized: boolean }) => {
    const store = createStateStore();
    const scraper = createRuntimeScraper({
      node: 'gpu-1',
      endpoints: [{ name: 'vllm-0', runtime: 'vllm', url }],
      intervalMs: 1000,
      timeoutMs: 2000,
      unhealthyAfter: 1,
      store,
      logger: createLogger('silent'),
      ...(tls ? { tls } : {}),
    });
    await scraper.scrapeOnce();
    await scraper.stop();
    return store.get('gpu-1/vllm-0', 'llama')?.health;
  };
  assert.equal(await scrape({ ca: [...rootCertificates, bundle], rejectUnauthorized: true }), 'healthy');
  assert.notEqual(await scrape(), 'healthy', 'public roots alone do not trust the mesh CA');
  assert.equal(await scrape({ rejectUnauthorized: false }), 'healthy', 'insecureSkipRuntimeVerify');
});
