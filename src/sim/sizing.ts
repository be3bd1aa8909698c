/**
 * Default engine limits, sized the way vLLM sizes them for the GPU a profile models, so that a
 * simulator started with no limits saturates where a real `vllm serve` on that GPU would:
 *
 * - KV blocks: vLLM profiles one forward pass, then gives the KV cache what is left of
 *   `total GPU memory × gpu_memory_utilization` after the weights and the activation peak, and
 *   divides it by the bytes of one block (`block_size × KV bytes per token`). See
 *   `Worker.determine_available_memory` and `get_kv_cache_config` in vLLM V1.
 * - `max_num_seqs` and `max_num_batched_tokens`: vLLM's `EngineArgs.get_batch_defaults`
 *   (vllm/engine/arg_utils.py) for the OpenAI API server: on a GPU with ≥ 70 GiB that is not an A100
 *   (H100, H200, MI300X) 1024 sequences and 8192 tokens per step; otherwise (A100 included,
 *   vLLM PR #17885) 256 and 2048.
 */
import type { GpuProfile } from './profiles.ts';

/** The model every profile's step times describe: Llama-3-8B in bf16. */
export const SIM_MODEL_SHAPE = {
  layers: 32,
  kvHeads: 8,
  headDim: 128,
  /** bf16 KV cache (vLLM's `kv_cache_dtype: auto` for a bf16 model). */
  kvDtypeBytes: 2,
  /** Llama-3-8B has 8,030,261,248 parameters; bf16 weights are 2 bytes each. */
  weightBytes: 8_030_261_248 * 2,
} as const;

/** KV bytes per token: layers × KV heads × head_dim × 2 (K and V) × dtype bytes = 128 KiB for Llama-3-8B. */
export const KV_BYTES_PER_TOKEN =
  SIM_MODEL_SHAPE.layers *
  SIM_MODEL_SHAPE.kvHeads *
  SIM_MODEL_SHAPE.headDim *
  2 *
  SIM_MODEL_SHAPE.kvDtypeBytes;

/** vLLM's default `gpu_memory_utilization`. */
export const GPU_MEMORY_UTILIZATION = 0.9;

/**
 * Memory vLLM keeps outside the KV cache besides the weights: the activation peak of its profiling
 * forward pass (at `max_num_batched_tokens` tokens), the sampler's logits for `max_num_seqs`
 * sequences (128k vocabulary) and non-torch allocations (NCCL, cuBLAS workspaces). vLLM's start-up
 * log for an 8B model on an 80 GB GPU reports about 1.2 GiB of activation peak and 0.1–0.3 GiB
 * non-torch; 2 GiB covers both with the logits.
 */
export const ACTIVATION_RESERVE_BYTES = 2 * 1024 ** 3;

interface GpuSpec {
  /** Total device memory as NVML reports it (nvidia-smi's MiB × 2^20). */
  memoryBytes: number;
  /** vLLM's API-server defaults on this GPU. */
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
}

const GPU_SPECS: Readonly<Record<GpuProfile['name'], GpuSpec>> = {
  // 81,559 MiB: the H100 80GB HBM3 read through NVML in docs/GPU-PROOF.md.
  h100: { memoryBytes: 81_559 * 2 ** 20, maxNumSeqs: 1024, maxNumBatchedTokens: 8192 },
  // 81,920 MiB: nvidia-smi's total for an A100-SXM4-80GB.
  a100: { memoryBytes: 81_920 * 2 ** 20, maxNumSeqs: 256, maxNumBatchedTokens: 2048 },
};

/** The limits a simulator of `profile` gets when none is given. */
export interface EngineSizing {
  /** Total device memory the sizing started from, bytes. */
  gpuMemoryBytes: number;
  /** Bytes left for the KV cache. */
  kvCacheBytes: number;
  kvBlocks: number;
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
}

/** vLLM's sizing for `profile`'s GPU with blocks of `blockSize` tokens. */
export function defaultSizing(profile: Pick<GpuProfile, 'name'>, blockSize: number): EngineSizing {
  const gpu = GPU_SPECS[profile.name];
  const kvCacheBytes =
    gpu.memoryBytes * GPU_MEMORY_UTILIZATION - SIM_MODEL_SHAPE.weightBytes - ACTIVATION_RESERVE_BYTES;
  return {
    gpuMemoryBytes: gpu.memoryBytes,
    kvCacheBytes,
    kvBlocks: Math.floor(kvCacheBytes / (blockSize * KV_BYTES_PER_TOKEN)),
    maxNumSeqs: gpu.maxNumSeqs,
    maxNumBatchedTokens: gpu.maxNumBatchedTokens,
  };
}
