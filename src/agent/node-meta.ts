/**
 * What a meshd tells the mesh about itself through gossip: the opaque `meta` bytes every member
 * carries (src/membership), here a small JSON object with short keys. It must fit memberlist's
 * 512-byte meta budget, so when a node has many labels or models the labels go first, then models
 * from the end (`modelsTruncated` says so); routers learn the full model list from the node's
 * state stream anyway. Meta from another node is untrusted input: anything malformed decodes to
 * undefined and the member is shown without it.
 */
import { decodeJsonMeta, encodeJsonMeta } from '../membership/index.ts';
import { NODE_ROLES, type NodeMeta, type NodeRole } from '../core/types.ts';

/** The wire shape: short keys, because every byte rides in every alive message. */
interface WireMeta {
  r: string[];
  z: string;
  a: string;
  l?: Record<string, string>;
  g?: [number, string[]];
  m?: string[];
  mt?: 1;
  d?: 1;
  v: string;
}

function toWire(meta: NodeMeta, labels: boolean, models: string[]): WireMeta {
  return {
    r: meta.roles,
    z: meta.zone,
    a: meta.apiUrl,
    ...(labels && Object.keys(meta.labels).length > 0 ? { l: meta.labels } : {}),
    ...(meta.gpuCount > 0 ? { g: [meta.gpuCount, meta.gpuTypes] as [number, string[]] } : {}),
    ...(models.length > 0 ? { m: models } : {}),
    ...(models.length < meta.models.length || meta.modelsTruncated ? { mt: 1 as const } : {}),
    ...(meta.draining ? { d: 1 as const } : {}),
    v: meta.version,
  };
}

/** Encodes `meta` in at most `maxBytes`, dropping labels, then models, to fit. */
export function encodeNodeMeta(meta: NodeMeta, maxBytes: number): Uint8Array {
  const fits = (bytes: Uint8Array) => bytes.length <= maxBytes;
  let bytes = encodeJsonMeta(toWire(meta, true, meta.models));
  if (fits(bytes)) return bytes;
  for (let keep = meta.models.length; keep >= 0; keep--) {
    bytes = encodeJsonMeta(toWire(meta, false, meta.models.slice(0, keep)));
    if (fits(bytes)) return bytes;
  }
  // Only the essentials: roles, zone, address and version must always fit.
  return encodeJsonMeta({ r: meta.roles, z: meta.zone.slice(0, 64), a: meta.apiUrl, mt: 1, v: '' });
}

const isStringArray = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((x) => typeof x === 'string');
const isStringRecord = (v: unknown): v is Record<string, string> =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  Object.values(v).every((x) => typeof x === 'string');

/** Meta bytes from a member → NodeMeta, or undefined when they are not a meshd's meta. */
export function decodeNodeMeta(bytes: Uint8Array): NodeMeta | undefined {
  const parsed = decodeJsonMeta(bytes);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const w = parsed as Partial<Record<keyof WireMeta, unknown>>;
  if (!isStringArray(w.r) || typeof w.z !== 'string' || typeof w.a !== 'string') return undefined;
  const gpus = Array.isArray(w.g) && typeof w.g[0] === 'number' && isStringArray(w.g[1]) ? w.g : [0, []];
  return {
    roles: w.r.filter((r): r is NodeRole => (NODE_ROLES as readonly string[]).includes(r)),
    zone: w.z,
    apiUrl: w.a,
    labels: isStringRecord(w.l) ? w.l : {},
    gpuCount: gpus[0] as number,
    gpuTypes: gpus[1] as string[],
    models: isStringArray(w.m) ? w.m : [],
    modelsTruncated: w.mt === 1,
    draining: w.d === 1,
    version: typeof w.v === 'string' ? w.v : '',
  };
}
