/** Reads a numeric plugin parameter with a default; profiles are validated before they get here. */
export function numParam(params: Record<string, unknown>, key: string, fallback: number): number {
  const v = params[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}
