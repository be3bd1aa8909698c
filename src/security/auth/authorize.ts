/**
 * The one decision "may this principal call this RPC with this request", from the RPC table.
 * Throws `permission_denied` with the reason (which the audit log records too).
 */
import { MeshError } from '../../core/errors.ts';
import { satisfies, type Principal } from './roles.ts';
import { ruleOf, type RpcRule } from './rpc-roles.ts';
import type { TenantLookups } from './tenant-scope.ts';

/** Returns the RPC's rule when `principal` may call it with `message`; throws `permission_denied` otherwise. */
export async function authorize(
  principal: Principal,
  service: string,
  method: string,
  message: unknown,
  lookups: TenantLookups = {},
): Promise<RpcRule> {
  const rpc = `${service}/${method}`;
  const rule = ruleOf(service, method);
  if (!rule) throw denied(`${rpc} is not in the RPC table`);
  const allowed = satisfies(principal.roles, rule.role) || (principal.node && rule.node === true);
  if (!allowed) {
    const held = principal.node ? 'a node identity' : `roles [${principal.roles.join(', ')}]`;
    throw denied(`${rpc} needs role ${rule.role}; ${principal.name} has ${held}`);
  }
  if (principal.tenant !== undefined) {
    if (!rule.tenant) throw denied(`${rpc} is not open to tenant-scoped callers`);
    const tenant = await rule.tenant(message, lookups);
    if (tenant !== principal.tenant) {
      throw denied(
        `${principal.name} is scoped to tenant "${principal.tenant}" and this request ` +
          (tenant === undefined ? 'names no single tenant' : `is about tenant "${tenant}"`),
      );
    }
  }
  return rule;
}

function denied(reason: string): MeshError {
  return new MeshError('permission_denied', reason, { reason });
}
