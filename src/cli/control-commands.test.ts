import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectError, Code } from '@connectrpc/connect';
import { createApiServer } from '../agent/api-server.ts';
import { controlPlaneRoutes } from '../control/control-plane-service.ts';
import { memoryControlRecords } from '../control/testing/memory-records.ts';
import { MESH_ERROR_CODE_HEADER } from '../core/errors.ts';
import { formatEventLine } from './commands/events.ts';
import { draftPolicy } from './commands/policy-input.ts';
import { quotaPolicyName } from './commands/quota.ts';
import { formatError } from './errors.ts';
import { createFreshness } from './freshness.ts';
import { formatUpdate } from './output.ts';
import { runCli } from './program.ts';
import { UsageError } from './runner.ts';

const dir = mkdtempSync(join(tmpdir(), 'cli-policy-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

test('quota policy names: one per tenant and model, valid record names', () => {
  assert.equal(quotaPolicyName('acme'), 'quota.acme.all');
  assert.equal(quotaPolicyName('acme', 'meta-llama/Llama-3-8B'), 'quota.acme.meta-llama-llama-3-8b');
  const long = quotaPolicyName('acme', `org/${'x'.repeat(80)}`);
  assert.equal(long.length, 63);
  assert.match(long, /^[a-z0-9][a-z0-9._-]{0,62}$/);
  assert.notEqual(long, quotaPolicyName('acme', `org/${'x'.repeat(81)}`));
});

test('policy set: --spec, a spec file, a whole-policy file (or saved `policy get`), and usage errors', () => {
  assert.deepEqual(draftPolicy('slo.a', { type: 'slo', spec: '{"class":"latency"}', model: ['m'] }), {
    name: 'slo.a',
    type: 'slo',
    targetModels: ['m'],
    targetNodes: [],
    spec: { class: 'latency' },
  });
  const specOnly = file('spec.json', '{"class":"throughput"}');
  assert.deepEqual(draftPolicy('slo.b', { type: 'slo', file: specOnly }).spec, { class: 'throughput' });
  const whole = file('whole.yaml', 'name: slo.c\ntype: slo\ntargetNodes: [n1]\nspec: { class: latency }\n');
  assert.deepEqual(draftPolicy(undefined, { file: whole, model: ['m'] }), {
    name: 'slo.c',
    type: 'slo',
    targetModels: ['m'],
    targetNodes: ['n1'],
    spec: { class: 'latency' },
  });
  const saved = file(
    'saved.yaml',
    'policy:\n  name: slo.d\n  type: slo\n  revision: 7\n  spec: { class: latency }\n',
  );
  assert.equal(draftPolicy(undefined, { file: saved }).name, 'slo.d');
  const bad: Array<[string | undefined, Parameters<typeof draftPolicy>[1], RegExp]> = [
    ['x', { type: 'slo' }, /--spec JSON or -f FILE/],
    ['x', { spec: '{}' }, /missing --type/],
    ['x', { type: 'slo', spec: '[1]' }, /JSON object/],
    ['x', { type: 'slo', spec: '{' }, /not valid JSON/],
    ['other', { file: whole }, /differs from the file's name/],
    [undefined, { file: whole, type: 'quota' }, /differs from the file's type/],
    [
      undefined,
      { file: file('typo.yaml', 'name: a\ntype: slo\ntargetModel: [m]\nspec: {}\n') },
      /unknown key\(s\) targetModel/,
    ],
    [undefined, { file: join(dir, 'missing.yaml') }, /cannot read/],
  ];
  for (const [name, opts, message] of bad)
    assert.throws(
      () => draftPolicy(name, opts),
      (e) => e instanceof UsageError && message.test(e.message),
    );
});

test('stale answers warn once per revision on stderr, with the revision', () => {
  let stderr = '';
  const freshness = createFreshness({ write: (s: string) => (stderr += s) });
  freshness.onHeader(new Headers({ 'mesh-revision': '41' }));
  assert.equal(stderr, '');
  assert.equal(freshness.revision(), 41);
  const stale = new Headers({ 'mesh-revision': '42', 'mesh-stale': 'true' });
  freshness.onHeader(stale);
  freshness.onHeader(stale);
  assert.equal(
    stderr,
    'warning: answered from the last known state (revision 42): the control store is unreachable\n',
  );
});

test('an error that lists problems stays one line with every problem', () => {
  const err = new ConnectError(
    'policy "slo.x" is invalid:\n  spec.class: bad\n  spec.ttftMs: too small',
    Code.InvalidArgument,
  );
  err.metadata.set(MESH_ERROR_CODE_HEADER, 'invalid_request');
  assert.equal(
    formatError(err, { endpoint: 'http://x', timeoutMs: 1 }),
    'mesh: error: invalid_request: policy "slo.x" is invalid: spec.class: bad; spec.ttftMs: too small\n',
  );
});

test('followed events and watched lists: one JSON object a line, aligned table lines', () => {
  const e = {
    revision: 12,
    type: 'node_draining',
    time: '2026-12-06T12:00:00.000Z',
    source: 'local',
    data: { node: 'n', force: 'false' },
  };
  assert.deepEqual(JSON.parse(formatEventLine(e, 'json')), e);
  assert.equal(
    formatEventLine(e, 'table'),
    '12        2026-12-06T12:00:00.000Z  node_draining    local         force=false node=n\n',
  );
  const view = { head: ['A'], rows: [['1']] };
  const opts = { color: false, tty: false };
  assert.equal(formatUpdate({ a: 1 }, view, 'json', { ...opts, first: false }), '{"a":1}\n');
  assert.equal(formatUpdate({ a: 1 }, view, 'table', { ...opts, first: true }), 'A\n1\n');
  assert.equal(formatUpdate({ a: 1 }, view, 'table', { ...opts, first: false }), '\nA\n1\n');
});

test('a read answered from a stale mirror prints the answer and warns on stderr', async (t) => {
  const records = await memoryControlRecords('n1');
  t.after(() => records.store.close());
  await records.writer.createTenant({ id: 'acme' });
  // The view of a node whose store stopped answering: it serves its last snapshot, marked stale.
  const stale = { ...records, view: { ...records.view, stale: () => true } };
  const api = await createApiServer({
    host: '127.0.0.1',
    port: 0,
    routes: controlPlaneRoutes({ nodes: () => [], modelStates: () => [], records: stale }),
  });
  t.after(() => api.close());
  let stdout = '';
  let stderr = '';
  const code = await runCli(['-e', api.url, 'tenant', 'list', '-o', 'json'], {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: {},
  });
  assert.equal(code, 0, stderr);
  assert.deepEqual(
    (JSON.parse(stdout) as { tenants: Array<{ id: string }> }).tenants.map((x) => x.id),
    ['acme'],
  );
  assert.match(
    stderr,
    /^warning: answered from the last known state \(revision \d+\): the control store is unreachable\n$/,
  );
});
