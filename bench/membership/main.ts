/**
 * Membership benchmark: a cluster of 1,000 SWIM + Lifeguard members on the in-memory network and
 * the virtual clock, deterministic per seed (run.ts): (a) time until 99% of members know of a
 * killed member at 0%, 1% and 5% datagram loss; (b) false positives over 10 simulated minutes at
 * 5% loss; (c) bytes sent per member per second, UDP and reliable apart. Seeds run in child
 * processes, `--jobs` at a time.
 *
 *   node bench/membership/main.ts [--members 1000] [--seeds 1,2,3] [--minutes 10] [--kills 2] [--jobs 2] [--out DIR]
 *     → DIR/membership.{md,json} (DIR defaults to bench/results; another size writes membership-N.*)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { commandLine, describeMachine } from '../lib/machine.ts';
import { forkUnit, pool } from '../lib/pool.ts';
import { renderReport, summarise, type ReportInput } from './report.ts';
import type { RunSettings, SeedResult } from './run.ts';

const { values } = parseArgs({
  options: {
    members: { type: 'string', default: '1000' },
    seeds: { type: 'string', default: '1,2,3' },
    minutes: { type: 'string', default: '10' },
    kills: { type: 'string', default: '2' },
    jobs: { type: 'string', default: '2' },
    out: { type: 'string', default: 'bench/results' },
    /** Re-renders the Markdown report from a JSON this benchmark wrote, running nothing. */
    render: { type: 'string' },
  },
});
if (values.render) {
  const saved = JSON.parse(readFileSync(values.render, 'utf8')) as Omit<ReportInput, 'summary' | 'jobs'> & {
    jobs?: number;
    results: SeedResult[];
  };
  const summary = summarise(saved.results, saved.settings);
  writeFileSync(
    values.render.replace(/\.json$/, '.md'),
    renderReport({ ...saved, jobs: saved.jobs ?? Number(values.jobs), summary }),
  );
  process.exit(0);
}
const seeds = (values.seeds ?? '1,2,3').split(',').map(Number);
const settings: RunSettings = {
  members: Number(values.members),
  minutes: Number(values.minutes),
  losses: [0, 0.01, 0.05],
  kills: Number(values.kills),
  delayMs: 2,
  jitterMs: 3,
  config: JSON.parse(process.env.MEMBERSHIP_CONFIG ?? '{}') as RunSettings['config'],
};
const jobs = Number(values.jobs);

const started = new Date().toISOString();
let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  const dirty = execFileSync('git', ['status', '--porcelain', 'src/membership', 'bench/membership'], {
    encoding: 'utf8',
  });
  if (dirty.trim() !== '') commit += ' (with uncommitted changes in src/membership, bench/membership)';
} catch {
  // not a checkout
}
const script = new URL('./run.ts', import.meta.url).pathname;
const results = await pool(seeds, jobs, (seed) =>
  forkUnit<SeedResult>(script, ['--seed', String(seed), '--settings', JSON.stringify(settings)]),
);
const summary = summarise(results, settings);
const machine = describeMachine({});
const report = renderReport({
  command: commandLine(),
  date: started,
  commit,
  machine,
  settings,
  seeds,
  jobs,
  summary,
  results,
});
mkdirSync(values.out ?? 'bench/results', { recursive: true });
const base = join(
  values.out ?? 'bench/results',
  settings.members === 1000 ? 'membership' : `membership-${settings.members}`,
);
writeFileSync(`${base}.md`, report);
writeFileSync(
  `${base}.json`,
  `${JSON.stringify({ command: commandLine(), date: started, commit, machine, settings, seeds, jobs, summary, results }, null, 2)}\n`,
);
console.log(report);
