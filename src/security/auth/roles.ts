/**
 * Who a caller of the API port is (a `Principal`) and what its roles allow. Human and automation
 * roles form a ladder, admin ⊃ operator ⊃ viewer, so the RPC table names one minimum role per RPC.
 * Mesh nodes are not on the ladder: a node identity may call exactly the RPCs the table marks as
 * node-callable (internal links), however high those RPCs sit on the ladder.
 */

/** The roles of the ladder, lowest first. */
export const ROLES = ['viewer', 'operator', 'admin'] as const;

/** A role of the ladder. */
export type Role = (typeof ROLES)[number];

/** True for a string that names a role of the ladder. */
export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** How the caller proved who it is. */
export type PrincipalSource = 'jwt' | 'certificate' | 'loopback' | 'anonymous';

/** An authenticated caller. */
export interface Principal {
  /** Stable name for the audit log: `jwt:<sub>`, a SPIFFE ID, `loopback` or `anonymous`. */
  readonly name: string;
  readonly source: PrincipalSource;
  /** Roles of the ladder it holds (the highest counts). */
  readonly roles: readonly Role[];
  /** A mesh node (mTLS node certificate): allowed the node-callable RPCs. */
  readonly node: boolean;
  /** Set for a tenant-scoped caller: it may touch only this tenant's records. */
  readonly tenant?: string;
}

/** True when one of `roles` is `min` or above it on the ladder. */
export function satisfies(roles: readonly Role[], min: Role): boolean {
  const need = ROLES.indexOf(min);
  return roles.some((r) => ROLES.indexOf(r) >= need);
}

/**
 * The caller when no authentication is configured (API on loopback, or `security.insecure`):
 * everything is allowed, as before RBAC existed, and the audit log still names it.
 */
export const ANONYMOUS_ADMIN: Principal = Object.freeze<Principal>({
  name: 'anonymous',
  source: 'anonymous',
  roles: ['admin'],
  node: false,
});

/** A credential-less caller on a loopback address, with `allowUnauthenticatedLoopback`. */
export const LOOPBACK_ADMIN: Principal = Object.freeze<Principal>({
  name: 'loopback',
  source: 'loopback',
  roles: ['admin'],
  node: false,
});
