/**
 * Value checks shared by the model and GPU delta appliers: a reporter's numbers are validated once,
 * at the edge, so the store only ever holds values the router and scoring can trust.
 */
import { MeshError } from '../../core/errors.ts';

/** Throws `invalid_request` unless `value` (when present) is a finite number in [0, 1]. */
export function checkFraction(field: string, value: number | undefined): void {
  if (value === undefined) return;
  if (!Number.isFinite(value) || value < 0 || value > 1)
    throw new MeshError('invalid_request', `${field} must be within 0..1, got ${value}`, { param: field });
}

/** Throws `invalid_request` unless `value` (when present) is a finite number ≥ 0. */
export function checkNonNegative(field: string, value: number | undefined): void {
  if (value === undefined) return;
  if (!Number.isFinite(value) || value < 0)
    throw new MeshError('invalid_request', `${field} must be a finite number >= 0, got ${value}`, {
      param: field,
    });
}

/** Throws `invalid_request` unless `value` (when present) is a finite number. */
export function checkFinite(field: string, value: number | undefined): void {
  if (value === undefined) return;
  if (!Number.isFinite(value))
    throw new MeshError('invalid_request', `${field} must be a finite number, got ${value}`, {
      param: field,
    });
}

/**
 * A proto `float` read back as a double carries binary noise (0.3 → 0.30000001192…); seven
 * significant digits are all a float holds, so keep those.
 */
export const fromFloat = (value: number | undefined): number | undefined =>
  value === undefined ? undefined : Number(value.toPrecision(7));

/** Copies the defined entries of `patch` onto `target` (proto3 `optional`: unset means unchanged). */
export function assignDefined<T extends object>(target: T, patch: Partial<T>): void {
  for (const [key, value] of Object.entries(patch)) {
    if (value !== undefined) Object.assign(target, { [key]: value });
  }
}
