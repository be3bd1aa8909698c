/**
 * A router worker's `RouteDecider`: every pick is asked of the node's decision owner over the
 * worker's port (batched per event loop turn) and the lease's first token and end are reported
 * back the same way. Served and known models come from the snapshots the owner pushes, so
 * `/v1/models` and the metric label bound cost no round trip.
 */
import type { MessagePort } from 'node:worker_threads';
import { MeshError } from '../../core/errors.ts';
import type { Protocol } from '../../core/types.ts';
import type { Route, RouteDecider } from '../route-decider.ts';
import { createBatcher } from './batcher.ts';
import type { ModelsSnapshot, OwnerMessage, WorkerMessage } from './messages.ts';

export interface RemoteDeciderOptions {
  blockTokens: number;
  /** How long a pick may wait for the owner before the request gets `unavailable`. */
  answerTimeoutMs?: number;
}

interface Pending {
  resolve(route: Route): void;
  reject(error: MeshError): void;
  /** `performance.now()` after which the pick fails. */
  deadline: number;
}

const ANSWER_TIMEOUT_MS = 5000;
/** How often unanswered picks are checked (one timer for all, not one per request). */
const SWEEP_MS = 500;

export function createRemoteDecider(port: MessagePort, options: RemoteDeciderOptions): RouteDecider {
  const out = createBatcher<WorkerMessage>(port);
  const pending = new Map<number, Pending>();
  const answerTimeoutMs = options.answerTimeoutMs ?? ANSWER_TIMEOUT_MS;
  let snapshot: ModelsSnapshot = { served: {}, known: [] };
  let known = new Set<string>();
  let nextId = 1;

  const leaseFor = (id: number) => {
    let ended = false;
    return {
      firstToken: () => {
        if (!ended) out.send({ kind: 'first', id });
      },
      end: (ok: boolean) => {
        if (ended) return;
        ended = true;
        out.send({ kind: 'end', id, ok });
      },
    };
  };

  const sweep = setInterval(() => {
    const now = performance.now();
    for (const [id, waiting] of pending) {
      if (waiting.deadline > now) continue;
      pending.delete(id);
      waiting.reject(
        new MeshError('unavailable', `the node's router did not decide within ${answerTimeoutMs} ms`),
      );
    }
  }, SWEEP_MS).unref();
  port.on('close', () => clearInterval(sweep));

  port.on('message', (batch: OwnerMessage[]) => {
    for (const m of batch) {
      if (m.kind === 'models') {
        snapshot = m.snapshot;
        known = new Set(m.snapshot.known);
        continue;
      }
      const waiting = pending.get(m.id);
      if (!waiting) {
        // Answered after its timeout: the owner holds a lease nobody will use.
        if (m.kind === 'route') out.send({ kind: 'end', id: m.id, ok: false });
        continue;
      }
      pending.delete(m.id);
      if (m.kind === 'route')
        waiting.resolve({ endpointId: m.endpointId, url: m.url, lease: leaseFor(m.id) });
      else waiting.reject(new MeshError(m.code, m.message, m.details));
    }
  });

  return {
    blockTokens: options.blockTokens,
    pick(model, exclude, protocol = 'openai', hints = {}) {
      const id = nextId++;
      return new Promise<Route>((resolve, reject) => {
        pending.set(id, { resolve, reject, deadline: performance.now() + answerTimeoutMs });
        out.send({ kind: 'pick', id, model, protocol, exclude: exclude && [...exclude], hints });
      });
    },
    servedModels(protocol?: Protocol) {
      const models = Object.keys(snapshot.served).filter(
        (m) => protocol === undefined || snapshot.served[m]!.includes(protocol),
      );
      return models.sort();
    },
    knowsModel: (model) => known.has(model),
  };
}
