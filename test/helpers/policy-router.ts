/**
 * Test fixture: the router role in-process (one thread, or worker threads over a shared journal),
 * over a state store the test fills with one endpoint per scripted backend (node = its key), and
 * a routing policy from a `createPolicyFeed()` the test sets, as meshd's control mirror would.
 */
import { startRouterRole, type RouterRole } from '../../src/agent/router-role.ts';
import { createPolicyFeed } from '../../src/control/policy-feed.ts';
import { EMPTY_ROUTING_POLICY, type RoutingPolicy } from '../../src/control/routing-policy.ts';
import { processClockMs } from '../../src/core/clock.ts';
import { parseConfig, type ConfigInput } from '../../src/core/config.ts';
import { modelState } from '../../src/core/testing/model-state.ts';
import type { ModelState } from '../../src/core/types.ts';
import { createLogger } from '../../src/observability/log.ts';
import { createMeshMetrics } from '../../src/observability/metrics.ts';
import { createScoringEngine } from '../../src/scoring/engine.ts';
import { engineOptionsFromConfig } from '../../src/scoring/from-config.ts';
import { attachSharedJournal, createJournalMemory } from '../../src/scoring/journal/shared-journal.ts';
import { syncEngineWithStore } from '../../src/scoring/store-sync.ts';
import { createGpuStore } from '../../src/signal/state/gpu-store.ts';
import { createStateStore } from '../../src/signal/state/state-store.ts';
import type { ScriptedBackend } from './scripted-backend.ts';

export interface PolicyRouter {
  role: RouterRole;
  feed: ReturnType<typeof createPolicyFeed>;
  metrics: ReturnType<typeof createMeshMetrics>;
  /** Tenant and model of every quota_exceeded the router reported. */
  exceeded: string[];
  /** Sets each node's endpoint record (`byNode[node]` over the defaults), fresh now. */
  state(byNode?: Record<string, Partial<ModelState>>): void;
  close(): Promise<void>;
}

export interface PolicyRouterOptions {
  model: string;
  workers: number;
  backends: Record<string, ScriptedBackend>;
  tenants: RoutingPolicy['tenants'];
  /** Config keys of `router` beside listen (port 0), workers and `retries: 1`. */
  router?: NonNullable<ConfigInput['router']>;
  scoring?: ConfigInput['scoring'];
  /** Fields every endpoint record starts with (before `state`'s per-node ones). */
  defaults?: Partial<ModelState>;
}

export async function startPolicyRouter(o: PolicyRouterOptions): Promise<PolicyRouter> {
  const config = parseConfig({
    apiVersion: 'infermesh/v1',
    node: { id: 'router', roles: ['router'] },
    log: { level: 'silent' },
    router: { listen: { port: 0 }, workers: o.workers, retries: 1, ...o.router },
    ...(o.scoring ? { scoring: o.scoring } : {}),
  });
  const store = createStateStore();
  const gpus = createGpuStore();
  const journal = o.workers > 1 ? createJournalMemory() : undefined;
  const scoring = createScoringEngine({
    ...engineOptionsFromConfig(config.scoring),
    ...(journal ? { journal: attachSharedJournal(journal, 0), trackOpen: true, now: processClockMs } : {}),
  });
  const unsync = syncEngineWithStore(scoring, store, gpus);
  const state = (byNode: Record<string, Partial<ModelState>> = {}) => {
    for (const [node, b] of Object.entries(o.backends))
      store.upsert(
        modelState(`${node}/e`, {
          node,
          model: o.model,
          endpointUrl: b.url,
          updatedAt: Date.now(),
          ...o.defaults,
          ...byNode[node],
        }),
      );
  };
  state();
  const feed = createPolicyFeed({ ...EMPTY_ROUTING_POLICY, tenants: o.tenants });
  const metrics = createMeshMetrics();
  const exceeded: string[] = [];
  const role = await startRouterRole(config, {
    store,
    gpus,
    scoring,
    journal,
    metrics,
    logger: createLogger('silent'),
    policy: feed,
    liveRouters: () => 1,
    onQuotaExceeded: (tenant, model) => exceeded.push(`${tenant}/${model}`),
  });
  return {
    role,
    feed,
    metrics,
    exceeded,
    state,
    async close() {
      await role.stop();
      unsync();
    },
  };
}
