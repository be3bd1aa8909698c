/**
 * What the runtime scraper and its adapters agree on. An adapter knows one runtime's endpoints and
 * metric names; the scraper owns timing, timeouts, health and the state store.
 */
import type { EndpointHealth, ModelState, RuntimeKind } from '../../core/types.ts';
import type { GetText } from './http.ts';
import type { ScrapeErrorReason } from './scrape-error.ts';

/** One runtime endpoint of this node, as configured. */
export interface RuntimeEndpoint {
  /** Unique on this node; the endpoint id is `${node}/${name}`. */
  name: string;
  runtime: RuntimeKind;
  /** Base URL, e.g. `http://127.0.0.1:8000`. */
  url: string;
  gpuType?: string;
  /** UUIDs of the GPUs the endpoint runs on, copied onto its records as `gpuUuids` for routing. */
  gpus?: readonly string[];
  /**
   * Where the runtime serves Prometheus metrics when not at `${url}/metrics`: Triton (default port
   * 8002), TorchServe (8082), TF Serving (`/monitoring/prometheus/metrics`).
   */
  metricsUrl?: string;
  /** TorchServe's management API (default: the inference URL's host, port 8081). */
  managementUrl?: string;
  /** Models to ask for, for runtimes that cannot list theirs (TF Serving). */
  models?: string[];
}

/** Options every adapter takes (adapters.ts fills them from the endpoint config and the scraper). */
export interface AdapterOptions {
  endpointId: string;
  node: string;
  /** Base URL of the runtime's inference API, e.g. `http://127.0.0.1:8000`. */
  url: string;
  gpuType?: string;
  getText: GetText;
  /** Limit on the metrics body (default 8 MiB). */
  maxMetricsBytes?: number;
  /** Shortest rate window (rate-tracker.ts; default 200 ms). */
  minWindowMs?: number;
}

export interface ScrapeContext {
  /** Aborted when the scrape times out or the scraper stops. */
  signal: AbortSignal;
  /** Unix ms at the start of this scrape: the `updatedAt` of its records and the end of its rate window. */
  now: number;
}

/**
 * A runtime adapter scrapes one endpoint. It keeps whatever state it needs between scrapes
 * (previous counters for rates) and returns one record per model with `health: 'healthy'`;
 * it throws `ScrapeError` when the endpoint cannot be read.
 */
export interface RuntimeAdapter {
  scrape(ctx: ScrapeContext): Promise<ModelState[]>;
  /** Present when the runtime can load and unload models (or LoRA adapters) through its API. */
  control?: RuntimeControl;
  /**
   * Per-engine records of the last successful scrape, for runtimes that run several engines behind
   * one endpoint (vLLM data parallel). The store keeps the aggregate `scrape()` returns; these are
   * for `meshd probe` and diagnostics. Empty when the runtime does not label engines.
   */
  engines?(): EngineModelState[];
}

/** One model on one engine of a data-parallel endpoint. */
export interface EngineModelState extends ModelState {
  /** The runtime's engine id (vLLM's `engine` label). */
  engine: string;
}

/** Options of a load request; which apply depends on the runtime (documented per adapter). */
export interface LoadModelOptions {
  /** Where the runtime finds the weights or adapter: a path, a URL or a model-store name. */
  source?: string;
  /** For LoRA adapters: the base model it attaches to. */
  baseModel?: string;
  /** Runtime-specific settings (e.g. TorchServe `initial_workers`). */
  config?: Record<string, string>;
}

/**
 * Model lifecycle through the runtime's own API. Both throw `MeshError`: `not_found` for an
 * unknown model, `invalid_request` for what the runtime refuses, `upstream_error` when it fails.
 */
export interface RuntimeControl {
  loadModel(model: string, options?: LoadModelOptions): Promise<void>;
  unloadModel(model: string): Promise<void>;
}

/** Why an endpoint is not being scraped or what its last scrape failed with. */
export interface EndpointError {
  reason: ScrapeErrorReason | 'unsupported_runtime';
  message: string;
  /** Unix ms. */
  at: number;
}

/**
 * An endpoint as the scraper sees it, whether or not it ever answered. `unknown` until its first
 * scrape ends (and forever for a runtime with no adapter yet).
 */
export interface EndpointStatus {
  id: string;
  name: string;
  node: string;
  url: string;
  runtime: RuntimeKind;
  gpuType?: string;
  health: EndpointHealth | 'unknown';
  consecutiveFailures: number;
  lastError?: EndpointError;
  /** Unix ms of the last scrape that ended, successful or not. */
  lastScrapeAt?: number;
  lastSuccessAt?: number;
  /** Models of the last successful scrape. */
  models: string[];
}
