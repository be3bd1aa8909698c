import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Code, ConnectError, createClient, type ConnectRouter } from '@connectrpc/connect';
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from '@connectrpc/connect-node';
import { MeshError } from '../core/errors.ts';
import { ControlPlane, EventType } from '../gen/infermesh/control/v1/control_pb.js';
import { StatePlane } from '../gen/infermesh/state/v1/state_pb.js';
import { createStatePlaneService } from '../signal/state/state-plane-service.ts';
import { createStateStore } from '../signal/state/state-store.ts';
import { createApiServer } from './api-server.ts';

// A partial ControlPlane whose methods fail in the ways the error mapping must handle.
const routes = (router: ConnectRouter) => {
  router.service(ControlPlane, {
    listNodes: () => ({ nodes: [{ id: 'n1', apiUrl: 'http://x' }] }),
    getNode: (req) => {
      throw new MeshError('not_found', `no node "${req.nodeId}"`);
    },
    drainNode: () => {
      throw new MeshError('rate_limited', 'slow down');
    },
    listModels: () => {
      throw new TypeError('boom');
    },
    async *subscribeEvents() {
      yield { id: 'e1', type: EventType.NODE_JOINED };
      throw new MeshError('unavailable', 'stopping');
    },
  });
  router.service(StatePlane, createStatePlaneService({ store: createStateStore() }));
};

test('one port serves gRPC (HTTP/2), gRPC-Web and Connect JSON (HTTP/1.1)', async (t) => {
  const api = await createApiServer({ host: '127.0.0.1', port: 0, routes });
  t.after(() => api.close());
  assert.match(api.url, /^http:\/\/127\.0\.0\.1:\d+$/);

  const grpc = createClient(ControlPlane, createGrpcTransport({ baseUrl: api.url }));
  assert.equal((await grpc.listNodes({})).nodes[0]?.id, 'n1');

  const grpcWeb = createClient(
    ControlPlane,
    createGrpcWebTransport({ baseUrl: api.url, httpVersion: '1.1' }),
  );
  assert.equal((await grpcWeb.listNodes({})).nodes[0]?.apiUrl, 'http://x');

  const connect2 = createClient(ControlPlane, createConnectTransport({ baseUrl: api.url, httpVersion: '2' }));
  assert.equal((await connect2.listNodes({})).nodes.length, 1);

  const res = await fetch(`${api.url}/infermesh.control.v1.ControlPlane/ListNodes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { nodes: Array<{ id: string; apiUrl: string }> };
  assert.deepEqual(body.nodes, [{ id: 'n1', apiUrl: 'http://x' }]);
});

test('MeshError and unexpected errors map to Connect codes on every protocol', async (t) => {
  const api = await createApiServer({ host: '127.0.0.1', port: 0, routes });
  t.after(() => api.close());
  for (const transport of [
    createGrpcTransport({ baseUrl: api.url }),
    createConnectTransport({ baseUrl: api.url, httpVersion: '1.1' }),
  ]) {
    const client = createClient(ControlPlane, transport);
    const codeOf = async (p: Promise<unknown>) => {
      const err = await p.then(
        () => assert.fail('expected an error'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof ConnectError);
      return { code: err.code, mesh: err.metadata.get('mesh-error-code'), message: err.rawMessage };
    };
    assert.deepEqual(await codeOf(client.getNode({ nodeId: 'x' })), {
      code: Code.NotFound,
      mesh: 'not_found',
      message: 'no node "x"',
    });
    assert.equal((await codeOf(client.drainNode({}))).code, Code.ResourceExhausted);
    assert.deepEqual(await codeOf(client.listModels({})), {
      code: Code.Internal,
      mesh: 'internal',
      message: 'boom',
    });
    // Not implemented by the handler at all: connect's own UNIMPLEMENTED passes through.
    assert.equal((await codeOf(client.pinModel({}))).code, Code.Unimplemented);
    // An error thrown mid-stream, after a first message.
    const seen: string[] = [];
    const streamErr = await codeOf(
      (async () => {
        for await (const ev of client.subscribeEvents({})) seen.push(ev.id);
      })(),
    );
    assert.deepEqual(seen, ['e1']);
    assert.deepEqual(streamErr, { code: Code.Unavailable, mesh: 'unavailable', message: 'stopping' });
  }
  // Plain JSON clients see the Connect error body with the snake_case code.
  const res = await fetch(`${api.url}/infermesh.control.v1.ControlPlane/GetNode`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"nodeId":"nope"}',
  });
  assert.equal(res.status, 404);
  assert.deepEqual(await res.json(), { code: 'not_found', message: 'no node "nope"' });
});

test('close() ends open watch streams promptly on HTTP/2 and HTTP/1.1', async () => {
  // A long grace: the streams must end because the server ends them, not because sockets are cut.
  const api = await createApiServer({ host: '127.0.0.1', port: 0, routes, closeGraceMs: 10_000 });
  const watchers = [
    createGrpcTransport({ baseUrl: api.url }),
    createConnectTransport({ baseUrl: api.url, httpVersion: '1.1' }),
  ].map(async (transport) => {
    const events: string[] = [];
    try {
      for await (const ev of createClient(StatePlane, transport).watchModelStates({}))
        events.push(ev.event.case ?? '');
    } catch (err) {
      events.push(`error:${(err as ConnectError).code}`);
    }
    return events;
  });
  // Let both streams get their snapshot marker before closing.
  await new Promise((r) => setTimeout(r, 200));
  const started = Date.now();
  await api.close();
  const results = await Promise.all(watchers);
  assert.ok(Date.now() - started < 2000, `close took ${Date.now() - started} ms`);
  for (const events of results) assert.equal(events[0], 'snapshotDone');
});

test('a request whose first bytes trickle in is still told apart (POST also starts with "P")', async (t) => {
  const api = await createApiServer({ host: '127.0.0.1', port: 0, routes });
  t.after(() => api.close());
  const request =
    'POST /infermesh.control.v1.ControlPlane/ListNodes HTTP/1.1\r\nHost: x\r\n' +
    'Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}';
  const socket = connect(api.port, '127.0.0.1');
  let response = '';
  socket.on('data', (d: Buffer) => (response += d.toString()));
  const closed = new Promise((resolve) => socket.on('close', resolve));
  await new Promise((resolve) => socket.once('connect', resolve));
  for (const ch of request.slice(0, 3)) {
    socket.write(ch);
    await new Promise((r) => setTimeout(r, 15));
  }
  socket.end(request.slice(3));
  await closed;
  assert.match(response, /^HTTP\/1\.1 200 OK/);
  assert.match(response, /"id":"n1"/);
});

test('close() does not wait for a connection that never spoke', async () => {
  const api = await createApiServer({ host: '127.0.0.1', port: 0, routes, closeGraceMs: 10_000 });
  const silent = connect(api.port, '127.0.0.1');
  await new Promise((resolve) => silent.once('connect', resolve));
  await new Promise((r) => setTimeout(r, 20));
  const started = Date.now();
  await api.close();
  assert.ok(Date.now() - started < 1000);
  silent.destroy();
});

test('an HTTP/1.1 client trickling its headers is cut at the header deadline; a finished request is not', async (t) => {
  const api = await createApiServer({ host: '127.0.0.1', port: 0, routes, headersTimeoutMs: 300 });
  t.after(() => api.close());
  const slow = connect(api.port, '127.0.0.1');
  const closed = new Promise((resolve) => slow.on('close', resolve));
  slow.on('error', () => undefined);
  await new Promise((resolve) => slow.once('connect', resolve));
  slow.write('GET /infermesh.control.v1.ControlPlane/ListNodes HTTP/1.1\r\nHost: x\r\n');
  // One header byte every 50 ms keeps the socket busy, but the headers never end: bounded loop.
  let sent = 0;
  let isClosed = false;
  void closed.then(() => (isClosed = true));
  for (; sent < 60 && !isClosed; sent++) {
    slow.write('X');
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(isClosed, 'the server closed the trickling connection');
  assert.ok(sent < 20, `closed after ${sent} bytes (~${sent * 50} ms)`);

  // A client whose request completes keeps being served on the same connection.
  const res = await fetch(`${api.url}/infermesh.control.v1.ControlPlane/ListNodes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(res.status, 200);
});
