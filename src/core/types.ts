/**
 * Domain types shared by every plane. `core` imports nothing of the project, so these types are
 * the vocabulary adapters, the state store, the router and the control API agree on.
 */

export const RUNTIME_KINDS = ['vllm', 'sglang', 'tgi', 'triton', 'torchserve', 'tfserving', 'ovms'] as const;
export type RuntimeKind = (typeof RUNTIME_KINDS)[number];

export const NODE_ROLES = ['router', 'gpu', 'edge'] as const;
export type NodeRole = (typeof NODE_ROLES)[number];

/**
 * Inference protocols a runtime endpoint speaks, so the router forwards each request only where
 * it is understood: OpenAI-compatible (`/v1/chat/completions`, `/v1/completions`), TGI's
 * `/generate` and `/generate_stream`, KServe v2 / Open Inference Protocol (`/v2/models/{m}/infer`),
 * TorchServe's `/predictions/{m}` and TF Serving's `/v1/models/{m}:predict`.
 */
export const PROTOCOLS = ['openai', 'tgi', 'kserve-v2', 'torchserve', 'tfserving'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/** Endpoint health as the signal plane sees it. */
export type EndpointHealth = 'healthy' | 'stale' | 'unhealthy';

/**
 * The normalised state of one model on one runtime endpoint. Optional fields are absent when the
 * runtime does not report them: a missing signal is never invented.
 */
export interface ModelState {
  /** Stable id of the runtime endpoint, unique in the mesh (`<node>/<endpoint name>`). */
  endpointId: string;
  /** Base URL the router forwards to, e.g. `http://127.0.0.1:8001`. */
  endpointUrl: string;
  node: string;
  model: string;
  runtime: RuntimeKind;
  health: EndpointHealth;
  loaded: boolean;
  warming: boolean;
  /** Requests waiting for a batch slot. */
  queueDepth?: number;
  /** Requests in the running batch. */
  running?: number;
  /** KV cache in use, 0..1. */
  kvCacheUsage?: number;
  /** Prefix cache hits / queries over the last scrape window, 0..1. */
  prefixCacheHitRate?: number;
  /** Finished requests per second over the last window. */
  requestRate?: number;
  /** Prompt + generated tokens per second over the last window. */
  tokenRate?: number;
  ttftP95Ms?: number;
  e2eP95Ms?: number;
  /** running / max batch size, 0..1, where the runtime says its max. */
  batchFullness?: number;
  kvBlockSize?: number;
  kvBlocksTotal?: number;
  /** Inter-token latency p95 over the last window. */
  itlP95Ms?: number;
  /** LoRA adapters loaded on the endpoint for this base model. */
  loraAdapters?: string[];
  /** GPU type label from config (e.g. `H100`), used for heterogeneous speed later. */
  gpuType?: string;
  /** UUIDs of the GPUs (or MIG instances) behind the endpoint, from config; quarantine uses them. */
  gpuUuids?: string[];
  /** Protocols the endpoint serves this model over; absent means `['openai']`. */
  protocols?: Protocol[];
  /** Whether the runtime can load / unload models (or adapters) at run time through its API. */
  canLoad?: boolean;
  canUnload?: boolean;
  /** Unix milliseconds of the scrape this state came from. */
  updatedAt: number;
}

/** A node of the mesh as the control plane lists it. */
/** What a meshd says about itself in gossip (the member's meta; `src/agent/node-meta.ts`). */
export interface NodeMeta {
  roles: NodeRole[];
  zone: string;
  /** The node's control and state API, e.g. `http://10.0.0.7:50051`. */
  apiUrl: string;
  labels: Record<string, string>;
  gpuCount: number;
  /** Distinct GPU models, e.g. `NVIDIA H100 80GB HBM3`. */
  gpuTypes: string[];
  /** Models its endpoints serve. */
  models: string[];
  /** True when `models` was cut short to fit the meta budget. */
  modelsTruncated: boolean;
  draining: boolean;
  version: string;
}

/** A gossip member as meshd sees it: the protocol's view and the decoded meta. */
export interface MeshMember {
  id: string;
  /** Its gossip address, `host:port`. */
  address: string;
  status: 'alive' | 'suspect' | 'dead' | 'left';
  incarnation: number;
  /** Undefined when its meta is not a meshd's (or is malformed). */
  node: NodeMeta | undefined;
}

export interface NodeInfo {
  id: string;
  roles: NodeRole[];
  zone: string;
  labels: Record<string, string>;
  status: 'healthy' | 'unhealthy' | 'draining' | 'offline';
  lastSeen: number;
  version: string;
  /** Where the node's control/state API listens. */
  apiUrl: string;
}
