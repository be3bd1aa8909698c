/**
 * Bearer JWT validation with `jose`: signature against a JWKS URL, a JWKS file or inline public
 * keys; then issuer, audience, expiry and not-before with a clock skew. The token's roles and
 * tenant come from configurable claims. A failure says which check failed, since operators
 * debugging an OIDC setup need it and it tells an attacker nothing they do not already know.
 */
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  jwtVerify,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import type { JwtConfig } from '../../core/config-auth.ts';
import { MeshError } from '../../core/errors.ts';
import { isRole, type Principal, type Role } from './roles.ts';

/**
 * Asymmetric algorithms only: an HMAC key in a JWKS would let anyone who can read the key set
 * mint tokens, and `none` is never acceptable.
 */
const DEFAULT_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];

/** Checks bearer tokens. */
export interface JwtVerifier {
  /** The caller the token names; throws `unauthenticated` (or `unavailable` when the JWKS URL cannot be fetched). */
  verify(token: string): Promise<Principal>;
}

/** A verifier for `security.auth.jwt`; reads `jwksFile` now, so a bad file fails the start. */
export function createJwtVerifier(config: JwtConfig): JwtVerifier {
  const keys = keySetOf(config);
  const options = {
    issuer: config.issuer,
    audience: config.audience,
    clockTolerance: config.clockSkewSeconds,
    algorithms: config.algorithms ?? DEFAULT_ALGORITHMS,
  };
  return {
    async verify(token) {
      let payload: JWTPayload;
      try {
        ({ payload } = await verifyAgainstEach(token, keys, options));
      } catch (err) {
        throw verifyError(err);
      }
      const tenant = claimAt(payload, config.tenantClaim);
      return {
        name: `jwt:${typeof payload.sub === 'string' ? payload.sub : '?'}`,
        source: 'jwt',
        roles: rolesOf(claimAt(payload, config.rolesClaim)),
        node: false,
        ...(typeof tenant === 'string' && tenant !== '' ? { tenant } : {}),
      };
    },
  };
}

function keySetOf(config: JwtConfig): JWTVerifyGetKey {
  if (config.jwksUrl !== undefined) return createRemoteJWKSet(new URL(config.jwksUrl));
  if (config.jwksFile !== undefined) {
    let jwks: JSONWebKeySet;
    try {
      jwks = JSON.parse(readFileSync(config.jwksFile, 'utf8')) as JSONWebKeySet;
    } catch (err) {
      throw new MeshError(
        'invalid_config',
        `security.auth.jwt.jwksFile: cannot read ${config.jwksFile}: ${(err as Error).message}`,
      );
    }
    return localSet(jwks, 'jwksFile');
  }
  const list = (config.keys ?? []).map((k) =>
    typeof k === 'string' ? (createPublicKey(k).export({ format: 'jwk' }) as JWK) : (k as JWK),
  );
  return localSet({ keys: list }, 'keys');
}

/**
 * A local key set. Keys without a `kid` (PEM keys always) also answer tokens whose `kid` no key
 * has: the issuer names its keys, the operator who pasted a PEM block did not.
 */
function localSet(jwks: JSONWebKeySet, key: string): JWTVerifyGetKey {
  let set: JWTVerifyGetKey;
  try {
    set = createLocalJWKSet(jwks);
  } catch (err) {
    throw new MeshError('invalid_config', `security.auth.jwt.${key}: ${(err as Error).message}`);
  }
  const kidless = jwks.keys.some((k) => k.kid === undefined);
  return async (header, token) => {
    try {
      return await set(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey) || !kidless || header.kid === undefined) throw err;
      return set({ ...header, kid: undefined }, { ...token, header: { ...token.header, kid: undefined } });
    }
  };
}

type VerifyOptions = Parameters<typeof jwtVerify>[2];

/** `jwtVerify`, trying each candidate when several keys of the set fit the token (same kty, no kid). */
async function verifyAgainstEach(token: string, keys: JWTVerifyGetKey, options: VerifyOptions) {
  try {
    return await jwtVerify(token, keys, options);
  } catch (err) {
    if (!(err instanceof errors.JWKSMultipleMatchingKeys)) throw err;
    let last: unknown = err;
    for await (const key of err) {
      try {
        return await jwtVerify(token, key, options);
      } catch (e) {
        if (!(e instanceof errors.JWSSignatureVerificationFailed)) throw e;
        last = e;
      }
    }
    throw last;
  }
}

/** A claim by dotted path (`realm_access.roles`). */
function claimAt(payload: JWTPayload, path: string): unknown {
  let at: unknown = payload;
  for (const part of path.split('.')) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

/** Role names from an array claim or a space/comma separated string; others are ignored. */
function rolesOf(claim: unknown): Role[] {
  const names = Array.isArray(claim) ? claim : typeof claim === 'string' ? claim.split(/[\s,]+/) : [];
  return names.filter((n): n is Role => typeof n === 'string' && isRole(n));
}

function verifyError(err: unknown): MeshError {
  const reason = reasonOf(err);
  if (reason === undefined) {
    // Not the token's fault: the issuer's key set could not be fetched.
    return new MeshError('unavailable', `cannot check the bearer token: ${(err as Error).message}`);
  }
  return new MeshError('unauthenticated', `invalid bearer token: ${reason}`, { reason }, { cause: err });
}

/** Which check failed, or undefined when the failure was fetching the keys. */
function reasonOf(err: unknown): string | undefined {
  if (err instanceof errors.JWTExpired) return 'expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return 'wrong issuer';
    if (err.claim === 'aud') return 'wrong audience';
    if (err.claim === 'nbf') return 'not yet valid';
    return `claim ${err.claim} ${err.reason}`;
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'bad signature';
  if (err instanceof errors.JWKSNoMatchingKey)
    return 'no key of the key set matches (bad signature or unknown kid)';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'signing algorithm not allowed';
  // The key set's fetch failing (timeout, bad answer, network) is ours, not the caller's.
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) return undefined;
  if (err instanceof errors.JOSEError) return `malformed token (${err.code})`;
  return undefined;
}
