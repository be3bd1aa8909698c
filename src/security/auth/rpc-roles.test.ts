import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { DescService } from '@bufbuild/protobuf';
import { ControlPlane } from '../../gen/infermesh/control/v1/control_pb.js';
import { Quarantine } from '../../gen/infermesh/control/v1/quarantine_pb.js';
import { Scoring } from '../../gen/infermesh/scoring/v1/scoring_pb.js';
import { StatePlane } from '../../gen/infermesh/state/v1/state_pb.js';
import { authorize } from './authorize.ts';
import { ANONYMOUS_ADMIN, type Principal } from './roles.ts';
import { RPC_ROLES } from './rpc-roles.ts';

/** Every service served on the API port (src/agent/services.ts). */
const SERVICES: DescService[] = [ControlPlane, Quarantine, StatePlane, Scoring];

const yes = (b: boolean | undefined) => (b ? 'yes' : '');

/** `ControlPlane.ListNodes` → its row, as the code says it. */
function codeRows(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const [service, rpcs] of Object.entries(RPC_ROLES)) {
    for (const [method, r] of Object.entries(rpcs)) {
      rows.set(
        `${service.split('.').at(-1)}.${method}`,
        [r.role, yes(r.node), yes(r.write), yes(r.tenant !== undefined)].join('|'),
      );
    }
  }
  return rows;
}

/** The rows of docs/SECURITY.md's "Who may do what" table. */
function docRows(): Map<string, string> {
  const doc = readFileSync(new URL('../../../docs/SECURITY.md', import.meta.url), 'utf8');
  const section = doc.split(/^## Who may do what$/m)[1]?.split(/^## /m)[0] ?? '';
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    const rpc = /^`(\w+\.\w+)`$/.exec(cells[0] ?? '')?.[1];
    if (rpc) rows.set(rpc, cells.slice(1).join('|'));
  }
  return rows;
}

test('every RPC of every API service has exactly one entry, and the table names no RPC that does not exist', () => {
  const declared = new Set(SERVICES.flatMap((s) => s.methods.map((m) => `${s.typeName}/${m.name}`)));
  const tabled = new Set(
    Object.entries(RPC_ROLES).flatMap(([s, rpcs]) => Object.keys(rpcs).map((m) => `${s}/${m}`)),
  );
  assert.deepEqual(
    [...declared].filter((r) => !tabled.has(r)),
    [],
    'RPCs without a role',
  );
  assert.deepEqual(
    [...tabled].filter((r) => !declared.has(r)),
    [],
    'table entries for no RPC',
  );
});

test('docs/SECURITY.md renders the RPC table, both ways', () => {
  const code = codeRows();
  const doc = docRows();
  for (const [rpc, row] of code) assert.equal(doc.get(rpc), row, `docs row of ${rpc}`);
  for (const rpc of doc.keys()) assert.ok(code.has(rpc), `docs list ${rpc}, the code does not`);
});

test('the ladder, node identities, unknown RPCs', async () => {
  const who = (roles: Principal['roles'], node = false): Principal => ({
    name: 't',
    source: 'jwt',
    roles,
    node,
  });
  const cp = 'infermesh.control.v1.ControlPlane';
  await authorize(who(['admin']), cp, 'DrainNode', {});
  await authorize(who(['viewer', 'operator']), cp, 'DrainNode', {});
  await assert.rejects(authorize(who(['viewer']), cp, 'DrainNode', {}), { code: 'permission_denied' });
  await assert.rejects(authorize(who([]), cp, 'ListNodes', {}), { code: 'permission_denied' });
  // A node may forward model control and stream state, never drain or write policies.
  await assert.rejects(authorize(who(['viewer'], true), cp, 'LoadModel', {}), { code: 'permission_denied' });
  await authorize(who(['viewer'], true), 'infermesh.state.v1.StatePlane', 'ShareInFlight', undefined);
  await assert.rejects(authorize(who(['viewer'], true), cp, 'DrainNode', {}), { code: 'permission_denied' });
  await assert.rejects(authorize(ANONYMOUS_ADMIN, cp, 'Reboot', {}), /not in the RPC table/);
  await assert.rejects(authorize(ANONYMOUS_ADMIN, cp, 'constructor', {}), /not in the RPC table/);
});

test('tenant-scoped callers: only their own tenant, and RevokeApiKey through the store lookup', async () => {
  const acme: Principal = { name: 't', source: 'jwt', roles: ['admin'], node: false, tenant: 'acme' };
  const cp = 'infermesh.control.v1.ControlPlane';
  await authorize(acme, cp, 'CreateApiKey', { tenant: 'acme' });
  await assert.rejects(authorize(acme, cp, 'CreateApiKey', { tenant: 'globex' }), /scoped to tenant "acme"/);
  await assert.rejects(authorize(acme, cp, 'ListApiKeys', { tenant: '' }), /names no single tenant/);
  await authorize(acme, cp, 'DeletePolicy', { name: 'quota.acme.all' });
  await assert.rejects(authorize(acme, cp, 'DeletePolicy', { name: 'slo.gold' }), /names no single tenant/);
  const spec = (tenant: string) => ({ policy: { name: 'quota.acme.all', spec: { tenant } } });
  await authorize(acme, cp, 'SetPolicy', spec('acme'));
  await assert.rejects(authorize(acme, cp, 'SetPolicy', spec('globex')), { code: 'permission_denied' });
  await assert.rejects(authorize(acme, cp, 'RevokeApiKey', { keyId: 'k1' }), { code: 'permission_denied' });
  const lookups = { apiKeyTenant: (id: string) => (id === 'k1' ? 'acme' : 'globex') };
  await authorize(acme, cp, 'RevokeApiKey', { keyId: 'k1' }, lookups);
  await assert.rejects(authorize(acme, cp, 'RevokeApiKey', { keyId: 'k2' }, lookups), {
    code: 'permission_denied',
  });
});
