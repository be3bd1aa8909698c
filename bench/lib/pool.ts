/**
 * Independent benchmark units side by side: `pool` runs `fn` over items, `jobs` at a time, and
 * `forkUnit` runs one unit in a child process of this Node (its own event loop and core), which
 * answers with one IPC message before it exits.
 */
import { fork } from 'node:child_process';

export async function pool<T, R>(items: readonly T[], jobs: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, jobs) }, worker));
  return out;
}

/** Runs `script` with `args` as a child; resolves with the message it sent, rejects if it sent none. */
export function forkUnit<R>(script: string, args: string[]): Promise<R> {
  return new Promise((resolve, reject) => {
    const child = fork(script, args, {
      execArgv: process.execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result: { value: R } | undefined;
    child.on('message', (m) => (result = { value: m as R }));
    child.on('error', reject);
    child.on('exit', (code) =>
      result ? resolve(result.value) : reject(new Error(`${script} ${args.join(' ')} exited ${code}`)),
    );
  });
}
