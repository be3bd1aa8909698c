/**
 * Decoding of the NVML clocks event (throttle) reasons bitmask, shared by NVML, nvidia-smi
 * (`clocks_event_reasons.active` is the same bitmask in hex) and dcgm-exporter
 * (`DCGM_FI_DEV_CLOCK_THROTTLE_REASONS`). Bit values are the `nvmlClocksEventReason*` constants.
 */

/** Bit → name, lowest bit first. */
const THROTTLE_REASON_BITS: ReadonlyArray<readonly [bigint, string]> = [
  [0x1n, 'gpu_idle'],
  [0x2n, 'applications_clocks_setting'],
  [0x4n, 'sw_power_cap'],
  [0x8n, 'hw_slowdown'],
  [0x10n, 'sync_boost'],
  [0x20n, 'sw_thermal_slowdown'],
  [0x40n, 'hw_thermal_slowdown'],
  [0x80n, 'hw_power_brake_slowdown'],
  [0x100n, 'display_clock_setting'],
];

/** The names of the set bits; an unknown bit shows as `bit_<n>` rather than vanishing. */
export function decodeThrottleReasons(mask: bigint | number): string[] {
  let rest = BigInt(mask);
  const out: string[] = [];
  for (const [bit, name] of THROTTLE_REASON_BITS) {
    if (rest & bit) out.push(name);
    rest &= ~bit;
  }
  for (let n = 0n; rest > 0n; n++, rest >>= 1n) if (rest & 1n) out.push(`bit_${n}`);
  return out;
}

/** Parses `0x0000000000000001` (nvidia-smi) or a decimal string; undefined when it is neither. */
export function parseThrottleMask(text: string): bigint | undefined {
  const t = text.trim();
  if (/^0x[0-9a-f]+$/i.test(t) || /^\d+$/.test(t)) return BigInt(t);
  return undefined;
}
