/**
 * Tenant API keys on inference requests (`security.apiKeys`): with keys required, a request must
 * carry `Authorization: Bearer im_…` (what OpenAI clients send) or `x-api-key: im_…` (Anthropic
 * style); the key's id finds its record in the routing rules (one map lookup), the secret is checked
 * against the record's salted hash in constant time, and the request is the key's tenant's. A
 * missing, malformed, unknown or revoked key is `unauthenticated` (401). The tenant comes from the
 * key alone: an `x-mesh-tenant` header naming another tenant is `permission_denied` (403), so a
 * client cannot spend another tenant's quota; one naming the key's own tenant is accepted.
 */
import { parseApiKey, verifySecret, type ApiKeyHash } from '../core/api-key.ts';
import { excerpt, MeshError } from '../core/errors.ts';
import type { RoutingRules } from './routing-rules.ts';

/** Anthropic-style key header, accepted beside `Authorization: Bearer`. */
export const API_KEY_HEADER = 'x-api-key';
/** The `WWW-Authenticate` challenge of a 401 (RFC 6750). */
export const BEARER_CHALLENGE = 'Bearer realm="infermesh"';

type Headers = Readonly<Record<string, string | string[] | undefined>>;

export interface ApiKeyGate {
  /**
   * The tenant of the request's key; throws `unauthenticated` without a valid key, and
   * `permission_denied` when `claimedTenant` (its `x-mesh-tenant`) names another tenant.
   */
  tenantOf(headers: Headers, claimedTenant: string | undefined): string;
  /** New rules: revoked keys stop working from here on. */
  use(rules: RoutingRules): void;
}

export function createApiKeyGate(): ApiKeyGate {
  let keys = new Map<string, ApiKeyHash & { tenant: string }>();
  return {
    tenantOf(headers, claimedTenant) {
      const presented = presentedKey(headers);
      if (presented === undefined)
        throw unauthenticated('an API key is required: send "Authorization: Bearer <key>"');
      const parsed = parseApiKey(presented);
      const record = parsed && keys.get(parsed.id);
      // One answer for every bad key: nothing tells a prober which part was wrong.
      if (!parsed || !record || !verifySecret(record, parsed.secret))
        throw unauthenticated('invalid API key');
      if (claimedTenant !== undefined && claimedTenant !== record.tenant)
        throw new MeshError(
          'permission_denied',
          `the API key does not belong to tenant \`${excerpt(claimedTenant)}\` (x-mesh-tenant)`,
          { param: 'x-mesh-tenant' },
        );
      return record.tenant;
    },
    use(rules) {
      keys = new Map(Object.entries(rules.apiKeys ?? {}));
    },
  };
}

function unauthenticated(message: string): MeshError {
  return new MeshError('unauthenticated', message, { wwwAuthenticate: BEARER_CHALLENGE });
}

/** The key from `Authorization: Bearer …`, else from `x-api-key`; undefined when neither is there. */
function presentedKey(headers: Headers): string | undefined {
  const auth = first(headers.authorization);
  if (auth !== undefined) {
    const m = /^bearer\s+(\S+)\s*$/i.exec(auth);
    // Another scheme (Basic…) is no key: unauthenticated, as a missing one.
    return m ? m[1] : first(headers[API_KEY_HEADER]);
  }
  return first(headers[API_KEY_HEADER]);
}

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);
