/**
 * TF Serving's `GetModelStatusResponse` (reference §4.2), also served by OVMS per model and, keyed
 * by model name, by OVMS's `GET /v1/config`. `version` is an int64 written as a string; `state` ∈
 * UNKNOWN, START, LOADING, AVAILABLE, UNLOADING, END.
 */
import { z } from 'zod';

export const modelStatusSchema = z.object({
  model_version_status: z
    .array(
      z.object({
        version: z.union([z.string(), z.number()]).optional(),
        state: z.string(),
        status: z
          .object({ error_code: z.string().optional(), error_message: z.string().optional() })
          .optional(),
      }),
    )
    .default([]),
});
export type ModelStatus = z.infer<typeof modelStatusSchema>;

/** loaded = some version AVAILABLE; warming = none available yet and one starting or loading. */
export function lifecycleOf(status: ModelStatus | undefined): { loaded: boolean; warming: boolean } {
  const states = status?.model_version_status.map((v) => v.state) ?? [];
  const loaded = states.includes('AVAILABLE');
  return { loaded, warming: !loaded && states.some((s) => s === 'START' || s === 'LOADING') };
}
