/**
 * `security.auth`: who may call the control API (bearer JWTs, mTLS identities) and with which
 * role. Filled in by the RBAC work; the schema lives in core with the rest of the config.
 */
import { z } from 'zod';

export const authConfigSchema = z.strictObject({}).prefault({});
