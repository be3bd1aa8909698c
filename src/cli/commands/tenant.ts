/** `mesh tenant create|list|delete`: the tenants requests name in `x-mesh-tenant`. */
import { timestampMs } from '@bufbuild/protobuf/wkt';
import type { Tenant } from '../../gen/infermesh/control/v1/control_pb.js';
import type { MeshClients } from '../client.ts';
import { isoOrNull, type TableView } from '../output.ts';
import type { CommandResult } from '../runner.ts';

/** Options of `mesh tenant create`. */
export interface CreateTenantOptions {
  displayName?: string;
  defaultSloClass?: string;
}

/** One tenant in `-o json|yaml` output. */
export interface TenantRow {
  id: string;
  displayName: string;
  /** `latency` or `throughput`: the class of its requests that name none. */
  defaultSloClass: string;
  createdAt: string | null;
  revision: number;
}

const row = (t: Tenant): TenantRow => ({
  id: t.id,
  displayName: t.displayName,
  defaultSloClass: t.defaultSloClass,
  createdAt: isoOrNull(t.createdAt ? timestampMs(t.createdAt) : 0),
  revision: Number(t.revision),
});

const view = (tenants: TenantRow[]): TableView => ({
  head: ['ID', 'DISPLAY NAME', 'DEFAULT SLO', 'CREATED', 'REVISION'],
  rows: tenants.map((t) => [t.id, t.displayName || '-', t.defaultSloClass, t.createdAt ?? '-', t.revision]),
});

/** Calls ControlPlane.CreateTenant (`conflict` when it exists). */
export async function createTenant(
  clients: MeshClients,
  id: string,
  opts: CreateTenantOptions,
): Promise<CommandResult> {
  const res = await clients.control.createTenant(
    { tenant: { id, displayName: opts.displayName ?? '', defaultSloClass: opts.defaultSloClass ?? '' } },
    clients.callOptions,
  );
  const tenant = res.tenant ? row(res.tenant) : null;
  return { data: { tenant }, view: view(tenant ? [tenant] : []) };
}

/** Calls ControlPlane.ListTenants. */
export async function listTenants(clients: MeshClients): Promise<CommandResult> {
  const res = await clients.control.listTenants({}, clients.callOptions);
  const tenants = res.tenants.map(row);
  return { data: { tenants }, view: view(tenants) };
}

/** Calls ControlPlane.DeleteTenant: the tenant goes with its quota policies. */
export async function deleteTenant(clients: MeshClients, id: string): Promise<CommandResult> {
  const res = await clients.control.deleteTenant({ id }, clients.callOptions);
  return {
    data: { id, deleted: true, deletedPolicies: res.deletedPolicies },
    view: {
      head: ['TENANT', 'ACTION', 'QUOTAS DELETED'],
      rows: [[id, 'deleted', res.deletedPolicies.join(',') || '-']],
    },
  };
}
