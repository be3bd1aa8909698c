/**
 * The explicit plugin registry: every filter, scorer and picker type a profile may name, mapped to
 * its factory. Built-ins are registered here, in one list; a deployment may add its own before
 * building the engine.
 */
import type { FilterFactory, PickerFactory, ScorerFactory } from './types.ts';
import { createHealthFilter } from './plugins/filters/health/index.ts';
import { createMigProfileFilter } from './plugins/filters/mig-profile/index.ts';
import { createModelServedFilter } from './plugins/filters/model-served/index.ts';
import { createProtocolFilter } from './plugins/filters/protocol/index.ts';
import { createQuarantineFilter } from './plugins/filters/quarantine/index.ts';
import { createGpuSpeedScorer } from './plugins/scorers/gpu-speed/index.ts';
import { createInFlightScorer } from './plugins/scorers/in-flight/index.ts';
import { createKvPressureScorer } from './plugins/scorers/kv-pressure/index.ts';
import { createLatencyScorer } from './plugins/scorers/latency/index.ts';
import { createLoraAffinityScorer } from './plugins/scorers/lora-affinity/index.ts';
import { createNetworkCostScorer } from './plugins/scorers/network-cost/index.ts';
import { createPrefixAffinityScorer } from './plugins/scorers/prefix-affinity/index.ts';
import { createQueueScorer } from './plugins/scorers/queue/index.ts';
import { createVramHeadroomScorer } from './plugins/scorers/vram-headroom/index.ts';
import { createWorkLeftScorer } from './plugins/scorers/work-left/index.ts';
import { createMaxScorePicker } from './plugins/pickers/max-score/index.ts';
import { createPowerOfTwoPicker } from './plugins/pickers/power-of-two/index.ts';
import { createRandomPicker } from './plugins/pickers/random/index.ts';
import { createRoundRobinPicker } from './plugins/pickers/round-robin/index.ts';
import { createSglangCacheAwarePicker } from './plugins/pickers/sglang-cache-aware/index.ts';
import { createDynamoKvPicker } from './plugins/pickers/dynamo-kv/index.ts';
import { createWeightedLeastRequestPicker } from './plugins/pickers/weighted-least-request/index.ts';
import { createTopKRandomPicker } from './plugins/pickers/top-k-random/index.ts';

export interface PluginRegistry {
  readonly filters: Map<string, FilterFactory>;
  readonly scorers: Map<string, ScorerFactory>;
  readonly pickers: Map<string, PickerFactory>;
}

/** A registry holding every built-in plugin type. */
export function createPluginRegistry(): PluginRegistry {
  return {
    filters: new Map<string, FilterFactory>([
      ['health', createHealthFilter],
      ['quarantine', createQuarantineFilter],
      ['model-served', createModelServedFilter],
      ['protocol', createProtocolFilter],
      ['mig-profile', createMigProfileFilter],
    ]),
    scorers: new Map<string, ScorerFactory>([
      ['work-left', createWorkLeftScorer],
      ['queue', createQueueScorer],
      ['kv-pressure', createKvPressureScorer],
      ['vram-headroom', createVramHeadroomScorer],
      ['latency', createLatencyScorer],
      ['in-flight', createInFlightScorer],
      ['prefix-affinity', createPrefixAffinityScorer],
      ['gpu-speed', createGpuSpeedScorer],
      ['network-cost', createNetworkCostScorer],
      ['lora-affinity', createLoraAffinityScorer],
    ]),
    pickers: new Map<string, PickerFactory>([
      ['max-score', createMaxScorePicker],
      ['top-k-random', createTopKRandomPicker],
      ['round-robin', createRoundRobinPicker],
      ['random', createRandomPicker],
      ['power-of-two', createPowerOfTwoPicker],
      ['sglang-cache-aware', createSglangCacheAwarePicker],
      ['weighted-least-request', createWeightedLeastRequestPicker],
      ['dynamo-kv', createDynamoKvPicker],
    ]),
  };
}
