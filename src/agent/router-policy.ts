/**
 * The control plane's routing policy applied to one router thread: forced drains cut that
 * thread's attempts to the drained nodes, the quota rules take effect with their bucket table, and
 * the SLO rules and tenants' default classes are compiled for its router server, and API keys (when
 * required) follow the stored ones, so a revoked key fails from the next change on.
 * Drains and pins reach the endpoint gate through the same feed (`router-selector.ts`). On the main
 * thread the table is made here (levels carried over from the last); a worker thread attaches to
 * the one the main thread made and posted with the policy (`router-workers.ts`).
 */
import { apiKeysRequired } from '../core/config-api-keys.ts';
import type { MeshConfig } from '../core/config.ts';
import { createApiKeyGate, type ApiKeyGate } from '../data/api-keys.ts';
import type { NodeAttempts } from '../data/node-attempts.ts';
import type { QuotaLimiter } from '../data/quota/quota-limiter.ts';
import { createQuotaTable, type QuotaTable } from '../data/quota/quota-table.ts';
import type { RoutingRules, RoutingRulesFeed } from '../data/routing-rules.ts';
import type { SloRouting } from '../data/slo-rules.ts';

/** How long one tenant+model's `quota_exceeded` events are held back after one was recorded. */
export const QUOTA_EVENT_INTERVAL_MS = 10_000;

export interface RouterPolicyParts {
  attempts: NodeAttempts;
  quota: QuotaLimiter;
  /** The SLO rules the thread's router server reads. */
  slo: SloRouting;
  /** The thread's API key check, when keys are required. */
  apiKeys?: ApiKeyGate;
  /** The bucket table for new rules; default: a new one here, carrying the last one's levels. */
  table?: (rules: RoutingRules) => QuotaTable;
}

/** A table maker that carries each table's levels into the next (one per thread that owns tables). */
export function quotaTables(): (rules: RoutingRules) => QuotaTable {
  let last: QuotaTable | undefined;
  return (rules) => (last = createQuotaTable(rules.quotas, last));
}

/** Applies `feed`'s policy now and on every change; returns the unsubscribe function. */
export function applyRoutingPolicy(feed: RoutingRulesFeed, parts: RouterPolicyParts): () => void {
  const table = parts.table ?? quotaTables();
  const apply = (rules: RoutingRules) => {
    parts.attempts.forceDrain(new Set(rules.drains.filter((d) => d.force).map((d) => d.node)));
    parts.quota.use(rules, table(rules));
    parts.slo.use(rules);
    parts.apiKeys?.use(rules);
  };
  apply(feed.current());
  return feed.onChange(apply);
}

/**
 * The API key check of a router thread when `security.apiKeys` requires keys for a router on
 * `host`, else undefined (`auto`: required off loopback).
 */
export function apiKeyGateFor(config: MeshConfig): ApiKeyGate | undefined {
  const required = apiKeysRequired(config.security.apiKeys, config.router.listen.host);
  return required ? createApiKeyGate() : undefined;
}
