/**
 * A source that runs a command once per reading (rocm-smi, `nvidia-smi -q -x`): bounded by a
 * timeout, its output handed to a parser. A missing binary or a failing run is a MeshError
 * (`unavailable`) with the command's own words, never a crash.
 */
import { execFile } from 'node:child_process';
import { MeshError } from '../../core/errors.ts';

/** Runs `command args…` and resolves its stdout; rejects with `unavailable` on any failure. */
export function runCommand(command: string, args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const code = (err as NodeJS.ErrnoException).code;
        const why =
          code === 'ENOENT'
            ? `${command} is not on PATH`
            : err.killed
              ? `${command} did not finish within ${timeoutMs} ms`
              : `${command} failed: ${(stderr || stdout || err.message).trim().split('\n')[0]}`;
        reject(new MeshError('unavailable', why, { command }));
      },
    );
  });
}
