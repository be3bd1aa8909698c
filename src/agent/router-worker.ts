/**
 * One router worker thread: its own HTTP server on the node's router port (SO_REUSEPORT, so the
 * kernel spreads connections over the workers), its own upstream pools, request metrics and
 * logger, and no routing state of its own: picks go to the node's decision owner on the main
 * thread over the `decisions` port. The main thread drives it with `RouterWorkerCommand`s.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { MeshConfig } from '../core/config.ts';
import { MeshError } from '../core/errors.ts';
import { createRemoteDecider } from '../data/decisions/remote-decider.ts';
import { createRouterServer, type RouterServer } from '../data/router-server.ts';
import { createUpstreams } from '../data/upstreams.ts';
import { createLogger } from '../observability/log.ts';
import { createMeshMetrics } from '../observability/metrics.ts';
import type { RouterWorkerCommand, RouterWorkerData, RouterWorkerEvent } from './router-worker-protocol.ts';

const data = workerData as RouterWorkerData;
const control = parentPort!;
const send = (event: RouterWorkerEvent) => control.postMessage(event);

async function start(config: MeshConfig['router'], decisions: MessagePort): Promise<RouterServer> {
  const logger = createLogger(data.logLevel, { node: data.nodeId, component: 'router', worker: data.index });
  const metrics = createMeshMetrics();
  const upstreams = createUpstreams({
    connections: Math.ceil(config.connectionsPerEndpoint / data.workers),
    headersTimeoutMs: config.upstreamHeadersTimeoutMs,
    bodyTimeoutMs: config.upstreamBodyTimeoutMs,
  });
  const server = await createRouterServer({
    host: config.listen.host,
    port: data.port,
    backlog: config.listenBacklog,
    reusePort: true,
    worker: data.index,
    maxBodyBytes: config.maxBodyBytes,
    retries: config.retries,
    decider: createRemoteDecider(decisions, { blockTokens: data.blockTokens }),
    upstreams,
    metrics,
    logger,
  });
  control.on('message', (command: RouterWorkerCommand) => {
    if (command.kind === 'metrics') {
      void metrics.registry
        .getMetricsAsJSON()
        .then((json) => send({ kind: 'metrics', id: command.id, json }));
    } else if (command.kind === 'drain') {
      void server.drain(command.timeoutMs).then((report) => send({ kind: 'drained', report }));
    } else {
      void Promise.all([server.close(), upstreams.close()]).finally(() => {
        decisions.close();
        control.close();
      });
    }
  });
  return server;
}

start(data.router, data.decisions).then(
  (server) => send({ kind: 'listening', url: server.url }),
  (err: unknown) => {
    const error = MeshError.from(err);
    send({ kind: 'failed', code: error.code, message: error.message });
  },
);
