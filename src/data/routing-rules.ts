/**
 * What the data plane takes from the control plane's routing policy, as plain data: drains, pins,
 * quotas and the known tenants. The control plane's `RoutingPolicy` (`src/control/routing-policy.ts`)
 * has this shape and more; the data plane names only what it reads, so it depends on no control
 * module (the agent hands the control feed over as a `RoutingRulesFeed`).
 */

/** One quota rule: budgets of `tenant`; `models` empty = one budget over all its models. */
export interface QuotaRule {
  /** The quota policy's name: two rules for one tenant keep separate buckets. */
  policy: string;
  models: readonly string[];
  tenant: string;
  requestsPerSecond?: number;
  tokensPerMinute?: number;
  /** Requests the bucket holds after a quiet spell; default one second's worth. */
  burstRequests?: number;
  /** Tokens the bucket holds after a quiet spell; default one minute's worth. */
  burstTokens?: number;
}

export interface RoutingRules {
  /** Nodes that take no new requests; `force`: their in-flight requests are cut as well. */
  drains: ReadonlyArray<{ node: string; force: boolean }>;
  /** `require` routes the model only to these nodes; `prefer` only while one of them can serve. */
  pins: ReadonlyArray<{ model: string; nodes: readonly string[]; mode: 'prefer' | 'require' }>;
  quotas: readonly QuotaRule[];
  /** Known tenant ids (values unused here). */
  tenants: Readonly<Record<string, unknown>>;
}

/** The rules now, and a way to hear of every change (the control plane's `PolicyFeed` is one). */
export interface RoutingRulesFeed {
  current(): RoutingRules;
  /** Returns the unsubscribe function. */
  onChange(listener: (rules: RoutingRules) => void): () => void;
}

export const NO_ROUTING_RULES: RoutingRules = { drains: [], pins: [], quotas: [], tenants: {} };
