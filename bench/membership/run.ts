/**
 * One seed of the membership benchmark, in its own process (main.ts forks it): a cluster of
 * `members` on the in-memory network and the virtual clock, every random choice from the seed.
 * 1. setup: everyone joins through one of five seed members; run until all see all alive;
 * 2. bandwidth at 0% loss over a quiet minute;
 * 3. false positives at 5% loss over `minutes` simulated minutes (no member fails: every `dead` is
 *    false), with the bandwidth of that window;
 * 4. failure detection at 0%, 1% and 5% loss: one random member is killed (nothing in or out) and
 *    the clock runs until 99% of the live members hold it dead (at most 3 minutes).
 * Answers with one `SeedResult` over IPC (or prints it as JSON without a parent).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { createSeededRandom } from '../../src/membership/random.ts';
import { createSimCluster, type SimCluster } from '../../src/membership/testing/sim-cluster.ts';
import type { SwimConfig } from '../../src/membership/config.ts';
import type { TrafficStats } from '../../src/membership/testing/memory-transport.ts';

export interface RunSettings {
  members: number;
  minutes: number;
  losses: number[];
  /** Members killed, one after the other, at each loss. */
  kills: number;
  /** One-way delay and jitter of the simulated LAN (ms). */
  delayMs: number;
  jitterMs: number;
  config: Partial<SwimConfig>;
}

export interface Detection {
  loss: number;
  victim: string;
  /** Live observers (everyone but the victim and earlier victims). */
  observers: number;
  /** From the kill (ms): first suspicion, first dead verdict, 99% suspecting or holding it dead, 99% and 100% holding it dead. */
  firstSuspectMs: number | null;
  firstDeadMs: number | null;
  know99Ms: number | null;
  dead99Ms: number | null;
  dead100Ms: number | null;
  /** Spread of the dead verdict: 99% dead − first dead (ms). */
  spread99Ms: number | null;
  /** Live members other than the victim declared dead during this phase. */
  falseDeaths: number;
}

export interface Bandwidth {
  loss: number;
  seconds: number;
  /** Per member per second. */
  udpBytes: number;
  udpPackets: number;
  reliableBytes: number;
  reliableMessages: number;
}

export interface SeedResult {
  seed: number;
  members: number;
  setup: { convergedAtMs: number; drainedAtMs: number; wallMs: number };
  bandwidth: Bandwidth[];
  falsePositives: {
    loss: number;
    minutes: number;
    deaths: number;
    /** Distinct live members anyone declared dead. */
    membersDeclaredDead: number;
    /** Suspect events (each observer's, counted apart). */
    suspicions: number;
    /** Distinct suspicions raised (member and incarnation). */
    suspected: number;
    refutations: number;
    failedProbes: number;
    probes: number;
  };
  detections: Detection[];
  wallMs: number;
}

function trafficDelta(
  c: SimCluster,
  before: TrafficStats,
  loss: number,
  seconds: number,
  n: number,
): Bandwidth {
  const t = c.network.total();
  const per = (k: keyof TrafficStats) => (t[k] - before[k]) / n / seconds;
  return {
    loss,
    seconds,
    udpBytes: per('bytesSent'),
    udpPackets: per('packetsSent'),
    reliableBytes: per('reliableBytesSent'),
    reliableMessages: per('reliableSent'),
  };
}

export async function runSeed(seed: number, s: RunSettings): Promise<SeedResult> {
  const wall0 = performance.now();
  const c = createSimCluster({
    seed,
    network: { delayMs: s.delayMs, jitterMs: s.jitterMs, tcpLossDelays: true },
    config: s.config,
  });
  const rng = createSeededRandom(seed * 31 + 7);
  const ids = Array.from({ length: s.members }, (_, i) => `node-${String(i).padStart(4, '0')}`);
  for (const id of ids) c.add(id);
  const seeds = ids.slice(0, 5);
  for (const [i, id] of ids.entries()) {
    if (i === 0) continue;
    const earlier = seeds.slice(0, Math.min(i, seeds.length)); // a seed that joined before
    await c.join(id, [earlier[Math.floor(rng() * earlier.length)]!]);
  }
  // Converged: every member sees every other alive.
  const convergedAt = c.runUntil(
    () =>
      [...c.members.values()].every((m) => {
        const view = m.members();
        return view.length === s.members && view.every((x) => x.status === 'alive');
      }),
    600_000,
    2_000,
  );
  if (convergedAt === undefined) {
    const lacking = [...c.members.values()].filter((m) => m.members().length < s.members).map((m) => m.id);
    const notAlive = [...c.members.values()].flatMap((m) =>
      m
        .members()
        .filter((x) => x.status !== 'alive')
        .map((x) => `${m.id}:${x.id}:${x.status}`),
    );
    throw new Error(
      `seed ${seed}: no convergence; short views ${lacking.slice(0, 5).join()}; ${notAlive.slice(0, 5).join()}`,
    );
  }
  const convergedAtMs = c.clock.now();
  // Let the join gossip drain: until a 10 s slice sends under 2.5 datagrams per member per
  // second (a quiet member sends 2: its ping and the ack of the one probing it), 5 minutes at most.
  for (let t = 0; t < 300_000; t += 10_000) {
    const sent = c.network.total().packetsSent;
    c.run(10_000);
    if ((c.network.total().packetsSent - sent) / s.members / 10 < 2.5) break;
  }
  c.events.length = 0;
  const setup = { convergedAtMs, drainedAtMs: c.clock.now(), wallMs: performance.now() - wall0 };
  const stat = () => [...c.members.values()].map((m) => m.stats());

  // Bandwidth at 0% loss, a quiet minute.
  const bandwidth: Bandwidth[] = [];
  let before = c.network.total();
  c.run(60_000);
  bandwidth.push(trafficDelta(c, before, 0, 60, s.members));

  // False positives at 5% loss.
  const fpLoss = 0.05;
  c.network.setLoss(fpLoss);
  before = c.network.total();
  const stats0 = stat();
  const from = c.events.length;
  for (let t = 0; t < s.minutes * 60; t += 10) c.run(10_000);
  bandwidth.push(trafficDelta(c, before, fpLoss, s.minutes * 60, s.members));
  const fpEvents = c.events.slice(from);
  const deaths = fpEvents.filter((e) => e.event.type === 'dead');
  const statsDelta = (k: 'refutations' | 'failedProbes' | 'probes') =>
    stat().reduce((a, x, i) => a + x[k] - stats0[i]![k], 0);
  const falsePositives = {
    loss: fpLoss,
    minutes: s.minutes,
    deaths: deaths.length,
    membersDeclaredDead: new Set(deaths.map((e) => e.event.member.id)).size,
    suspicions: fpEvents.filter((e) => e.event.type === 'suspect').length,
    suspected: new Set(
      fpEvents
        .filter((e) => e.event.type === 'suspect')
        .map((e) => `${e.event.member.id}@${e.event.member.incarnation}`),
    ).size,
    refutations: statsDelta('refutations'),
    failedProbes: statsDelta('failedProbes'),
    probes: statsDelta('probes'),
  };
  c.events.length = 0;

  // Failure detection.
  const detections: Detection[] = [];
  const down = new Set<string>();
  for (const loss of s.losses.flatMap((l) => Array<number>(s.kills).fill(l))) {
    c.network.setLoss(loss);
    c.run(20_000);
    const candidates = ids.slice(5).filter((id) => !down.has(id));
    const victim = candidates[Math.floor(rng() * candidates.length)]!;
    const observers = ids.filter((id) => id !== victim && !down.has(id));
    const need = Math.ceil(0.99 * observers.length);
    const t0 = c.clock.now();
    const mark = c.events.length;
    // Killed: nothing in or out, and its own timers stop (connections to it are refused).
    c.network.setDown(c.addressOf(victim), true);
    c.members.get(victim)!.close();
    down.add(victim);
    const know = new Map<string, number>();
    const dead = new Map<string, number>();
    let firstSuspect: number | null = null;
    let firstDead: number | null = null;
    let falseDeaths = 0;
    let seen = mark;
    const scan = () => {
      for (; seen < c.events.length; seen++) {
        const e = c.events[seen]!;
        // A killed member's own timers still run: what it concludes, cut off, does not count.
        if (down.has(e.observer)) continue;
        if (e.event.member.id !== victim) {
          if (e.event.type === 'dead' && !down.has(e.event.member.id)) falseDeaths++;
          continue;
        }
        const at = e.at - t0;
        if (e.event.type === 'suspect' || e.event.type === 'dead') {
          firstSuspect ??= at;
          if (!know.has(e.observer)) know.set(e.observer, at);
        }
        if (e.event.type === 'dead') {
          firstDead ??= at;
          if (!dead.has(e.observer)) dead.set(e.observer, at);
        }
      }
    };
    c.runUntil(
      () => {
        scan();
        return dead.size >= need;
      },
      180_000,
      100,
    );
    const nth = (m: Map<string, number>, k: number) => {
      const v = [...m.values()].sort((a, b) => a - b);
      return v.length >= k ? v[k - 1]! : null;
    };
    // Run on until everyone holds it dead (or 60 s more), then let the news settle.
    c.runUntil(
      () => {
        scan();
        return dead.size >= observers.length;
      },
      60_000,
      100,
    );
    scan();
    const dead99 = nth(dead, need);
    detections.push({
      loss,
      victim,
      observers: observers.length,
      firstSuspectMs: firstSuspect,
      firstDeadMs: firstDead,
      know99Ms: nth(know, need),
      dead99Ms: dead99,
      dead100Ms: nth(dead, observers.length),
      spread99Ms: dead99 !== null && firstDead !== null ? dead99 - firstDead : null,
      falseDeaths,
    });
    c.run(30_000);
    c.events.length = 0;
  }

  return {
    seed,
    members: s.members,
    setup,
    bandwidth,
    falsePositives,
    detections,
    wallMs: performance.now() - wall0,
  };
}

/**
 * A seed's result is kept in the temp directory under a hash of (seed, settings, membership code):
 * a run interrupted or a seed started by hand ahead of time (`node bench/membership/run.ts --seed 3
 * --settings …`) is picked up, not recomputed. The run is deterministic, so the result is the same.
 */
function cachePaths(seed: number, settings: string): { result: string; lock: string } {
  const h = createHash('sha256').update(`${seed}\0${settings}`);
  const root = new URL('../../', import.meta.url).pathname;
  for (const dir of ['src/membership', 'src/membership/testing'])
    for (const f of readdirSync(join(root, dir)).sort())
      if (f.endsWith('.ts') && !f.endsWith('.test.ts')) h.update(readFileSync(join(root, dir, f)));
  h.update(readFileSync(new URL(import.meta.url).pathname));
  const base = join(tmpdir(), 'infermesh-bench-membership', `seed-${seed}-${h.digest('hex').slice(0, 16)}`);
  return { result: `${base}.json`, lock: `${base}.lock` };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function cachedRun(seed: number, settings: string): Promise<SeedResult> {
  const { result, lock } = cachePaths(seed, settings);
  mkdirSync(dirname(result), { recursive: true });
  // Another process is on this very seed: wait for its answer (bounded: 2 hours).
  for (let i = 0; i < 1440 && existsSync(lock) && alive(Number(readFileSync(lock, 'utf8'))); i++)
    await new Promise((r) => setTimeout(r, 5_000));
  if (existsSync(result)) return JSON.parse(readFileSync(result, 'utf8')) as SeedResult;
  writeFileSync(lock, String(process.pid));
  try {
    const r = await runSeed(seed, JSON.parse(settings) as RunSettings);
    writeFileSync(result, JSON.stringify(r));
    return r;
  } finally {
    rmSync(lock, { force: true });
  }
}

// As a child of main.ts: one seed, answered over IPC.
if (import.meta.main) {
  const { values } = parseArgs({ options: { seed: { type: 'string' }, settings: { type: 'string' } } });
  const result = await cachedRun(Number(values.seed), values.settings ?? '{}');
  if (process.send) process.send(result);
  else console.log(JSON.stringify(result, null, 2));
}
