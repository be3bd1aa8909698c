/** Test fixture: an issuer with a real key pair, minting tokens, and its JWKS served over real HTTP. */
import { createServer } from 'node:http';
import { bind } from '../../src/core/listen.ts';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';

export const ISSUER = 'https://idp.test';
export const AUDIENCE = 'infermesh';

export interface TestIssuer {
  /** A token with `claims`; `exp` defaults to 5 minutes from now. */
  sign(claims: JWTPayload & { exp?: number }, opts?: { issuer?: string; audience?: string }): Promise<string>;
  jwk: JWK;
  pem: string;
}

/** A fresh ES256 issuer. */
export async function createTestIssuer(kid = 'k1'): Promise<TestIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  const pem = await exportSPKI(publicKey);
  return {
    jwk,
    pem,
    sign: (claims, opts = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid })
        .setIssuer(opts.issuer ?? ISSUER)
        .setAudience(opts.audience ?? AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(claims.exp ?? '5m')
        .sign(privateKey),
  };
}

/** Serves `{keys}` at `/jwks.json` on a port of loopback; counts fetches. */
export async function serveJwks(
  keys: JWK[],
): Promise<{ url: string; fetches: () => number; close(): Promise<void> }> {
  let fetches = 0;
  const server = createServer((req, res) => {
    fetches++;
    if (req.url !== '/jwks.json') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
  });
  const { url } = await bind(server, { host: '127.0.0.1', port: 0 });
  return {
    url: `${url}/jwks.json`,
    fetches: () => fetches,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
