/**
 * The control plane's records and the one schema that validates each before it is written: a bad
 * policy is refused with every problem listed (path and message, as config problems are), and
 * nothing is stored. Records are stored as JSON under the keys of keys.ts.
 */
import { z } from 'zod';
import { formatPath, hedgingClassSchema } from '../../core/config.ts';
import { MeshError } from '../../core/errors.ts';
import { SLO_CLASSES, type EventType } from './names.ts';

/** Policy, tenant and node names: they become store keys and metric labels. */
const recordName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'lower-case letters, digits, ".", "_" or "-", at most 63');
const nodeName = z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]*$/, 'a node id');
const positive = z.number().positive();

/** SLO class settings for the models it targets (every model when `targetModels` is empty). */
export const sloSpecSchema = z.strictObject({
  class: z.enum(SLO_CLASSES),
  /** Time-to-first-token budget: what hedging and admission of the class aim for. */
  ttftMs: positive.optional(),
  /** End-to-end budget of a request of the class. */
  e2eMs: positive.optional(),
  hedging: hedgingClassSchema.optional(),
  admission: z.strictObject({ maxWaitMs: positive.optional() }).optional(),
  /** Scorer weight overrides by scorer name, as a profile's `sloClasses.<class>`. */
  weights: z.record(z.string(), z.number().min(0)).optional(),
});

/** A tenant's budget per model it targets (each separately), or over all models with no targets. */
export const quotaSpecSchema = z
  .strictObject({
    tenant: recordName,
    requestsPerSecond: positive.optional(),
    tokensPerMinute: positive.optional(),
    /** Requests (tokens) the bucket holds after a quiet spell; default one second's (minute's) worth. */
    burstRequests: positive.optional(),
    burstTokens: positive.optional(),
  })
  .refine((q) => q.requestsPerSecond !== undefined || q.tokensPerMinute !== undefined, {
    message: 'a quota needs requestsPerSecond or tokensPerMinute',
  });

/** Where one model stays loaded and how routing treats its nodes (PinModel writes these). */
export const placementSpecSchema = z.strictObject({
  mode: z.enum(['prefer', 'require']).default('prefer'),
  /** How many of the target nodes keep it loaded; absent: all of them. */
  minReplicas: z.number().int().min(1).optional(),
  revision: z.string().optional(),
  source: z.string().optional(),
  endpoint: z.string().optional(),
});

const base = {
  name: recordName,
  targetNodes: z.array(nodeName).default([]),
  targetModels: z.array(z.string().min(1)).default([]),
};

export const policyInputSchema = z
  .discriminatedUnion('type', [
    z.strictObject({ ...base, type: z.literal('slo'), spec: sloSpecSchema }),
    z.strictObject({ ...base, type: z.literal('quota'), spec: quotaSpecSchema }),
    z.strictObject({ ...base, type: z.literal('placement'), spec: placementSpecSchema }),
  ])
  .superRefine((p, ctx) => {
    if (p.type !== 'placement') return;
    if (p.targetModels.length !== 1)
      ctx.addIssue({
        code: 'custom',
        path: ['targetModels'],
        message: 'a placement names exactly one model',
      });
    if (p.targetNodes.length === 0)
      ctx.addIssue({ code: 'custom', path: ['targetNodes'], message: 'a placement names at least one node' });
    if ((p.spec.minReplicas ?? 0) > p.targetNodes.length)
      ctx.addIssue({
        code: 'custom',
        path: ['spec', 'minReplicas'],
        message: `more than the ${p.targetNodes.length} target node(s)`,
      });
  });

export type PolicyInput = z.infer<typeof policyInputSchema>;
export type PolicyType = PolicyInput['type'];
export type SloSpec = z.infer<typeof sloSpecSchema>;
export type QuotaSpec = z.infer<typeof quotaSpecSchema>;
export type PlacementSpec = z.output<typeof placementSpecSchema>;

/** A stored policy: the validated input and when it was written. */
export type PolicyRecord = PolicyInput & { createdAt: number; updatedAt: number };

export const tenantInputSchema = z.strictObject({
  id: recordName,
  displayName: z.string().max(200).default(''),
  defaultSloClass: z.enum(SLO_CLASSES).default('latency'),
});
export type TenantRecord = z.infer<typeof tenantInputSchema> & { createdAt: number };

/** What CreateApiKey takes: the tenant the key's requests count for, and a name for people. */
export const apiKeyInputSchema = z.strictObject({
  tenant: recordName,
  name: z.string().max(200).default(''),
});

/**
 * A tenant's API key as stored: never the secret, only its salted SHA-256 (`core/api-key.ts`).
 * Every node's mirror holds these, so routers verify keys without a store round trip.
 */
export interface ApiKeyRecord {
  id: string;
  tenant: string;
  name: string;
  /** base64url salt and SHA-256(salt ‖ secret). */
  salt: string;
  hash: string;
  createdAt: number;
}

/** A node routers must not send new requests to. */
export interface DrainRecord {
  nodeId: string;
  /** Cut its in-flight requests too, instead of letting them finish. */
  force: boolean;
  since: number;
}

export interface EventRecord {
  type: EventType;
  at: number;
  /** The node that recorded it. */
  source: string;
  data: Record<string, string>;
}

/** A stored event with the revision that recorded it (its id). */
export type MeshEvent = EventRecord & { revision: number };

/**
 * `schema.parse(input)`, or `invalid_request` listing every problem (`what`: the subject, e.g.
 * `policy "slo.gold"`), with `details.problems` as `{path, message}` like config problems.
 */
export function validate<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
  const lines = problems.map((p) => `  ${p.path}: ${p.message}`).join('\n');
  throw new MeshError('invalid_request', `${what} is invalid:\n${lines}`, { problems });
}
