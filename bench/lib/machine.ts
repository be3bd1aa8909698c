/** What every benchmark report records: the machine, the tools' versions, the date and the command. */
import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { allowedCores, formatCores } from './cores.ts';

export interface Machine {
  cpu: string;
  /** Logical cores of the machine, and the ones this process may use. */
  cores: number;
  allowedCores: string;
  memoryGiB: number;
  /** Hyperthread sibling groups among the usable cores (`0,8 1,9 …`); one core per group means no SMT. */
  siblings: string;
  kernel: string;
  node: string;
  /** Tool name → version line, or "not found". */
  tools: Record<string, string>;
}

/** First line of a command's output (`nginx -v` and `wrk -v` print to stderr; wrk then exits 1). */
function versionOf(command: string, args: string[]): string {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  if (r.error) return 'not found';
  return `${r.stdout}${r.stderr}`.trim().split('\n')[0]!.trim() || 'unknown';
}

export function describeMachine(tools: Record<string, [string, string[]]>): Machine {
  const kernel = versionOf('uname', ['-r']);
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    allowedCores: formatCores(allowedCores()),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    siblings: siblingGroups(),
    kernel,
    node: process.version,
    tools: Object.fromEntries(
      Object.entries(tools).map(([name, [cmd, args]]) => [name, versionOf(cmd, args)]),
    ),
  };
}

function siblingGroups(): string {
  const groups = new Set<string>();
  for (const core of allowedCores()) {
    try {
      const path = `/sys/devices/system/cpu/cpu${core}/topology/thread_siblings_list`;
      groups.add(readFileSync(path, 'utf8').trim());
    } catch {
      return 'unknown';
    }
  }
  return [...groups].join(' ');
}

/** The command line that ran this benchmark, as it could be typed again from the repo root. */
export function commandLine(): string {
  const script = relative(process.cwd(), process.argv[1] ?? '');
  return ['node', script, ...process.argv.slice(2)].join(' ');
}

/** One Markdown line for the machine. */
export function machineLine(m: Machine): string {
  const tools = Object.entries(m.tools)
    .map(([name, v]) => `${name}: ${v}`)
    .join('; ');
  return (
    `${m.cpu}, ${m.cores} logical cores (this run may use ${m.allowedCores}; SMT sibling groups: ${m.siblings}), ` +
    `${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}; ${tools}`
  );
}
