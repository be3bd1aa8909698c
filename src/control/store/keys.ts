/**
 * Checks both stores share, so that a request one store accepts the other does too: keys are
 * well-formed Unicode, values are JSON texts, and one transaction writes a key at most once
 * (etcd refuses a txn that touches a key twice: "duplicate key given in txn request").
 */
import { MeshError, excerpt } from '../../core/errors.ts';
import type { StoreOp } from './types.ts';

/** Throws `invalid_request` unless `key` is a non-empty, well-formed Unicode string. */
export function checkKey(key: string, what = 'key'): void {
  if (typeof key !== 'string' || key.length === 0 || !key.isWellFormed()) {
    throw new MeshError('invalid_request', `store ${what} must be a non-empty Unicode string`, {
      key: typeof key === 'string' ? excerpt(key) : typeof key,
    });
  }
}

/** Throws `invalid_request` unless `value` is a JSON text. */
export function checkValue(key: string, value: string): void {
  if (typeof value === 'string') {
    try {
      JSON.parse(value);
      return;
    } catch {
      // fall through to the error below
    }
  }
  throw new MeshError('invalid_request', `store value of ${excerpt(key)} is not a JSON text`, { key });
}

/** Validates a transaction's writes; a key written twice (or under a deleted prefix) is refused. */
export function checkOps(ops: readonly StoreOp[]): void {
  const written = new Set<string>();
  const prefixes: string[] = [];
  for (const op of ops) {
    if ('deletePrefix' in op) {
      // An empty prefix is allowed here: it means every key of the store.
      if (typeof op.deletePrefix !== 'string' || !op.deletePrefix.isWellFormed()) checkKey('', 'prefix');
      prefixes.push(op.deletePrefix);
      continue;
    }
    const key = 'put' in op ? op.put : op.delete;
    checkKey(key);
    if ('put' in op) checkValue(key, op.value);
    if (written.has(key)) {
      throw new MeshError('invalid_request', `transaction writes ${excerpt(key)} more than once`, { key });
    }
    written.add(key);
  }
  for (const prefix of prefixes) {
    for (const key of written) {
      if (key.startsWith(prefix)) {
        throw new MeshError('invalid_request', `transaction writes ${excerpt(key)} and deletes its prefix`, {
          key,
          prefix,
        });
      }
    }
  }
}

/**
 * The smallest string greater than every string that starts with `prefix` (by code point, which is
 * UTF-8 byte order), or `undefined` when there is none (empty prefix: the range is open-ended).
 */
export function prefixEnd(prefix: string): string | undefined {
  const points = Array.from(prefix, (c) => c.codePointAt(0)!);
  while (points.length > 0) {
    let last = points.pop()!;
    if (last < 0x10ffff) {
      last += 1;
      // Skip the surrogate range: those code points are not characters of a well-formed string.
      if (last >= 0xd800 && last <= 0xdfff) last = 0xe000;
      return String.fromCodePoint(...points, last);
    }
  }
  return undefined;
}
