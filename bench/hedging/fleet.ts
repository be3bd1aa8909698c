/**
 * The simulator fleet of `bench/hedging/main.ts`, in its own process (the router's and the load's CPU
 * stay apart from it): `n` H100 simulators on port 0, the first a straggler when asked (its clock
 * `factor`× slow for `slowMs` of every `periodMs`, `src/sim/faults.ts`). Prints one JSON line with
 * the URLs; stops when its parent closes stdin or signals it.
 *
 *   node bench/hedging/fleet.ts '{"n":8,"seed":1,"timeScale":1,"straggler":{"factor":10,...}}'
 */
import { createSimServer, type SimServer } from '../../src/sim/server.ts';
import { createStragglerClock, type StragglerSchedule } from '../../src/sim/faults.ts';
import { stopWithParent } from '../lib/stop-with-parent.ts';

const opts = JSON.parse(process.argv[2] ?? '{}') as {
  n: number;
  seed: number;
  timeScale: number;
  straggler?: StragglerSchedule;
};
const clock = opts.straggler ? createStragglerClock(undefined, opts.straggler) : undefined;
const sims: SimServer[] = [];
for (let i = 0; i < opts.n; i++) {
  sims.push(
    await createSimServer({
      port: 0,
      profile: 'h100',
      seed: opts.seed * 100 + i,
      timeScale: opts.timeScale,
      maxModelLen: 16_384,
      ...(i === 0 && clock ? { clock } : {}),
    }),
  );
}
process.stdout.write(`${JSON.stringify({ urls: sims.map((s) => s.url) })}\n`);

stopWithParent(async () => {
  clock?.stop();
  await Promise.all(sims.map((s) => s.close()));
});
