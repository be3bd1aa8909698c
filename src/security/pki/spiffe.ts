/**
 * SPIFFE IDs of the mesh (https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE-ID.md):
 * `spiffe://<trust-domain>/node/<node-id>` for a meshd and `spiffe://<trust-domain>/admin/<name>`
 * for a person or tool calling the control API. Only these two shapes are accepted; anything else
 * in a certificate of the mesh's CA is a mistake or an attack.
 */
import { MeshError } from '../../core/errors.ts';
import { NODE_ROLES, type NodeRole } from '../../core/types.ts';

/** Kinds of identity: a mesh node, or an admin identity for the control API. */
export const IDENTITY_KINDS = ['node', 'admin'] as const;
export type IdentityKind = (typeof IDENTITY_KINDS)[number];

/**
 * Roles an admin identity may carry, lowest first; RBAC (src/security/auth/) maps them to what
 * each may call. Kept here because the certificate is where they are written and read back.
 */
export const ADMIN_ROLES = ['viewer', 'operator', 'admin'] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];

/** A role of either kind of identity. */
export type IdentityRole = NodeRole | AdminRole;

/** The roles allowed for each kind; a role of the other kind is refused at issue and ignored at verify. */
export const ROLES_BY_KIND: Readonly<Record<IdentityKind, readonly IdentityRole[]>> = {
  node: NODE_ROLES,
  admin: ADMIN_ROLES,
};

/** Default trust domain when the operator names none. */
export const DEFAULT_TRUST_DOMAIN = 'mesh.local';

// SPIFFE-ID.md §2.1 and §2.2: the trust domain is lower case; path segments are letters, digits,
// '.', '-' and '_' and never '.' or '..'.
const TRUST_DOMAIN = /^[a-z0-9._-]+$/;
const SEGMENT = /^[a-zA-Z0-9._-]+$/;

/** A parsed mesh SPIFFE ID. */
export interface SpiffeIdentity {
  spiffeId: string;
  trustDomain: string;
  kind: IdentityKind;
  /** The node id or admin name. */
  id: string;
}

/** Why `text` is not a valid trust domain, or undefined when it is. */
export function trustDomainProblem(text: string): string | undefined {
  if (!TRUST_DOMAIN.test(text))
    return `trust domain "${text}" must be lower-case letters, digits, ".", "-", "_"`;
  if (text.length > 255) return 'trust domain longer than 255 characters';
  return undefined;
}

/** Why `text` is not a valid node id or admin name, or undefined when it is. */
export function idProblem(text: string): string | undefined {
  if (!SEGMENT.test(text) || text === '.' || text === '..')
    return `"${text}" must be letters, digits, ".", "-", "_" (and not "." or "..")`;
  return undefined;
}

/** The SPIFFE ID of an identity; throws on an invalid trust domain or id. */
export function formatSpiffeId(trustDomain: string, kind: IdentityKind, id: string): string {
  const problem = trustDomainProblem(trustDomain) ?? idProblem(id);
  if (problem) throw new MeshError('invalid_request', problem);
  return `spiffe://${trustDomain}/${kind}/${id}`;
}

/** The SPIFFE ID of a trust domain itself, carried by the CA certificates (SPIFFE X509-SVID §4.1). */
export const trustDomainId = (trustDomain: string): string => `spiffe://${trustDomain}`;

/** Parses a mesh SPIFFE ID; undefined when it is not one of the two shapes. */
export function parseSpiffeId(text: string): SpiffeIdentity | undefined {
  const m = /^spiffe:\/\/([^/?#]+)\/(node|admin)\/([^/?#]+)$/.exec(text);
  if (!m) return undefined;
  const [, trustDomain = '', kind, id = ''] = m;
  if (trustDomainProblem(trustDomain) || idProblem(id)) return undefined;
  return { spiffeId: text, trustDomain, kind: kind as IdentityKind, id };
}

/** Checks roles for a kind (at least one, each known, no duplicates); returns them sorted. */
export function checkRoles(kind: IdentityKind, roles: readonly string[]): IdentityRole[] {
  const allowed = ROLES_BY_KIND[kind];
  if (roles.length === 0)
    throw new MeshError(
      'invalid_request',
      `a ${kind} identity needs at least one role (${allowed.join(', ')})`,
    );
  for (const role of roles)
    if (!allowed.includes(role as IdentityRole))
      throw new MeshError(
        'invalid_request',
        `unknown ${kind} role "${role}" (expected ${allowed.join(', ')})`,
      );
  return [...new Set(roles as IdentityRole[])].sort();
}
