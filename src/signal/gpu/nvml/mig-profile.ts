/**
 * MIG profile names (`1g.10gb`, `3g.40gb`) from what NVML reports about an instance: its GPU
 * instance slice count and memory size. NVIDIA's names round the instance's share of the board's
 * memory up to an eighth, then scale by the board's memory in whole GB, so a 40192 MiB slice of
 * an 80 GB H100 is `40gb`, not the `39gb` its size alone would give.
 */

const MIB = 1024 ** 2;
const GIB = 1024 ** 3;

/** `<slices>g.<gb>gb`; without the parent's total memory, the size rounded to the nearest GB. */
export function migProfileName(slices: number, memorySizeMB: number, parentTotalBytes?: number): string {
  if (!parentTotalBytes) return `${slices}g.${Math.round(memorySizeMB / 1024)}gb`;
  const fraction = Math.ceil(((memorySizeMB * MIB) / parentTotalBytes) * 8) / 8;
  const boardGb = Math.ceil(parentTotalBytes / GIB);
  return `${slices}g.${Math.round(fraction * boardGb)}gb`;
}
