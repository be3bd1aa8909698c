/** `security.apiKeys`: tenant API keys on inference requests. Filled in by the API-key work. */
import { z } from 'zod';

export const apiKeysConfigSchema = z.strictObject({}).prefault({});
