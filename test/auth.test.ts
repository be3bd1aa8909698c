// RBAC on the API port over real sockets: bearer JWTs checked against a JWKS served by a real HTTP
// server (and against inline keys), each rejection answered with the right code and audited.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import { pino } from 'pino';
import { createApiServer } from '../src/agent/api-server.ts';
import { controlPlaneRoutes } from '../src/control/control-plane-service.ts';
import { memoryControlRecords } from '../src/control/testing/memory-records.ts';
import { authConfigSchema } from '../src/core/config-auth.ts';
import { ControlPlane } from '../src/gen/infermesh/control/v1/control_pb.js';
import { StatePlane } from '../src/gen/infermesh/state/v1/state_pb.js';
import { createAuthenticator } from '../src/security/auth/authenticator.ts';
import { createAuthInterceptor, type AuditRecord } from '../src/security/auth/interceptor.ts';
import { statePlaneRoutes } from '../src/signal/state/state-plane-service.ts';
import { createStateStore } from '../src/signal/state/state-store.ts';
import { AUDIENCE, ISSUER, createTestIssuer, serveJwks } from './helpers/jwt-issuer.ts';

const nodes = [
  {
    id: 'gpu-1',
    roles: ['gpu' as const],
    zone: '',
    labels: {},
    status: 'healthy' as const,
    lastSeen: 0,
    version: '',
    apiUrl: '',
  },
];

async function startApi(auth: unknown) {
  const audit: AuditRecord[] = [];
  const logger = pino(
    { level: 'warn' },
    {
      write: (line: string) => {
        const record = JSON.parse(line) as AuditRecord;
        if (record.audit) audit.push(record);
      },
    },
  );
  const records = await memoryControlRecords();
  const authenticator = createAuthenticator({ config: authConfigSchema.parse(auth) });
  const api = await createApiServer({
    host: '127.0.0.1',
    port: 0,
    interceptors: [createAuthInterceptor({ authenticator, logger })],
    routes: (r) => {
      statePlaneRoutes({ store: createStateStore(), nodeId: 'gpu-1' })(r);
      controlPlaneRoutes({ nodes: () => nodes, modelStates: () => [], records })(r);
    },
  });
  const client = (token?: string) =>
    createClient(
      ControlPlane,
      createConnectTransport({
        baseUrl: api.url,
        httpVersion: '1.1',
        interceptors:
          token === undefined
            ? []
            : [(next) => (req) => (req.header.set('authorization', `Bearer ${token}`), next(req))],
      }),
    );
  return { api, audit, client };
}

async function rejects(call: Promise<unknown>, code: Code, text: RegExp): Promise<void> {
  await assert.rejects(call, (err: unknown) => {
    assert.ok(err instanceof ConnectError, String(err));
    assert.equal(err.code, code, err.message);
    assert.match(err.rawMessage, text);
    return true;
  });
}

test('JWKS URL: every rejection has its code and an audit line; each role passes where it should', async (t) => {
  const issuer = await createTestIssuer();
  const impostor = await createTestIssuer(); // same kid, another key: a bad signature
  const jwks = await serveJwks([issuer.jwk]);
  t.after(() => jwks.close());
  const { api, audit, client } = await startApi({
    jwt: { jwksUrl: jwks.url, issuer: ISSUER, audience: AUDIENCE },
  });
  t.after(() => api.close());
  const viewer = await issuer.sign({ sub: 'vera', roles: ['viewer'] });
  const operator = await issuer.sign({ sub: 'otto', roles: 'operator' });
  const admin = await issuer.sign({ sub: 'ada', roles: ['admin'] });

  const cases: Array<[string | undefined, RegExp]> = [
    [undefined, /no credentials/],
    [await impostor.sign({ sub: 'eve', roles: ['admin'] }), /bad signature|no key/],
    [await issuer.sign({ sub: 'eve', roles: ['admin'] }, { audience: 'other' }), /wrong audience/],
    [await issuer.sign({ sub: 'eve', roles: ['admin'] }, { issuer: 'https://evil.test' }), /wrong issuer/],
    [
      await issuer.sign({ sub: 'eve', roles: ['admin'], exp: Math.floor(Date.now() / 1000) - 120 }),
      /expired/,
    ],
  ];
  for (const [token, reason] of cases) {
    await rejects(client(token).listNodes({}), Code.Unauthenticated, reason);
    const line = audit.at(-1)!;
    assert.equal(line.result, 'denied');
    assert.equal(line.rpc, 'infermesh.control.v1.ControlPlane/ListNodes');
    assert.match(line.reason ?? '', reason);
  }
  // Within the 60 s default skew an expired token still passes.
  const late = await issuer.sign({ sub: 'lou', roles: ['viewer'], exp: Math.floor(Date.now() / 1000) - 20 });
  assert.equal((await client(late).listNodes({})).nodes.length, 1);

  await rejects(client(viewer).drainNode({ nodeId: 'gpu-1' }), Code.PermissionDenied, /needs role operator/);
  assert.deepEqual(
    { principal: audit.at(-1)!.principal, result: audit.at(-1)!.result, rpc: audit.at(-1)!.rpc },
    { principal: 'jwt:vera', result: 'denied', rpc: 'infermesh.control.v1.ControlPlane/DrainNode' },
  );
  await rejects(
    client(operator).createTenant({ tenant: { id: 'acme' } }),
    Code.PermissionDenied,
    /needs role admin/,
  );

  // OK paths: reads for every role, drains for operator and admin, tenants for admin; writes audited.
  for (const token of [viewer, operator, admin])
    assert.equal((await client(token).listNodes({})).nodes.length, 1);
  const before = audit.length;
  await client(operator).drainNode({ nodeId: 'gpu-1' });
  await client(admin).undrainNode({ nodeId: 'gpu-1' });
  await client(admin).createTenant({ tenant: { id: 'acme' } });
  assert.deepEqual(
    audit.slice(before).map((l) => [l.principal, l.rpc.split('/')[1], l.result]),
    [
      ['jwt:otto', 'DrainNode', 'ok'],
      ['jwt:ada', 'UndrainNode', 'ok'],
      ['jwt:ada', 'CreateTenant', 'ok'],
    ],
  );
  // A failing write is audited with its code.
  await rejects(client(admin).undrainNode({ nodeId: 'gpu-1' }), Code.NotFound, /./);
  assert.equal(audit.at(-1)!.result, 'not_found');
  // gRPC (HTTP/2) goes through the same check.
  const grpc = createClient(StatePlane, createGrpcTransport({ baseUrl: api.url }));
  await rejects(grpc.listModelStates({}), Code.Unauthenticated, /no credentials/);
  assert.equal(jwks.fetches(), 1, 'the key set is fetched once and cached');
});

test('inline keys (JWK and PEM), roles from a scope string, tenant-scoped tokens', async (t) => {
  const a = await createTestIssuer('a');
  const b = await createTestIssuer('b');
  const { api, audit, client } = await startApi({
    jwt: { keys: [a.jwk, b.pem], issuer: ISSUER, audience: [AUDIENCE, 'other'], rolesClaim: 'scope' },
  });
  t.after(() => api.close());
  const admin = await b.sign({ sub: 'root', scope: 'openid admin' });
  await client(admin).createTenant({ tenant: { id: 'acme' } });
  await client(admin).createTenant({ tenant: { id: 'globex' } });
  assert.equal((await client(await a.sign({ sub: 'v', scope: 'viewer' })).listTenants({})).tenants.length, 2);

  const acmeAdmin = await a.sign({ sub: 'acme-ops', scope: 'admin', tenant: 'acme' });
  const quota = (tenant: string) => ({
    policy: { name: `quota.${tenant}.all`, type: 2, spec: { tenant, requestsPerSecond: 5 } },
  });
  await client(acmeAdmin).setPolicy(quota('acme'));
  await rejects(
    client(acmeAdmin).setPolicy(quota('globex')),
    Code.PermissionDenied,
    /scoped to tenant "acme".*"globex"/,
  );
  await rejects(
    client(acmeAdmin).deleteTenant({ id: 'globex' }),
    Code.PermissionDenied,
    /not open to tenant-scoped/,
  );
  await rejects(client(acmeAdmin).listNodes({}), Code.PermissionDenied, /not open to tenant-scoped/);
  assert.equal(audit.at(-1)!.tenant, 'acme');
  assert.ok((await client(acmeAdmin).getPolicy({ name: 'quota.acme.all' })).policy);
});

test('allowUnauthenticatedLoopback lets a credential-less local caller in; a bad token is still refused', async (t) => {
  const issuer = await createTestIssuer();
  const { api, audit, client } = await startApi({
    jwt: { keys: [issuer.jwk], issuer: ISSUER, audience: AUDIENCE },
    allowUnauthenticatedLoopback: true,
  });
  t.after(() => api.close());
  await client().drainNode({ nodeId: 'gpu-1' });
  assert.equal(audit.at(-1)!.principal, 'loopback');
  await rejects(client('not-a-jwt').listNodes({}), Code.Unauthenticated, /malformed/);
});

test('no auth configured: everything allowed as before, writes still audited as anonymous', async (t) => {
  const { api, audit, client } = await startApi({});
  t.after(() => api.close());
  await client().drainNode({ nodeId: 'gpu-1' });
  assert.deepEqual([audit.at(-1)!.principal, audit.at(-1)!.result], ['anonymous', 'ok']);
});
