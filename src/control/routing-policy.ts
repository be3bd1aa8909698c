/**
 * What routing takes from the control records, as plain data: it is computed once per change of
 * the mirror (not per request) and posted as is to router worker threads.
 */
import type { ControlSnapshot } from './control-view.ts';
import type { QuotaSpec, SloSpec } from './model/records.ts';

export interface RoutingPolicy {
  /** The control revision it was computed from. */
  revision: number;
  /** Nodes that take no new requests; `force`: their in-flight requests are cut as well. */
  drains: Array<{ node: string; force: boolean }>;
  /**
   * Per pinned model: its nodes; `require` routes only there, `prefer` there while one can serve.
   * `source`, `endpoint`, `revision`: how the pinned nodes load it (pin-keeper.ts).
   */
  pins: Array<{
    model: string;
    nodes: string[];
    mode: 'prefer' | 'require';
    source?: string;
    endpoint?: string;
    revision?: string;
  }>;
  /** Quota rules: `models` empty = one budget over every model of the tenant. */
  quotas: Array<{ policy: string; models: string[] } & QuotaSpec>;
  /** SLO class settings: `models` empty = every model. */
  slo: Array<{ policy: string; models: string[] } & SloSpec>;
  /** Tenant id → its default SLO class. */
  tenants: Record<string, { defaultSloClass: 'latency' | 'throughput' }>;
  /** API key id → its tenant and salted hash: routers check keys with this alone (no secret travels). */
  apiKeys: Record<string, { tenant: string; salt: string; hash: string }>;
}

export const EMPTY_ROUTING_POLICY: RoutingPolicy = {
  revision: 0,
  drains: [],
  pins: [],
  quotas: [],
  slo: [],
  tenants: {},
  apiKeys: {},
};

export function routingPolicyOf(s: ControlSnapshot): RoutingPolicy {
  const policy: RoutingPolicy = { ...EMPTY_ROUTING_POLICY, revision: s.revision };
  policy.drains = [...s.drains.values()].map((d) => ({ node: d.nodeId, force: d.force }));
  policy.pins = [];
  policy.quotas = [];
  policy.slo = [];
  for (const p of s.policies.values()) {
    if (p.type === 'placement')
      policy.pins.push({
        model: p.targetModels[0] ?? '',
        nodes: [...p.targetNodes],
        mode: p.spec.mode,
        ...(p.spec.source ? { source: p.spec.source } : {}),
        ...(p.spec.endpoint ? { endpoint: p.spec.endpoint } : {}),
        ...(p.spec.revision ? { revision: p.spec.revision } : {}),
      });
    else if (p.type === 'quota')
      policy.quotas.push({ policy: p.name, models: [...p.targetModels], ...p.spec });
    else if (p.type === 'slo') policy.slo.push({ policy: p.name, models: [...p.targetModels], ...p.spec });
  }
  policy.tenants = Object.fromEntries(
    [...s.tenants.values()].map((t) => [t.id, { defaultSloClass: t.defaultSloClass }]),
  );
  policy.apiKeys = Object.fromEntries(
    [...s.apiKeys.values()].map((k) => [k.id, { tenant: k.tenant, salt: k.salt, hash: k.hash }]),
  );
  return policy;
}
