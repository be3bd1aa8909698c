/**
 * Keeps this node's pinned models loaded: for every pin that names this node, when none of its
 * endpoints serves the model, it loads it through the runtime control it already has (as
 * LoadModel would), on the pin's endpoint or the only one that can load models. It checks when
 * the pins change and every `intervalMs` (a runtime restart drops what was loaded), and does not
 * retry a failing load more often than `retryMs` so a broken model cannot hammer its runtime, nor
 * load again within `settleMs` of a success (the runtime's model list, scraped, lags the load).
 */
import { create } from '@bufbuild/protobuf';
import type { PolicyFeed } from '../control/policy-feed.ts';
import type { RoutingPolicy } from '../control/routing-policy.ts';
import type { ControlWriter } from '../control/control-writes.ts';
import { loadModel, type ModelController } from '../control/model-control.ts';
import { MeshError } from '../core/errors.ts';
import type { NodeInfo } from '../core/types.ts';
import { LoadModelRequestSchema } from '../gen/infermesh/control/v1/control_pb.js';
import type { Logger } from '../observability/log.ts';

export interface PinKeeperOptions {
  nodeId: string;
  nodes(): NodeInfo[];
  controller: ModelController;
  policy: PolicyFeed;
  /** Records `model_loaded` / `model_failed` events. */
  writer: Pick<ControlWriter, 'recordEvent'>;
  logger: Logger;
  intervalMs?: number;
  /** Least time between two tries of a load that failed. */
  retryMs?: number;
  /** After a load succeeded, how long to trust it while the runtime's model list catches up. */
  settleMs?: number;
}

export function startPinKeeper(o: PinKeeperOptions): { stop(): void } {
  const lastTry = new Map<string, number>();
  const loadedAt = new Map<string, number>();
  const loading = new Set<string>();
  const retryMs = o.retryMs ?? 30_000;
  let stopped = false;

  const ensure = async (spec: RoutingPolicy['pins'][number]) => {
    const { model } = spec;
    const now = Date.now();
    if (loading.has(model) || now - (lastTry.get(model) ?? -Infinity) < retryMs) return;
    if (now - (loadedAt.get(model) ?? -Infinity) < (o.settleMs ?? 10_000)) return;
    loading.add(model);
    lastTry.set(model, Date.now());
    try {
      const req = create(LoadModelRequestSchema, {
        model,
        nodeId: o.nodeId,
        endpoint: spec.endpoint ?? '',
        source: spec.source ?? '',
        revision: spec.revision ?? '',
      });
      const r = await loadModel({ nodeId: o.nodeId, nodes: () => o.nodes(), controller: o.controller }, req, {
        signal: AbortSignal.timeout(120_000),
        timeoutMs: () => 120_000,
        requestHeader: new Headers(),
      });
      loadedAt.set(model, Date.now());
      o.logger.info({ model, endpoint: r.endpointId }, 'pinned model loaded');
      await o.writer.recordEvent('model_loaded', {
        model,
        node: o.nodeId,
        endpoint: r.endpointId,
        reason: 'pinned',
      });
    } catch (err) {
      const e = MeshError.from(err);
      o.logger.warn({ model, code: e.code, err: e.message }, 'pinned model failed to load');
      await o.writer
        .recordEvent('model_failed', { model, node: o.nodeId, reason: 'pinned', error: e.message })
        .catch(() => {}); // the store may be down too: the log line above stays
    } finally {
      loading.delete(model);
    }
  };

  const check = () => {
    if (stopped) return;
    const served = new Set(o.controller.endpoints().flatMap((ep) => ep.models));
    for (const pin of o.policy.current().pins)
      if (pin.nodes.includes(o.nodeId) && !served.has(pin.model)) void ensure(pin);
  };
  const unsubscribe = o.policy.onChange(check);
  const timer = setInterval(check, o.intervalMs ?? 5000).unref();
  check();
  return {
    stop() {
      stopped = true;
      unsubscribe();
      clearInterval(timer);
    },
  };
}
