/**
 * `security.tls`: the node's identity for mTLS on internal links (docs/SECURITY.md, "Identities
 * and certificates"). Off when `cert` is absent. File paths, not PEM text: the files are reloaded
 * on change (renewal, rotation) without a restart.
 */
import { z } from 'zod';

const file = z.string().min(1);

export const tlsConfigSchema = z
  .strictObject({
    /** The node certificate: leaf + intermediate, PEM (`mesh cert issue` writes node.crt). */
    cert: file.optional(),
    /** Its private key, PEM (node.key, mode 0600). */
    key: file.optional(),
    /** The trust bundle: the mesh's root certificates (bundle.pem; two of them during a CA rotation). */
    ca: file.optional(),
    /** SPIFFE trust domain peers must belong to (`spiffe://<trustDomain>/node/<id>`). */
    trustDomain: z
      .string()
      .regex(/^[a-z0-9._-]+$/, 'lower-case letters, digits, ".", "-", "_"')
      .default('mesh.local'),
    /**
     * Renew the certificate here, before it expires, with the intermediate of this CA folder (only
     * on nodes trusted to hold it). Without it meshd only reloads the files others replace.
     */
    renew: z
      .strictObject({
        caDir: file,
        /** Share of the lifetime after which to renew (2/3: at 16 h of a 24 h certificate). */
        renewAtFraction: z
          .number()
          .gt(0)
          .lt(1)
          .default(2 / 3),
        /** Lifetime of each renewed certificate. */
        hours: z.number().positive().default(24),
      })
      .optional(),
    /** TLS on the client-facing router port (a certificate clients know, e.g. from a public CA). */
    routerPort: z.strictObject({ cert: file, key: file }).optional(),
    /**
     * Do not verify the certificates of inference runtimes reached over https (self-signed
     * runtimes). Internal mesh links are always verified; this never applies to them.
     */
    insecureSkipRuntimeVerify: z.boolean().default(false),
  })
  .superRefine((tls, ctx) => {
    const given = (['cert', 'key', 'ca'] as const).filter((k) => tls[k] !== undefined);
    if (given.length > 0 && given.length < 3)
      for (const k of (['cert', 'key', 'ca'] as const).filter((k) => tls[k] === undefined))
        ctx.addIssue({ code: 'custom', path: [k], message: `required with ${given.join(', ')}` });
    if (tls.renew && given.length === 0)
      ctx.addIssue({
        code: 'custom',
        path: ['renew'],
        message: 'renew needs cert, key and ca (where to write and what to trust)',
      });
  })
  .prefault({});

/** `security.tls` after defaults. */
export type TlsConfig = z.infer<typeof tlsConfigSchema>;
