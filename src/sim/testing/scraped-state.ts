/**
 * What the vLLM adapter (src/signal/runtime/vllm/adapter.ts) would scrape from a simulator engine:
 * waiting, running, KV usage, KV block size and count. No batch limit: `max_num_seqs` is not in
 * vLLM's metrics, so a router fed this knows no more than a real one would. For the virtual-time
 * benchmark and tests that drive engines without sockets.
 */
import type { ModelState } from '../../core/types.ts';
import type { SimEngine } from '../engine.ts';

export function scrapedState(
  engine: SimEngine,
  o: { endpointId: string; index: number; model: string; gpuType: string; now: number },
): ModelState {
  const s = engine.stats();
  return {
    endpointId: o.endpointId,
    endpointUrl: `sim://${o.index}`,
    node: `node-${o.index}`,
    model: o.model,
    runtime: 'vllm',
    health: 'healthy',
    loaded: true,
    warming: false,
    queueDepth: s.waiting,
    running: s.running,
    kvCacheUsage: s.kvUsage,
    kvBlocksTotal: engine.numBlocks,
    kvBlockSize: engine.blockSize,
    gpuType: o.gpuType,
    updatedAt: o.now,
  };
}
