/**
 * What the data plane takes from the control plane's routing policy, as plain data: drains, pins,
 * quotas, SLO class rules, the known tenants with their default SLO class, and the tenants' API
 * keys (salted hashes, checked by `api-keys.ts`). The control plane's `RoutingPolicy` (`src/control/routing-policy.ts`)
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

/** Hedging knobs an SLO rule may override (those of `router.hedging.sloClasses.<class>`). */
export interface SloHedgingRule {
  enabled?: boolean;
  budget?: 'predicted' | 'p95' | 'fixed';
  predictedMultiplier?: number;
  p95Multiplier?: number;
  fixedBudgetMs?: number;
  minBudgetMs?: number;
  maxBudgetMs?: number;
}

/**
 * One SLO class rule: how requests of `class` for `models` (empty = every model) are treated.
 * `slo-rules.ts` resolves which rule applies to a (class, model) and what it changes.
 */
export interface SloRule {
  /** The SLO policy's name: ties between equally specific rules go to the first by name. */
  policy: string;
  models: readonly string[];
  class: 'latency' | 'throughput';
  /** Time-to-first-token budget: caps the hedge budget. */
  ttftMs?: number;
  /** End-to-end budget: the request's deadline when the client sends no timeout. */
  e2eMs?: number;
  hedging?: SloHedgingRule;
  admission?: { maxWaitMs?: number };
  /** Scorer weight overrides by scorer name, on top of the profile's own for the class. */
  weights?: Readonly<Record<string, number>>;
}

export interface RoutingRules {
  /** Nodes that take no new requests; `force`: their in-flight requests are cut as well. */
  drains: ReadonlyArray<{ node: string; force: boolean }>;
  /** `require` routes the model only to these nodes; `prefer` only while one of them can serve. */
  pins: ReadonlyArray<{ model: string; nodes: readonly string[]; mode: 'prefer' | 'require' }>;
  quotas: readonly QuotaRule[];
  slo: readonly SloRule[];
  /** Known tenant ids, with the SLO class of their requests that name none. */
  tenants: Readonly<Record<string, { defaultSloClass?: 'latency' | 'throughput' }>>;
  /** API key id → the tenant it authenticates as and the salted hash of its secret. */
  apiKeys?: Readonly<Record<string, { tenant: string; salt: string; hash: string }>>;
}

/** The rules now, and a way to hear of every change (the control plane's `PolicyFeed` is one). */
export interface RoutingRulesFeed {
  current(): RoutingRules;
  /** Returns the unsubscribe function. */
  onChange(listener: (rules: RoutingRules) => void): () => void;
}

export const NO_ROUTING_RULES: RoutingRules = { drains: [], pins: [], quotas: [], slo: [], tenants: {} };
