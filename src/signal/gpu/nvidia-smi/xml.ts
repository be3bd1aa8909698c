/**
 * What the `--query-gpu` CSV cannot say: the MIG instances of each GPU. Read from
 * `nvidia-smi -q -x` (`<gpu>` → `<uuid>`, `<minor_number>`, `<mig_devices>` → `<mig_device>` with
 * `<index>`, `<gpu_instance_id>`, `<fb_memory_usage>`) and from `nvidia-smi -L`, the one output that
 * names an instance's UUID and profile (`  MIG 1g.10gb     Device  0: (UUID: MIG-…)`).
 * A small tag reader, not a general XML parser: nvidia-smi's document has no attributes we need
 * beyond `<gpu id>`, no CDATA and no nesting of same-named elements.
 */
import type { GpuState } from '../../../core/gpu.ts';
import { dropUndefined } from '../drop-undefined.ts';

const MIB = 1024 * 1024;

/** Inner text of every `<tag>…</tag>` directly in `xml` (first level of that tag name). */
function elements(xml: string, tag: string): string[] {
  const out: string[] = [];
  const re = new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`, 'g');
  for (let m = re.exec(xml); m; m = re.exec(xml)) out.push(m[1]!);
  return out;
}
const text = (xml: string, tag: string) => elements(xml, tag)[0]?.trim();
const mib = (v: string | undefined) => {
  const m = v === undefined ? null : /^(\d+(?:\.\d+)?)\s*MiB$/.exec(v);
  return m ? Number(m[1]) * MIB : undefined;
};

/** One MIG instance as `-q -x` shows it. */
export interface XmlMigDevice {
  gpuUuid: string;
  gpuIndex: number;
  index: number;
  gpuInstanceId?: number;
  memoryTotalBytes?: number;
  memoryUsedBytes?: number;
}

/** The MIG instances of every GPU in a `-q -x` document (none when MIG is off: `<mig_devices>None`). */
export function parseMigDevicesXml(xml: string): XmlMigDevice[] {
  const out: XmlMigDevice[] = [];
  for (const gpu of elements(xml, 'gpu')) {
    const gpuUuid = text(gpu, 'uuid');
    const gpuIndex = Number(text(gpu, 'minor_number'));
    if (!gpuUuid) continue;
    for (const block of elements(gpu, 'mig_devices')) {
      for (const dev of elements(block, 'mig_device')) {
        const index = Number(text(dev, 'index'));
        if (!Number.isInteger(index)) continue;
        const fb = elements(dev, 'fb_memory_usage')[0] ?? '';
        const gi = Number(text(dev, 'gpu_instance_id'));
        out.push({
          gpuUuid,
          gpuIndex: Number.isInteger(gpuIndex) ? gpuIndex : 0,
          index,
          gpuInstanceId: Number.isInteger(gi) ? gi : undefined,
          memoryTotalBytes: mib(text(fb, 'total')),
          memoryUsedBytes: mib(text(fb, 'used')),
        });
      }
    }
  }
  return out;
}

/** `nvidia-smi -L` → MIG UUID and profile by (GPU index, MIG device index). */
export function parseListGpus(listing: string): Map<string, { uuid: string; profile: string }> {
  const out = new Map<string, { uuid: string; profile: string }>();
  let gpu = -1;
  for (const line of listing.split(/\r?\n/)) {
    const g = /^GPU (\d+):/.exec(line);
    if (g) gpu = Number(g[1]);
    const m = /^\s+MIG\s+(\S+)\s+Device\s+(\d+):\s+\(UUID:\s*(MIG-[^)\s]+)\)/.exec(line);
    if (m && gpu >= 0) out.set(`${gpu}/${m[2]}`, { profile: m[1]!, uuid: m[3]! });
  }
  return out;
}

/** MIG instance records: memory from `-q -x`, UUID and profile from `-L` where it names them. */
export function migStates(
  devices: XmlMigDevice[],
  listing: Map<string, { uuid: string; profile: string }>,
  ctx: { node: string; now: number },
): GpuState[] {
  return devices.map((d) => {
    const named = listing.get(`${d.gpuIndex}/${d.index}`);
    const state: GpuState = {
      uuid: named?.uuid ?? `${d.gpuUuid}/gi${d.gpuInstanceId ?? d.index}`,
      index: d.gpuIndex,
      name: named ? `MIG ${named.profile}` : 'MIG',
      node: ctx.node,
      memoryTotalBytes: d.memoryTotalBytes,
      memoryUsedBytes: d.memoryUsedBytes,
      migMode: true,
      migProfile: named?.profile,
      parentUuid: d.gpuUuid,
      healthy: true,
      updatedAt: ctx.now,
      source: 'nvidia-smi',
    };
    return dropUndefined(state);
  });
}
