/** CPU time and memory of a process, read from Linux's /proc (the benchmark runs on Linux only). */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcUsage {
  /** utime + stime, in seconds. */
  cpuSeconds: number;
  /** VmHWM: the peak resident set size so far, in MiB. */
  peakRssMb: number;
  /** VmRSS now, in MiB. */
  rssMb: number;
}

let ticksPerSecond: number | undefined;

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

/** The whole machine's CPU from /proc/stat: busy and all core-seconds so far (every process, ours or not). */
export function readMachineCpu(): { busy: number; all: number } | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already in user)
    const [user, nice, system, idle, iowait, irq, softirq, steal] = fields;
    const busy = user + nice + system + irq + softirq + (steal ?? 0);
    return { busy: busy / clockTicks(), all: (busy + idle + iowait) / clockTicks() };
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds of a process and all its descendants, with the children it has reaped (PostgreSQL's
 * postmaster forks a backend per connection): each CPU second counts once, whether its process still
 * runs or was reaped. Undefined when the process is gone.
 */
export function readTreeCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  const children = new Map<number, number[]>();
  const own = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields[1] is the parent (field 4); utime, stime, cutime, cstime are fields 14–17.
      const parent = Number(fields[1]);
      own.set(
        Number(entry),
        fields.slice(11, 15).reduce((sum, f) => sum + Number(f), 0),
      );
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // gone in between
    }
  }
  if (!own.has(pid)) return undefined;
  let ticks = 0;
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.pop() as number;
    ticks += own.get(next) ?? 0;
    queue.push(...(children.get(next) ?? []));
  }
  return ticks / clockTicks();
}

/** Undefined when the process is gone. */
export function readProcUsage(pid: number | undefined): ProcUsage | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: split after its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    const ticks = Number(fields[11]) + Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1] ?? 0);
    return {
      cpuSeconds: ticks / clockTicks(),
      peakRssMb: kib('VmHWM') / 1024,
      rssMb: kib('VmRSS') / 1024,
    };
  } catch {
    return undefined;
  }
}
