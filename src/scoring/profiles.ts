/**
 * Scoring profiles: named pipelines of filters → weighted scorers → picker. The built-ins are the
 * project's default and the field's strategies as baselines, all run by the same engine so a
 * benchmark compares policies, not implementations. Config (`scoring.profiles`) adds or replaces.
 */
import type { SloClass } from './types.ts';

export interface PluginSpec {
  type: string;
  /** Name shown in explanations and timings; defaults to the type. */
  name?: string;
  params?: Record<string, unknown>;
}

export interface ProfileSpec {
  /** Defaults to `STANDARD_FILTERS`. */
  filters?: readonly PluginSpec[];
  scorers?: readonly (PluginSpec & { weight?: number })[];
  /** Defaults to `max-score`. */
  picker?: PluginSpec;
  /** Weight overrides by scorer name for requests of an SLO class. */
  sloClasses?: Partial<Record<SloClass, Readonly<Record<string, number>>>>;
  /**
   * Where prefix matches come from: `approximate` (default), the router's own routing history;
   * `precise`, the endpoints' KV events plus recent routes (`precise-prefix-index.ts`).
   */
  prefix?: 'approximate' | 'precise';
}

/** Every profile drops what cannot serve: unhealthy, quarantined, wrong model or protocol, wrong MIG slice. */
export const STANDARD_FILTERS: readonly PluginSpec[] = [
  { type: 'health' },
  { type: 'quarantine' },
  { type: 'model-served' },
  { type: 'protocol' },
  { type: 'mig-profile' },
];

/** The built-in profiles. `default` is the project's; the rest reproduce the field's strategies. */
export const BUILTIN_PROFILES: Readonly<Record<string, ProfileSpec>> = {
  default: {
    scorers: [
      // Predicted TTFT in real units carries queue, prefix reuse, GPU speed and prompt length
      // together; scored against the best candidate, so a 2× slower target loses as much on an
      // 80k-token prompt as on a short one (absolute scores flatten out where TTFTs are long).
      { type: 'work-left', weight: 1, params: { halfMs: 1000, relative: true } },
      // Keeps a margin from KV exhaustion (preemption recomputes whole prompts).
      { type: 'kv-pressure', weight: 0.2, params: { knee: 1 } },
      // Spreads requests the prompt says little about (short prompts, no hints) by outstanding count.
      { type: 'in-flight', weight: 0.2, params: { source: 'max', half: 4 } },
      { type: 'lora-affinity', weight: 0.2 },
      { type: 'network-cost', weight: 0.1 },
    ],
    picker: { type: 'max-score' },
    sloClasses: {
      // Throughput traffic leans on cache reuse and packing more than on the last millisecond.
      throughput: { 'work-left': 0.5, 'kv-pressure': 0.5 },
    },
  },
  // Baselines: each copies a project's default; src/scoring/profiles/<name>/README.md cites the
  // source and says what differs. They read only router-side and scraped state.
  'round-robin': { picker: { type: 'round-robin' } },
  random: { picker: { type: 'random' } },
  'least-outstanding': { scorers: [{ type: 'in-flight', weight: 1 }], picker: { type: 'max-score' } },
  'power-of-two': { scorers: [{ type: 'in-flight', weight: 1 }], picker: { type: 'power-of-two' } },
  // llm-d / Gateway API Inference Extension default scheduling profile: queue 2, KV utilisation 2,
  // prefix cache 3, then the highest total.
  'llm-d': {
    scorers: [
      { type: 'prefix-affinity', weight: 3 },
      { type: 'kv-pressure', weight: 2, params: { source: 'scraped' } },
      { type: 'queue', weight: 2, params: { normalize: 'minmax' } },
    ],
    picker: { type: 'max-score' },
  },
  // sgl-router's cache_aware policy with its launch defaults (SGLANG_DEFAULTS in the plugin).
  'sglang-cache-aware': { picker: { type: 'sglang-cache-aware' } },
  // Envoy LEAST_REQUEST with static weights by GPU type (H100 3 : A100 1), active_request_bias 1.
  'weighted-least-request': { picker: { type: 'weighted-least-request' } },
  // NVIDIA Dynamo's KV router: overlap weight 1, temperature 0.
  'dynamo-kv': { picker: { type: 'dynamo-kv' } },
};

/**
 * Profiles that route on what each engine holds, from its KV events (llm-d's "precise" mode):
 * each is a built-in above with `prefix: 'precise'`. Apart from the baselines so a benchmark of
 * the field's strategies does not run them without events.
 */
export const PRECISE_PROFILES: Readonly<Record<string, ProfileSpec>> = {
  'default-precise': { ...BUILTIN_PROFILES.default, prefix: 'precise' },
  // llm-d's precise-prefix-cache-scorer in place of the approximate one, same weights.
  'llm-d-precise': { ...BUILTIN_PROFILES['llm-d'], prefix: 'precise' },
};
