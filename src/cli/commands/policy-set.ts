/** `mesh policy set`: creates or replaces a policy (ControlPlane.SetPolicy). */
import { policyTypeToProto } from '../../control/records-proto.ts';
import type { MeshClients } from '../client.ts';
import type { CommandResult } from '../runner.ts';
import type { PolicyDraft } from './policy-input.ts';
import { policyRow, policyView } from './policy.ts';

/**
 * Writes the policy; with `expectedRevision`, only if the stored one is at that revision (0: only
 * if none exists), else `conflict`. A bad policy fails with `invalid_request` listing every problem.
 */
export async function setPolicy(
  clients: MeshClients,
  draft: PolicyDraft,
  expectedRevision?: bigint,
): Promise<CommandResult> {
  const res = await clients.control.setPolicy(
    {
      policy: { ...draft, type: policyTypeToProto(draft.type) },
      ...(expectedRevision !== undefined ? { expectedRevision } : {}),
    },
    clients.callOptions,
  );
  const policy = res.policy ? policyRow(res.policy) : null;
  return { data: { policy }, view: policyView(policy ? [policy] : []) };
}
