/**
 * A copy of the code a `--mode real` run starts its processes from. The working tree may change
 * while a run of several minutes goes on (other people edit it); with a snapshot taken at the
 * start, every strategy is measured against the same router and simulator code, and a half-saved
 * edit elsewhere cannot stop the run halfway.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const repo = new URL('../../', import.meta.url).pathname;

/** Short HEAD commit and whether src/ differs from it, for the report. */
export function describeCode(): string {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim();
  try {
    // A copy without its own .git (a `git archive`) must not report whatever repository encloses it.
    if (git('rev-parse', '--show-toplevel') !== repo.replace(/\/$/, '')) return 'not a git checkout';
    const dirty = git('status', '--porcelain', '--', 'src', 'bench/routing', 'bench/lib') !== '';
    return `HEAD ${git('rev-parse', '--short', 'HEAD')}${dirty ? ' + uncommitted changes in src/ or bench/' : ''}, copied at the start of the run`;
  } catch {
    return 'not a git checkout';
  }
}

/** What a process needs to run from the copy: sources, bins, this folder and its helpers, package metadata. */
const COPIED = ['src', 'bin', 'bench/routing', 'bench/lib', 'package.json', 'tsconfig.json'];

export interface CodeSnapshot {
  /** Root of the copy; spawn bins with it as the working directory. */
  root: string;
  remove(): void;
}

/** Copies the code into a temporary directory, removed by `remove()` or when the process exits. */
export function snapshotCode(): CodeSnapshot {
  const root = mkdtempSync(join(tmpdir(), 'bench-routing-real-'));
  for (const path of COPIED) cpSync(join(repo, path), join(root, path), { recursive: true });
  symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'), 'dir');
  const remove = () => rmSync(root, { recursive: true, force: true });
  process.once('exit', remove); // also after SIGINT, whose handler exits the process
  return { root, remove };
}
