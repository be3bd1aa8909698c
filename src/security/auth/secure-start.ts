/**
 * Secure by default: meshd refuses to serve its control API or its router on an address other
 * hosts can reach unless callers must authenticate there, or the config says `security.insecure`
 * (then it warns at every start). Loopback stays open, so the quick start needs no credentials.
 */
import { MeshError } from '../../core/errors.ts';
import type { Logger } from '../../observability/log.ts';
import { isLoopbackHost } from '../../core/listen.ts';

/** A listener meshd is about to open. */
export interface ExposedListener {
  /** The config key that sets its address (`api`, `router.listen`). */
  key: string;
  host: string;
  /** Whether callers must authenticate there (what authenticates, for the message). */
  authenticated: boolean;
  /** The setting that would make it authenticated, named in the refusal. */
  authSetting: string;
}

/**
 * Throws `invalid_config` naming each reachable listener without authentication, unless
 * `insecure`; with `insecure`, logs a warning listing them. Returns the ones served insecurely.
 */
export function checkSecureStart(
  listeners: readonly ExposedListener[],
  insecure: boolean,
  logger?: Logger,
): ExposedListener[] {
  const open = listeners.filter((l) => !l.authenticated && !isLoopbackHost(l.host));
  if (insecure) {
    logger?.warn(
      { insecure: open.map((l) => `${l.key} (${l.host})`) },
      'security.insecure is set: listeners off loopback accept callers without authentication',
    );
    return open;
  }
  if (open.length > 0) {
    const what = open.map((l) => `${l.key}.host ${l.host} without ${l.authSetting}`).join('; ');
    throw new MeshError(
      'invalid_config',
      `refusing to listen off loopback without authentication: ${what}. Configure it, bind 127.0.0.1, ` +
        'or set security.insecure: true to accept anyone who can reach the port',
      { listeners: open.map((l) => l.key) },
    );
  }
  return [];
}
