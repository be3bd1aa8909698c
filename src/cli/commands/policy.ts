/** `mesh policy get|delete|list`, and the policy rows every policy command prints. */
import type { JsonObject } from '@bufbuild/protobuf';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import { policyTypeName, policyTypeToProto } from '../../control/records-proto.ts';
import { PolicyType, type Policy } from '../../gen/infermesh/control/v1/control_pb.js';
import type { MeshClients } from '../client.ts';
import { isoOrNull, type TableView } from '../output.ts';
import type { CommandOutput, CommandResult } from '../runner.ts';
import { watchList } from '../watch.ts';

/** Values of `--type` (`security` is reserved for the security issue). */
export const POLICY_TYPES = ['slo', 'quota', 'placement'] as const;
export type PolicyTypeName = (typeof POLICY_TYPES)[number];

/** One policy in `-o json|yaml` output. */
export interface PolicyRow {
  name: string;
  type: string;
  targetModels: string[];
  targetNodes: string[];
  spec: JsonObject;
  revision: number;
  createdAt: string | null;
  updatedAt: string | null;
}

/** Options of `mesh policy list`. */
export interface ListPoliciesOptions {
  type?: PolicyTypeName;
  watch?: boolean;
}

/** Policy events: what makes a watched policy list re-render. */
export const POLICY_EVENTS = ['policy_created', 'policy_updated', 'policy_deleted'] as const;

/** Wire → output row. */
export const policyRow = (p: Policy): PolicyRow => ({
  name: p.name,
  type: policyTypeName(p.type) || 'unspecified',
  targetModels: p.targetModels,
  targetNodes: p.targetNodes,
  spec: p.spec ?? {},
  revision: Number(p.revision),
  createdAt: isoOrNull(p.createdAt ? timestampMs(p.createdAt) : 0),
  updatedAt: isoOrNull(p.updatedAt ? timestampMs(p.updatedAt) : 0),
});

/** The table of policies; the spec as compact JSON. */
export function policyView(policies: PolicyRow[]): TableView {
  return {
    head: ['NAME', 'TYPE', 'MODELS', 'NODES', 'SPEC', 'REVISION', 'UPDATED'],
    rows: policies.map((p) => [
      p.name,
      p.type,
      p.targetModels.join(',') || '(all)',
      p.targetNodes.join(',') || '(all)',
      JSON.stringify(p.spec),
      p.revision,
      p.updatedAt ?? '-',
    ]),
  };
}

/** Calls ControlPlane.GetPolicy (`not_found` for an unknown name). */
export async function getPolicy(clients: MeshClients, name: string): Promise<CommandResult> {
  const res = await clients.control.getPolicy({ name }, clients.callOptions);
  const policy = res.policy ? policyRow(res.policy) : null;
  return { data: { policy }, view: policyView(policy ? [policy] : []) };
}

/** Calls ControlPlane.DeletePolicy. */
export async function deletePolicy(clients: MeshClients, name: string): Promise<CommandResult> {
  await clients.control.deletePolicy({ name }, clients.callOptions);
  return { data: { name, deleted: true }, view: { head: ['POLICY', 'ACTION'], rows: [[name, 'deleted']] } };
}

/** Calls ControlPlane.ListPolicies, of one type or all. */
export async function fetchPolicies(clients: MeshClients, type?: PolicyTypeName): Promise<PolicyRow[]> {
  const typeFilter = type ? policyTypeToProto(type) : PolicyType.UNSPECIFIED;
  const res = await clients.control.listPolicies({ typeFilter }, clients.callOptions);
  return res.policies.map(policyRow);
}

/** `mesh policy list`, once or with `--watch` (re-rendered on policy events). */
export async function listPolicies(
  clients: MeshClients,
  opts: ListPoliciesOptions,
  out: CommandOutput,
): Promise<CommandResult | undefined> {
  const list = async (): Promise<CommandResult> => {
    const policies = await fetchPolicies(clients, opts.type);
    return { data: { policies }, view: policyView(policies) };
  };
  return opts.watch ? watchList(clients, out, { types: POLICY_EVENTS }, list) : list();
}
