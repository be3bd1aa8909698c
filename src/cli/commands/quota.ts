/**
 * `mesh quota set|list|delete`: a tenant's request and token budget, stored as a QUOTA policy
 * named `quota.<tenant>.<model slug, or all>` so that each (tenant, model) has exactly one.
 */
import { createHash } from 'node:crypto';
import { Code, ConnectError } from '@connectrpc/connect';
import type { JsonObject } from '@bufbuild/protobuf';
import { MeshError } from '../../core/errors.ts';
import type { MeshClients } from '../client.ts';
import type { CommandOutput, CommandResult } from '../runner.ts';
import { watchList } from '../watch.ts';
import { fetchPolicies, POLICY_EVENTS, policyRow, type PolicyRow } from './policy.ts';
import { setPolicy } from './policy-set.ts';

/** Options of `mesh quota set`. */
export interface SetQuotaOptions {
  model?: string;
  rps?: number;
  tpm?: number;
  burstRequests?: number;
  burstTokens?: number;
}

/** Options of `mesh quota list`. */
export interface ListQuotasOptions {
  tenant?: string;
  watch?: boolean;
}

/** One quota in `-o json|yaml` output; budgets null when the policy sets none. */
export interface QuotaRow {
  name: string;
  tenant: string;
  /** Empty: the budget covers every model together. */
  models: string[];
  requestsPerSecond: number | null;
  tokensPerMinute: number | null;
  burstRequests: number | null;
  burstTokens: number | null;
  revision: number;
}

/** Policy names allow `[a-z0-9._-]`, at most 63 characters. */
const MAX_NAME = 63;

/**
 * The policy name of a tenant's quota on one model (or all): the model lower-cased with other
 * characters as `-`; a name that would be too long is cut and ends with a hash of the model.
 */
export function quotaPolicyName(tenant: string, model?: string): string {
  const prefix = `quota.${tenant}.`;
  if (!model) return `${prefix}all`;
  const slug = model
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '');
  if (prefix.length + slug.length <= MAX_NAME) return prefix + slug;
  const hash = createHash('sha256').update(model).digest('hex').slice(0, 8);
  return `${prefix}${slug.slice(0, Math.max(0, MAX_NAME - prefix.length - hash.length - 1))}-${hash}`;
}

async function storedPolicy(clients: MeshClients, name: string): Promise<PolicyRow | undefined> {
  try {
    const res = await clients.control.getPolicy({ name }, clients.callOptions);
    return res.policy ? policyRow(res.policy) : undefined;
  } catch (err) {
    if (err instanceof ConnectError && err.code === Code.NotFound) return undefined;
    throw err;
  }
}

/**
 * Writes the quota policy of TENANT (on `--model`, or all models). Conditional on what was read:
 * two models whose slugs collide, or a concurrent writer, get `conflict` instead of overwriting.
 */
export async function setQuota(
  clients: MeshClients,
  tenant: string,
  opts: SetQuotaOptions,
): Promise<CommandResult> {
  const name = quotaPolicyName(tenant, opts.model);
  const models = opts.model ? [opts.model] : [];
  const existing = await storedPolicy(clients, name);
  if (existing && existing.targetModels.join('\n') !== models.join('\n'))
    throw new MeshError(
      'conflict',
      `policy "${name}" holds the quota of ${existing.targetModels.join(', ') || 'all models'}`,
    );
  const spec: JsonObject = { tenant };
  if (opts.rps !== undefined) spec.requestsPerSecond = opts.rps;
  if (opts.tpm !== undefined) spec.tokensPerMinute = opts.tpm;
  if (opts.burstRequests !== undefined) spec.burstRequests = opts.burstRequests;
  if (opts.burstTokens !== undefined) spec.burstTokens = opts.burstTokens;
  const draft = { name, type: 'quota' as const, targetModels: models, targetNodes: [], spec };
  const { data } = await setPolicy(clients, draft, BigInt(existing?.revision ?? 0));
  const policy = (data as { policy: PolicyRow | null }).policy;
  const rows = policy ? [quotaRow(policy)] : [];
  return { data: { quota: rows[0] ?? null }, view: quotaView(rows) };
}

const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);

function quotaRow(p: PolicyRow): QuotaRow {
  return {
    name: p.name,
    tenant: typeof p.spec.tenant === 'string' ? p.spec.tenant : '',
    models: p.targetModels,
    requestsPerSecond: num(p.spec.requestsPerSecond),
    tokensPerMinute: num(p.spec.tokensPerMinute),
    burstRequests: num(p.spec.burstRequests),
    burstTokens: num(p.spec.burstTokens),
    revision: p.revision,
  };
}

function quotaView(quotas: QuotaRow[]): CommandResult['view'] {
  return {
    head: ['TENANT', 'MODEL(S)', 'RPS', 'TPM', 'BURST', 'POLICY'],
    rows: quotas.map((q) => [
      q.tenant,
      q.models.join(',') || '(all)',
      q.requestsPerSecond ?? '-',
      q.tokensPerMinute ?? '-',
      q.burstRequests === null && q.burstTokens === null
        ? '-'
        : `${q.burstRequests ?? '-'} req / ${q.burstTokens ?? '-'} tok`,
      q.name,
    ]),
  };
}

/** `mesh quota list`: QUOTA policies, of one tenant or all; `--watch` re-renders on changes. */
export async function listQuotas(
  clients: MeshClients,
  opts: ListQuotasOptions,
  out: CommandOutput,
): Promise<CommandResult | undefined> {
  const list = async (): Promise<CommandResult> => {
    const quotas = (await fetchPolicies(clients, 'quota'))
      .map(quotaRow)
      .filter((q) => !opts.tenant || q.tenant === opts.tenant);
    return { data: { quotas }, view: quotaView(quotas) };
  };
  if (!opts.watch) return list();
  return watchList(clients, out, { types: [...POLICY_EVENTS, 'tenant_deleted'] }, list);
}

/** Deletes the quota policy of TENANT on `--model` (or on all models). */
export async function deleteQuota(
  clients: MeshClients,
  tenant: string,
  model?: string,
): Promise<CommandResult> {
  const name = quotaPolicyName(tenant, model);
  await clients.control.deletePolicy({ name }, clients.callOptions);
  return {
    data: { name, tenant, models: model ? [model] : [], deleted: true },
    view: {
      head: ['TENANT', 'MODEL(S)', 'ACTION', 'POLICY'],
      rows: [[tenant, model ?? '(all)', 'deleted', name]],
    },
  };
}
