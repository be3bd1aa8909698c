/** How numbers read on the dashboard: absent signals show as a dash, never as zero. */

export const dash = '–';

export function pct(ratio: number | undefined): string {
  return ratio === undefined ? dash : `${(ratio * 100).toFixed(ratio < 0.1 ? 1 : 0)}%`;
}

export function ms(value: number | undefined | null): string {
  if (value === undefined || value === null) return dash;
  return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
}

export function num(value: number | undefined, digits = 0): string {
  return value === undefined ? dash : value.toFixed(digits);
}

export function bytes(value: number | undefined): string {
  if (value === undefined) return dash;
  const gib = value / 2 ** 30;
  return gib >= 1 ? `${gib.toFixed(1)} GiB` : `${(value / 2 ** 20).toFixed(0)} MiB`;
}

export function time(unixMs: number): string {
  return new Date(unixMs).toLocaleTimeString([], { hour12: false });
}

/** `GPU-sim-local-sim-h100-0` stays readable; a real 40-character UUID is cut in the middle. */
export function shortId(id: string, max = 28): string {
  return id.length <= max ? id : `${id.slice(0, 12)}…${id.slice(-10)}`;
}
