/**
 * The quota check of one router thread: a request naming a tenant (`x-mesh-tenant`) takes one
 * request and its token estimate from each of that tenant's budgets that cover the model, split
 * over the live routers of the mesh (README.md). Over any of them it is refused with
 * `rate_limited` and the seconds until it would pass; a tenant the control plane does not know is
 * an `invalid_request`; no tenant, no quota.
 */
import { excerpt, MeshError } from '../../core/errors.ts';
import { NO_ROUTING_RULES, type RoutingRules } from '../routing-rules.ts';
import { createQuotaTable, type QuotaTable } from './quota-table.ts';

/** Header naming the request's tenant. */
export const TENANT_HEADER = 'x-mesh-tenant';

export interface QuotaLimiter {
  /**
   * Admits one request of `tenant` (undefined: no quota) for `model` costing `tokens`: throws
   * `invalid_request` for a tenant the rules do not know, `rate_limited` (with
   * `details.retryAfterSeconds` and `details.quota: true`) when a budget is spent.
   */
  admit(tenant: string | undefined, model: string, tokens: number): void;
  /** New rules, with the table of their buckets (shared with the node's other router threads). */
  use(rules: RoutingRules, table: QuotaTable): void;
}

export interface QuotaLimiterOptions {
  /** Routers in the mesh sharing each budget, this one included (at least 1). */
  liveRouters: () => number;
  /** Milliseconds on one clock for every thread of the process (`processClockMs`). */
  now: () => number;
}

export function createQuotaLimiter(options: QuotaLimiterOptions): QuotaLimiter {
  let tenants: ReadonlySet<string> = new Set();
  let table = createQuotaTable(NO_ROUTING_RULES.quotas);
  return {
    admit(tenant, model, tokens) {
      if (tenant === undefined) return;
      if (!tenants.has(tenant)) {
        throw new MeshError(
          'invalid_request',
          `unknown tenant \`${excerpt(tenant)}\` (header ${TENANT_HEADER})`,
          {
            param: TENANT_HEADER,
          },
        );
      }
      const waitMs = table.take(tenant, model, tokens, options.liveRouters(), options.now);
      if (waitMs === 0) return;
      const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
      throw new MeshError(
        'rate_limited',
        `tenant ${tenant} is over its quota for ${excerpt(model)}; retry in ${retryAfterSeconds} s`,
        { retryAfterSeconds, quota: true, tenant },
      );
    },
    use(rules, next) {
      tenants = new Set(Object.keys(rules.tenants));
      table = next;
    },
  };
}
