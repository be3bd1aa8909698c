/** Test fixture: meshd as a real child process, with its printed URLs read from stdout. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

const root = new URL('../../', import.meta.url).pathname;

export interface MeshdProcess {
  child: ChildProcess;
  /** URLs meshd printed; empty for a role it does not run. */
  urls: { router: string; api: string; metrics: string };
  output: () => string;
  /** Sends SIGINT and resolves with the exit code (bounded wait). */
  stop(): Promise<number | null>;
}

export async function spawnMeshd(config: object, timeoutMs = 20_000): Promise<MeshdProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'meshd-'));
  const file = join(dir, 'meshd.yaml');
  writeFileSync(file, stringify(config));
  const child = spawn(process.execPath, [join(root, 'bin/meshd.js'), 'start', '--config', file], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + timeoutMs;
  while (!out.includes('Ctrl-C stops it.')) {
    if (child.exitCode !== null) throw new Error(`meshd exited early (${child.exitCode}):\n${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`meshd did not start in ${timeoutMs} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const pick = (label: RegExp) => out.match(label)?.[1] ?? '';
  const urls = {
    router: pick(/router \(OpenAI API\): (http:\/\/\S+)\/v1/),
    api: pick(/control API \(gRPC \+ Connect JSON\): (http:\/\/\S+)/),
    metrics: pick(/metrics: (http:\/\/\S+)\/metrics/),
  };
  return {
    child,
    urls,
    output: () => out,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const [code] = (await once(child, 'exit')) as [number | null];
      clearTimeout(timer);
      return code;
    },
  };
}
