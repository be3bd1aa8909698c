/**
 * The decision owner: the one scoring engine of the node, on the main thread, deciding for every
 * router worker. Each worker's picks arrive over its port and are answered in arrival order by
 * the same in-process selector the single-threaded router uses, so in-flight counts and tokens,
 * the prefix index and everything learned from outcomes are one router's, not N. Leases live here
 * until their worker ends them; a worker that goes away has its open leases ended as failures.
 */
import type { MessagePort } from 'node:worker_threads';
import { MeshError } from '../../core/errors.ts';
import { PROTOCOLS, type Protocol } from '../../core/types.ts';
import type { EndpointSelector } from '../endpoint-selector.ts';
import type { RouteLease } from '../route-decider.ts';
import { createBatcher } from './batcher.ts';
import type { ModelsSnapshot, OwnerMessage, WorkerMessage } from './messages.ts';

export interface DecisionOwner {
  /** Serves one worker's port until it closes (or `stop`). */
  attach(port: MessagePort): void;
  /** Requests in flight across all workers. */
  openLeases(): number;
  stop(): void;
}

/** How often the served-model snapshot is recomputed and, when changed, pushed to the workers. */
const MODELS_PUSH_MS = 250;

export function createDecisionOwner(selector: EndpointSelector): DecisionOwner {
  const workers = new Set<{ port: MessagePort; leases: Map<number, RouteLease> }>();
  let snapshot = modelsSnapshot(selector);
  let snapshotText = JSON.stringify(snapshot);
  const timer = setInterval(() => {
    const next = modelsSnapshot(selector);
    const text = JSON.stringify(next);
    if (text === snapshotText) return;
    snapshot = next;
    snapshotText = text;
    for (const w of workers) w.port.postMessage([{ kind: 'models', snapshot } satisfies OwnerMessage]);
  }, MODELS_PUSH_MS).unref();

  return {
    attach(port) {
      const worker = { port, leases: new Map<number, RouteLease>() };
      workers.add(worker);
      const out = createBatcher<OwnerMessage>(port);
      out.send({ kind: 'models', snapshot });
      port.on('message', (batch: WorkerMessage[]) => {
        for (const m of batch) {
          if (m.kind === 'pick') out.send(decide(selector, worker.leases, m));
          else if (m.kind === 'first') worker.leases.get(m.id)?.firstToken();
          else {
            worker.leases.get(m.id)?.end(m.ok);
            worker.leases.delete(m.id);
          }
        }
      });
      port.on('close', () => {
        for (const lease of worker.leases.values()) lease.end(false);
        worker.leases.clear();
        workers.delete(worker);
      });
    },
    openLeases() {
      let n = 0;
      for (const w of workers) n += w.leases.size;
      return n;
    },
    stop() {
      clearInterval(timer);
      for (const w of workers) w.port.close();
    },
  };
}

function decide(
  selector: EndpointSelector,
  leases: Map<number, RouteLease>,
  m: Extract<WorkerMessage, { kind: 'pick' }>,
): OwnerMessage {
  try {
    const route = selector.pick(m.model, m.exclude && new Set(m.exclude), m.protocol, m.hints);
    leases.set(m.id, route.lease);
    return { kind: 'route', id: m.id, endpointId: route.endpointId, url: route.url };
  } catch (err) {
    const error = MeshError.from(err);
    return {
      kind: 'refused',
      id: m.id,
      code: error.code,
      message: error.message,
      details: { ...error.details },
    };
  }
}

function modelsSnapshot(selector: EndpointSelector): ModelsSnapshot {
  const served: Record<string, Protocol[]> = {};
  for (const protocol of PROTOCOLS) {
    for (const model of selector.servedModels(protocol)) (served[model] ??= []).push(protocol);
  }
  return { served, known: selector.knownModels() };
}
