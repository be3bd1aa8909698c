/**
 * Where the control plane's records live in the store (keys relative to the store's prefix). One
 * folder per kind, so a mirror lists and watches `control/` once and events are watched apart.
 */

/** Everything the mirror (control-view.ts) keeps: policies, tenants, drains, API keys (hashed). */
export const CONTROL_PREFIX = 'control/';
export const POLICIES_PREFIX = 'control/policies/';
export const TENANTS_PREFIX = 'control/tenants/';
export const DRAINS_PREFIX = 'control/drains/';
export const APIKEYS_PREFIX = 'control/apikeys/';
/** Events: one key each, kept apart from `control/` so the mirror does not hold the history. */
export const EVENTS_PREFIX = 'events/';

export const policyKey = (name: string): string => `${POLICIES_PREFIX}${name}`;
export const tenantKey = (id: string): string => `${TENANTS_PREFIX}${id}`;
export const drainKey = (nodeId: string): string => `${DRAINS_PREFIX}${nodeId}`;
export const apiKeyKey = (keyId: string): string => `${APIKEYS_PREFIX}${keyId}`;
