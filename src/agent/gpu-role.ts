/**
 * The gpu role: starts the configured simulators, then scrapes every runtime endpoint of this
 * node into the state store. The first scrape finishes before the role reports itself up, so a
 * router on the same node has state to route with from its first request.
 */
import type { MeshConfig } from '../core/config.ts';
import type { Logger } from '../observability/log.ts';
import type { MeshMetrics } from '../observability/metrics.ts';
import { createRuntimeScraper, type RuntimeScraper } from '../signal/runtime/scraper.ts';
import type { StateStore } from '../signal/state/state-store.ts';
import type { GpuFault } from '../sim/gpu-fault.ts';
import { createSimServer } from '../sim/server.ts';
import { endpointGpusFromConfig } from './endpoint-gpus.ts';
import type { PrefixBlockHub } from '../signal/state/prefix-blocks.ts';
import { startPrefixBlockFeeds, type KvEventSource } from './prefix-blocks-role.ts';
import { runtimeTlsOf } from './router-tls.ts';

export interface GpuRole {
  simulators: Array<{ name: string; url: string }>;
  scraper: RuntimeScraper;
  /** What a simulator's `/sim/gpu-fault` forces onto its GPU, by simulator name; the sim GPU source reads it. */
  gpuFault: (simulator: string) => GpuFault | undefined;
  /**
   * Which KV blocks each endpoint holds, from the runtimes' KV events (`kvEvents` in config): give
   * it to the StatePlane (`prefixBlocks`) and, for a router on this node, `feedLocalPrefixBlocks`.
   */
  prefixBlocks: PrefixBlockHub;
  stop(): Promise<void>;
}

export async function startGpuRole(
  config: MeshConfig,
  deps: { store: StateStore; metrics: MeshMetrics; logger: Logger },
): Promise<GpuRole> {
  const host = config.api.host;
  const sims: Array<Awaited<ReturnType<typeof createSimServer>>> = [];
  try {
    for (const sim of config.gpu.simulators) sims.push(await createSimServer({ ...sim, host }));
  } catch (err) {
    await Promise.all(sims.map((s) => s.close()));
    throw err;
  }
  const simulators = config.gpu.simulators.map((s, i) => ({ name: s.name, url: sims[i]!.url }));
  const gpusOf = endpointGpusFromConfig(config);
  const configured = [
    ...config.gpu.runtimes,
    ...config.gpu.simulators.map((s, i) => ({
      name: s.name,
      runtime: s.flavor, // each flavour is named after the runtime it imitates
      url: sims[i]!.url,
      gpuType: s.profile.toUpperCase(),
      // Real Triton serves metrics on a port of their own; the simulator on its one port.
      ...(s.flavor === 'triton' ? { metricsUrl: `${sims[i]!.url}/metrics` } : {}),
    })),
  ];
  const endpoints = configured.map((ep) => ({ ...ep, gpus: gpusOf.get(`${config.node.id}/${ep.name}`) }));
  const scraper = createRuntimeScraper({
    node: config.node.id,
    endpoints,
    intervalMs: config.gpu.scrapeIntervalMs,
    timeoutMs: config.gpu.scrapeTimeoutMs,
    unhealthyAfter: config.gpu.unhealthyAfter,
    store: deps.store,
    metrics: deps.metrics,
    logger: deps.logger.child({ component: 'scraper' }),
    // The same trust as the router's: a runtime scraped over https is one routed to over https.
    tls: runtimeTlsOf(config),
    traceRounds: config.observability.tracing.scrapes,
  });
  const kvSources: KvEventSource[] = [
    ...config.gpu.runtimes.flatMap((r) =>
      r.kvEvents
        ? [
            {
              endpointId: `${config.node.id}/${r.name}`,
              endpoint: r.kvEvents,
              ...(r.kvEventsReplay ? { replayEndpoint: r.kvEventsReplay } : {}),
              ...(r.kvEventsTopic ? { topic: r.kvEventsTopic } : {}),
            },
          ]
        : [],
    ),
    ...config.gpu.simulators.flatMap((s, i) => {
      const kv = sims[i]!.kvEvents;
      return kv
        ? [
            {
              endpointId: `${config.node.id}/${s.name}`,
              endpoint: kv.endpoint,
              ...(kv.replayEndpoint ? { replayEndpoint: kv.replayEndpoint } : {}),
              ...(s.kvEvents?.topic ? { topic: s.kvEvents.topic } : {}),
            },
          ]
        : [];
    }),
  ];
  const feeds = startPrefixBlockFeeds(kvSources, deps.logger.child({ component: 'kv-events' }));
  await scraper.scrapeOnce();
  scraper.start();
  return {
    simulators,
    scraper,
    gpuFault: (name) => sims[config.gpu.simulators.findIndex((s) => s.name === name)]?.gpuFault(),
    prefixBlocks: feeds.hub,
    async stop() {
      await feeds.stop();
      await scraper.stop();
      await Promise.all(sims.map((s) => s.close()));
    },
  };
}
