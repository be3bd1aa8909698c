/**
 * The one place where RBAC is enforced on the API port: a Connect interceptor that authenticates
 * each call, authorizes it against the RPC table, and writes the audit log: one JSON line for every
 * refused call and for every control-plane write, whatever its result.
 */
import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import { MeshError } from '../../core/errors.ts';
import type { Logger } from '../../observability/log.ts';
import type { Authenticator } from './authenticator.ts';
import { authorize } from './authorize.ts';
import { PEER_INFO } from './peer.ts';
import type { Principal } from './roles.ts';
import type { TenantLookups } from './tenant-scope.ts';

/** One audit line's fields (besides the logger's own). */
export interface AuditRecord {
  audit: true;
  /** Who: `jwt:<sub>`, a SPIFFE ID, `loopback`, `anonymous`, or `unknown` when authentication failed. */
  principal: string;
  tenant?: string;
  /** What: `<service>/<method>`. */
  rpc: string;
  /** `ok`, `denied`, or the error code the call ended with. */
  result: string;
  reason?: string;
  /** The caller's address. */
  peer?: string;
}

/** Options of `createAuthInterceptor`. */
export interface AuthInterceptorOptions {
  authenticator: Authenticator;
  /** Where audit lines go (at info, whatever the log level: the audit trail is not optional). */
  logger?: Logger;
  /** Store lookups for tenant-scoped calls that name a record by id. */
  lookups?: TenantLookups;
}

/** Authenticates, authorizes and audits every call; install it inside the error interceptor. */
export function createAuthInterceptor(options: AuthInterceptorOptions): Interceptor {
  const { authenticator, lookups } = options;
  const audit = options.logger?.child({ component: 'audit' }, { level: 'info' });
  const write = (record: AuditRecord) =>
    record.result === 'ok' ? audit?.info(record, 'audit') : audit?.warn(record, 'audit');

  return (next) => async (req) => {
    const service = req.service.typeName;
    const method = req.method.name;
    const rpc = `${service}/${method}`;
    const peer = req.contextValues.get(PEER_INFO);
    const base = (p: Principal | undefined) => ({
      audit: true as const,
      principal: p?.name ?? 'unknown',
      ...(p?.tenant !== undefined ? { tenant: p.tenant } : {}),
      rpc,
      ...(peer.remoteAddress !== undefined ? { peer: peer.remoteAddress } : {}),
    });

    let principal: Principal | undefined;
    let isWrite: boolean;
    try {
      principal = await authenticator.authenticate(req.header.get('authorization'), peer);
      const message = req.stream ? undefined : req.message;
      isWrite = (await authorize(principal, service, method, message, lookups)).write === true;
    } catch (err) {
      const e = MeshError.from(err);
      const refused = e.code === 'unauthenticated' || e.code === 'permission_denied';
      write({ ...base(principal), result: refused ? 'denied' : e.code, reason: reasonOf(e) });
      throw e;
    }
    if (!isWrite) return next(req);
    try {
      const res = await next(req);
      write({ ...base(principal), result: 'ok' });
      return res;
    } catch (err) {
      const code = err instanceof ConnectError ? codeOf(err) : MeshError.from(err).code;
      write({ ...base(principal), result: code, reason: err instanceof Error ? err.message : String(err) });
      throw err;
    }
  };
}

function reasonOf(e: MeshError): string {
  return typeof e.details.reason === 'string' ? e.details.reason : e.message;
}

/** A ConnectError thrown by a deeper interceptor or Connect itself: its MeshError cause, else its code. */
function codeOf(err: ConnectError): string {
  return err.cause instanceof MeshError ? err.cause.code : Code[err.code];
}
