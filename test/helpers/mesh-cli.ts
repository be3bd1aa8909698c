/**
 * `mesh` (bin/mesh.js) as a real process for CLI tests: its exit code and output, killed after
 * `timeoutMs` so no test hangs on it. `MESH_ENDPOINT` is cleared (a developer's shell must not
 * point tests elsewhere) and colour is off; `env` adds or overrides variables.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface MeshRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runMesh(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 15_000): Promise<MeshRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/mesh.js', ...args], {
      cwd: root,
      env: { ...process.env, MESH_ENDPOINT: '', NO_COLOR: '1', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
