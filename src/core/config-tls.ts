/** `security.tls`: node identity and mTLS on internal links, TLS on the router port. Filled in by the TLS work. */
import { z } from 'zod';

export const tlsConfigSchema = z.strictObject({}).prefault({});
