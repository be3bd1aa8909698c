/** `security.apiKeys`: tenant API keys on inference requests (docs/SECURITY.md, "Tenant API keys"). */
import { z } from 'zod';
import { isLoopbackHost } from './listen.ts';

export const apiKeysConfigSchema = z
  .strictObject({
    /**
     * Whether inference requests must carry a tenant API key. `auto`: required when the router
     * listens on a non-loopback address (a wildcard included), not on loopback, so the local quick
     * start needs no key while anything reachable from the network does.
     */
    required: z.union([z.literal('auto'), z.boolean()]).default('auto'),
  })
  .prefault({});

export type ApiKeysConfig = z.output<typeof apiKeysConfigSchema>;

/** `required` resolved for a router listening on `host`. */
export function apiKeysRequired(config: ApiKeysConfig, host: string): boolean {
  return config.required === 'auto' ? !isLoopbackHost(host) : config.required;
}
