/**
 * CPU time and memory of benchmark processes, read from /proc: a process together with every
 * descendant (nginx's workers, a shell's children), threads included. "Cores used" is CPU seconds
 * over wall seconds, so 1.0 is one core busy all the time.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`, almost always 100). */
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** `/proc/PID/stat` fields after the command name (which may hold spaces and parentheses). */
function statFields(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined; // gone
  }
}

/** `roots` and all their live descendants. */
export function processTree(roots: readonly number[]): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const ppid = Number(statFields(Number(name))?.[1]);
    if (!Number.isFinite(ppid)) continue;
    const list = children.get(ppid) ?? [];
    list.push(Number(name));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const queue = [...roots];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    if (out.includes(pid)) continue;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** CPU seconds (user + system, all threads) of one process; undefined once it is gone. */
export function cpuSecondsOf(pid: number): number | undefined {
  const f = statFields(pid);
  if (!f) return undefined;
  // After the name: state(0) ppid(1) ... utime(11) stime(12).
  return (Number(f[11]) + Number(f[12])) / clockTicks();
}

/**
 * CPU seconds of each thread of one process, by thread name (V8's helpers are `V8Worker`, Node's
 * worker threads `WorkerThread`, the main thread `MainThread`): threads of one name are summed.
 */
export function threadCpuSeconds(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return byName;
  }
  for (const tid of tids) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
      const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
      byName.set(name, (byName.get(name) ?? 0) + (Number(f[11]) + Number(f[12])) / clockTicks());
    } catch {
      // the thread ended
    }
  }
  return byName;
}

/** Resident memory of one process in bytes (VmRSS); 0 once it is gone. */
export function rssBytesOf(pid: number): number {
  try {
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? 0 : Number(kb) * 1024;
  } catch {
    return 0;
  }
}

export interface CpuReading {
  cpuSeconds: number;
  wallSeconds: number;
  /** cpuSeconds ÷ wallSeconds. */
  cores: number;
}

/**
 * Measures CPU time of `roots` and their descendants from now until `stop()`. Each process counts
 * from the first time it is seen, so a child born mid-run is counted from its first sample; a
 * background sampler (every `intervalMs`) keeps what a process used before it exits.
 */
export function startCpuMeter(roots: readonly number[], intervalMs = 500) {
  const startedAt = performance.now();
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  const sample = () => {
    for (const pid of processTree(roots)) {
      const s = cpuSecondsOf(pid);
      if (s === undefined) continue;
      if (!first.has(pid)) first.set(pid, s);
      last.set(pid, s);
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return {
    stop(): CpuReading {
      sample();
      clearInterval(timer);
      const wallSeconds = (performance.now() - startedAt) / 1000;
      let cpuSeconds = 0;
      for (const [pid, s0] of first) cpuSeconds += (last.get(pid) ?? s0) - s0;
      return { cpuSeconds, wallSeconds, cores: cpuSeconds / wallSeconds };
    },
  };
}

/** Samples the summed RSS of `roots` and their descendants every `intervalMs`; `stop()` gives the peak. */
export function startRssSampler(roots: readonly number[], intervalMs = 250) {
  let peak = 0;
  const sample = () => {
    const total = processTree(roots).reduce((sum, pid) => sum + rssBytesOf(pid), 0);
    peak = Math.max(peak, total);
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return {
    peak: () => peak,
    stop(): number {
      sample();
      clearInterval(timer);
      return peak;
    },
  };
}
