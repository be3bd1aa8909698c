// The dashboard follows the control API's authentication: with `security.auth.jwt` set, `/ui` and
// its stream refuse a caller without a token, accept a viewer's token (header, `?token=` link or
// the login form's cookie), and refuse a token without a role. Its bundle is code, served to all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMeshd } from '../src/agent/meshd.ts';
import { parseConfig } from '../src/core/config.ts';
import { createLogger } from '../src/observability/log.ts';
import { AUDIENCE, ISSUER, createTestIssuer } from './helpers/jwt-issuer.ts';

/** The first SSE event of a stream (the `hello`), then the stream is closed. */
async function firstEvent(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; event: string }> {
  const ac = new AbortController();
  const res = await fetch(url, { headers, signal: ac.signal });
  if (res.status !== 200) return { status: res.status, event: await res.text() };
  const reader = res.body!.getReader();
  let text = '';
  while (!/event: hello\ndata: .*\n\n/.test(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value as Uint8Array);
  }
  ac.abort();
  return { status: res.status, event: /event: (\w+)\ndata: /.exec(text)?.[1] ?? '' };
}

test('with auth on, /ui and /ui/stream need a viewer token', { timeout: 30_000 }, async (t) => {
  const issuer = await createTestIssuer();
  const dir = mkdtempSync(join(tmpdir(), 'dashboard-auth-'));
  const jwksFile = join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [issuer.jwk] }));
  const meshd = await startMeshd(
    parseConfig({
      apiVersion: 'infermesh/v1',
      control: { store: { embedded: { path: ':memory:' } } },
      node: { id: 'secure', roles: ['gpu'] },
      api: { port: 0 },
      metrics: { port: 0 },
      log: { level: 'silent' },
      gpu: { simulators: [{ name: 'sim-0', seed: 1 }], telemetry: { source: 'sim', intervalMs: 200 } },
      security: { auth: { jwt: { jwksFile, issuer: ISSUER, audience: AUDIENCE } } },
    }),
    createLogger('silent'),
  );
  t.after(() => meshd.stop());
  const ui = meshd.dashboardUrl;
  const viewer = await issuer.sign({ sub: 'vera', roles: ['viewer'] });
  const nobody = await issuer.sign({ sub: 'nora' });

  // No token: the page is the login form (401), the stream a JSON refusal.
  const page = await fetch(ui);
  assert.equal(page.status, 401);
  assert.match(await page.text(), /<form method="post" action="\/ui\/login"[\s\S]*no credentials/);
  const stream = await fetch(`${ui}/stream`);
  assert.equal(stream.status, 401);
  assert.equal(((await stream.json()) as { error: { code: string } }).error.code, 'unauthenticated');
  assert.equal((await fetch(`${ui}/stream`, { headers: { authorization: 'Bearer not-a-jwt' } })).status, 401);
  // A valid token without a role is no viewer.
  const roleless = await fetch(`${ui}/stream`, { headers: { authorization: `Bearer ${nobody}` } });
  assert.equal(roleless.status, 403);
  await roleless.body?.cancel();

  // A viewer's bearer token: the page and the stream, whose first event is the hello.
  const auth = { authorization: `Bearer ${viewer}` };
  const shown = await fetch(ui, { headers: auth });
  assert.equal(shown.status, 200);
  assert.match(await shown.text(), /<script src="\/ui\/app\.js">/);
  assert.deepEqual(await firstEvent(`${ui}/stream`, auth), { status: 200, event: 'hello' });

  // `?token=` keeps the token in an HttpOnly cookie and drops it from the address; the cookie works.
  const link = await fetch(`${ui}?token=${encodeURIComponent(viewer)}`, { redirect: 'manual' });
  assert.equal(link.status, 303);
  assert.equal(link.headers.get('location'), '/ui');
  const cookie = link.headers.get('set-cookie') ?? '';
  assert.match(cookie, /^mesh_ui_token=.+; Path=\/ui; HttpOnly; SameSite=Strict$/);
  const jar = { cookie: cookie.split(';')[0]! };
  assert.equal((await fetch(ui, { headers: jar })).status, 200);
  assert.deepEqual(await firstEvent(`${ui}/stream`, jar), { status: 200, event: 'hello' });

  // The login form: a bad token shows the form again with the reason, a good one sets the cookie.
  const form = (token: string) =>
    fetch(`${ui}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }).toString(),
      redirect: 'manual',
    });
  const bad = await form('nonsense');
  assert.equal(bad.status, 401);
  assert.match(await bad.text(), /invalid bearer token/);
  const good = await form(viewer);
  assert.equal(good.status, 303);
  assert.match(good.headers.get('set-cookie') ?? '', /^mesh_ui_token=/);

  // The bundle carries no data: served without a token (the login page uses its stylesheet).
  const css = await fetch(`${ui}/app.css`);
  assert.equal(css.status, 200);
  assert.match(await css.text(), /\.uplot/);
});

test('with auth off, /ui is open as /metrics is', { timeout: 30_000 }, async (t) => {
  const meshd = await startMeshd(
    parseConfig({
      apiVersion: 'infermesh/v1',
      control: { store: { embedded: { path: ':memory:' } } },
      node: { id: 'open', roles: ['gpu'] },
      api: { port: 0 },
      metrics: { port: 0 },
      log: { level: 'silent' },
    }),
    createLogger('silent'),
  );
  t.after(() => meshd.stop());
  assert.equal((await fetch(meshd.dashboardUrl)).status, 200);
  assert.deepEqual(await firstEvent(`${meshd.dashboardUrl}/stream`, {}), { status: 200, event: 'hello' });
  assert.equal((await fetch(`${meshd.dashboardUrl}/nope`)).status, 404);
});
