/**
 * Which tenant a request touches, for tenant-scoped callers (a token with a tenant claim). Each
 * RPC that a tenant may call names how to read the tenant off its request; an RPC without one is
 * closed to tenant-scoped callers, so a new RPC is never open to them by accident.
 */

/** Lookups that need the control store (a key id does not say whose key it is). */
export interface TenantLookups {
  /** The tenant owning API key `keyId`, or undefined when there is no such key. */
  apiKeyTenant?(keyId: string): Promise<string | undefined> | string | undefined;
}

/**
 * Reads the tenant a request touches. `undefined`: the request is not about one tenant (then a
 * tenant-scoped caller is refused).
 */
export type TenantOf = (
  message: unknown,
  lookups: TenantLookups,
) => Promise<string | undefined> | string | undefined;

function field(message: unknown, key: string): unknown {
  return typeof message === 'object' && message !== null
    ? (message as Record<string, unknown>)[key]
    : undefined;
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The request's own string field `key` (`CreateApiKey.tenant`). */
export function tenantField(key: string): TenantOf {
  return (message) => nonEmpty(field(message, key));
}

/** The tenant of a quota policy name, `quota.<tenant>.<model|all>` (the names `mesh quota` writes). */
export function quotaNameTenant(name: unknown): string | undefined {
  const parts = typeof name === 'string' ? name.split('.') : [];
  return parts.length >= 3 && parts[0] === 'quota' ? nonEmpty(parts[1]) : undefined;
}

/** `GetPolicy`/`DeletePolicy`: a quota policy's tenant, from its name. */
export const policyNameTenant: TenantOf = (message) => quotaNameTenant(field(message, 'name'));

/**
 * `SetPolicy`: a quota policy whose name and `spec.tenant` agree on one tenant; any other policy
 * (SLO classes, placements) is mesh-wide and not a tenant's to write.
 */
export const setPolicyTenant: TenantOf = (message) => {
  const policy = field(message, 'policy');
  const byName = quotaNameTenant(field(policy, 'name'));
  const bySpec = nonEmpty(field(field(policy, 'spec'), 'tenant'));
  return byName !== undefined && byName === bySpec ? byName : undefined;
};

/** `RevokeApiKey`: the key's tenant, when the store can tell. */
export const apiKeyTenant: TenantOf = async (message, lookups) => {
  const keyId = nonEmpty(field(message, 'keyId'));
  return keyId === undefined ? undefined : await lookups.apiKeyTenant?.(keyId);
};
