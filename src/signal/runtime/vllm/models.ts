/**
 * Reads vLLM's `GET /v1/models` (OpenAI list). vLLM adds `root`, `parent` (the base model of a LoRA
 * adapter) and `max_model_len`; only `id` and `parent` matter to the signal plane.
 */
import { z } from 'zod';

/** Zod schema of an OpenAI model list (vLLM and SGLang add `parent` for LoRA adapters). */
export const modelListSchema = z.object({
  data: z.array(z.object({ id: z.string().min(1), parent: z.string().nullish() })),
});

export interface ServedModel {
  id: string;
  /** Base model id for a LoRA adapter; absent for a base model. */
  parent?: string;
}
