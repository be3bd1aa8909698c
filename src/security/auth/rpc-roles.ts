/**
 * THE table of who may call what on the API port: every RPC of every service, its minimum role,
 * whether mesh nodes may call it over their internal links, whether it is a control-plane write
 * (audited), and, for RPCs a tenant-scoped caller may use, how to read the tenant off the request.
 * The auth interceptor checks it in one place; an RPC missing here is denied. docs/SECURITY.md
 * ("Who may do what") renders it, and a test keeps the two, and the generated services, in step.
 */
import type { Role } from './roles.ts';
import {
  apiKeyTenant,
  policyNameTenant,
  setPolicyTenant,
  tenantField,
  type TenantOf,
} from './tenant-scope.ts';

/** What the table says about one RPC. */
export interface RpcRule {
  /** Lowest role of the ladder that may call it. */
  readonly role: Role;
  /** Mesh node identities may call it too (routers' state streams, forwarded model control). */
  readonly node?: boolean;
  /** A control-plane write: every call is audited, whatever its result. */
  readonly write?: boolean;
  /** Open to tenant-scoped callers for their own tenant's records. */
  readonly tenant?: TenantOf;
}

const read: RpcRule = { role: 'viewer', node: true };

/**
 * Services by protobuf type name, then RPCs by method name. Choices worth a word: pins are
 * operator's (a pin is a lasting load/unload, which operators may already do; placement *policies*
 * through SetPolicy stay admin's). Reports into the signal plane and the scorer's stateful calls
 * (Admit, ReportOutcome, ShareInFlight) steer routing, so they need operator or a node identity.
 */
export const RPC_ROLES: Readonly<Record<string, Readonly<Record<string, RpcRule>>>> = {
  'infermesh.control.v1.ControlPlane': {
    ListNodes: read,
    GetNode: read,
    ListMembers: read,
    ListModels: read,
    ListPlacements: read,
    SubscribeEvents: read,
    DrainNode: { role: 'operator', write: true },
    UndrainNode: { role: 'operator', write: true },
    PinModel: { role: 'operator', write: true },
    UnpinModel: { role: 'operator', write: true },
    // Not nodes: only a person's identity loads and unloads. A node that forwards the call passes
    // the caller's bearer token on, and the target judges that; a caller with a client certificate
    // calls the target node itself.
    LoadModel: { role: 'operator', write: true },
    UnloadModel: { role: 'operator', write: true },
    GetPolicy: { role: 'viewer', node: true, tenant: policyNameTenant },
    ListPolicies: read,
    SetPolicy: { role: 'admin', write: true, tenant: setPolicyTenant },
    DeletePolicy: { role: 'admin', write: true, tenant: policyNameTenant },
    ListTenants: read,
    CreateTenant: { role: 'admin', write: true },
    DeleteTenant: { role: 'admin', write: true },
    CreateApiKey: { role: 'admin', write: true, tenant: tenantField('tenant') },
    ListApiKeys: { role: 'viewer', tenant: tenantField('tenant') },
    RevokeApiKey: { role: 'admin', write: true, tenant: apiKeyTenant },
  },
  'infermesh.control.v1.Quarantine': {
    ListQuarantined: read,
    Release: { role: 'operator', write: true },
  },
  'infermesh.state.v1.StatePlane': {
    GetModelState: read,
    GetGpuState: read,
    ListModelStates: read,
    ListGpuStates: read,
    WatchModelStates: read,
    WatchGpuStates: read,
    WatchPrefixBlocks: read,
    ReportModelState: { role: 'operator', node: true },
    ReportGpuState: { role: 'operator', node: true },
    ShareInFlight: { role: 'operator', node: true },
  },
  'infermesh.scoring.v1.Scoring': {
    ScoreTargets: read,
    HealthCheck: read,
    Admit: { role: 'operator', node: true },
    ReportOutcome: { role: 'operator', node: true },
  },
};

/** The rule of `service`/`method`, or undefined for an RPC the table does not know (denied). */
export function ruleOf(service: string, method: string): RpcRule | undefined {
  return Object.hasOwn(RPC_ROLES, service) && Object.hasOwn(RPC_ROLES[service]!, method)
    ? RPC_ROLES[service]![method]
    : undefined;
}
