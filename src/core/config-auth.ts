/**
 * `security.auth`: who may call the control API and with which role (docs/SECURITY.md, "Control API
 * authentication"). Absent `jwt`, no bearer tokens are checked: on a loopback API that is today's
 * open behaviour; off loopback meshd refuses to start unless `security.insecure` says otherwise.
 */
import { z } from 'zod';

/** A public key: a JWK object, or a PEM `-----BEGIN PUBLIC KEY-----` block. */
const publicKeySchema = z.union([
  z.string().regex(/-----BEGIN PUBLIC KEY-----/, 'a PEM public key (SPKI)'),
  z.looseObject({ kty: z.string() }),
]);

const jwtSchema = z
  .strictObject({
    /** Where the issuer publishes its keys (OIDC `jwks_uri`); fetched and cached, refetched on an unknown `kid`. */
    jwksUrl: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }).optional(),
    /** A JWKS JSON file (`{"keys": [...]}`), read at start. */
    jwksFile: z.string().min(1).optional(),
    /** Public keys inline: JWKs or PEM blocks. */
    keys: z.array(publicKeySchema).min(1).optional(),
    /** Required `iss`. */
    issuer: z.string().min(1),
    /** Required `aud` (one of these). */
    audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    /** Leeway on `exp`/`nbf`/`iat` for clocks that disagree. */
    clockSkewSeconds: z.number().int().min(0).max(3600).default(60),
    /**
     * Claim holding the roles (`viewer`, `operator`, `admin`): an array, or a string of names
     * separated by spaces or commas (so `scope` works). A dotted path reaches nested claims
     * (`realm_access.roles`). Unknown names are ignored.
     */
    rolesClaim: z.string().min(1).default('roles'),
    /** Claim that scopes a token to one tenant's records. */
    tenantClaim: z.string().min(1).default('tenant'),
    /** Accepted signing algorithms; absent, any asymmetric one jose supports (never `none` or HMAC). */
    algorithms: z.array(z.string().min(1)).min(1).optional(),
  })
  .superRefine((jwt, ctx) => {
    const sources = [jwt.jwksUrl, jwt.jwksFile, jwt.keys].filter((s) => s !== undefined).length;
    if (sources !== 1)
      ctx.addIssue({ code: 'custom', message: 'set exactly one of jwksUrl, jwksFile or keys' });
  });

export const authConfigSchema = z
  .strictObject({
    /** Bearer JWTs on the control API (OIDC access tokens or self-issued). */
    jwt: jwtSchema.optional(),
    /**
     * With authentication configured: let calls without credentials from a loopback address act as
     * admin (the operator on the host). Anyone with a shell on the host gets admin, so off by default.
     */
    allowUnauthenticatedLoopback: z.boolean().default(false),
  })
  .prefault({});

/** `security.auth` after defaults. */
export type AuthConfig = z.output<typeof authConfigSchema>;
/** `security.auth.jwt` after defaults. */
export type JwtConfig = NonNullable<AuthConfig['jwt']>;
