import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Dispatcher } from 'undici';
import type { MeshError } from '../core/errors.ts';
import { createNodeAttempts } from './node-attempts.ts';

/** A controller that records its abort (all an attempt registry touches). */
const controller = () => {
  const c = { aborted: undefined as MeshError | undefined, abort: (e: MeshError) => (c.aborted = e) };
  return c;
};
const asController = (c: ReturnType<typeof controller>) => c as unknown as Dispatcher.DispatchController;

test('a forced drain aborts the attempts on its nodes, and later ones as they start', () => {
  const attempts = createNodeAttempts();
  const [a1, a2, b1] = [controller(), controller(), controller()];
  attempts.add('a', asController(a1));
  const release = attempts.add('a', asController(a2));
  attempts.add('b', asController(b1));
  release();
  assert.equal(attempts.count('a'), 1);
  attempts.forceDrain(new Set(['a']));
  assert.equal(a1.aborted?.code, 'unavailable');
  assert.match(a1.aborted?.message ?? '', /node a was drained with force/);
  assert.equal(a2.aborted, undefined, 'an attempt that had ended is left alone');
  assert.equal(b1.aborted, undefined);
  const late = controller();
  attempts.add('a', asController(late));
  assert.equal(late.aborted?.code, 'unavailable');
  attempts.forceDrain(new Set());
  const after = controller();
  attempts.add('a', asController(after));
  assert.equal(after.aborted, undefined, 'the drain was lifted');
});
