/** What a run measures besides deliveries: CPU and memory of the processes (/proc), latency quantiles. */
import { percentile, sleep } from '../../harness/util';
import { readMachineCpu, readProcUsage, readTreeCpuSeconds } from '../proc';
import type { Context } from './stack';
import type { ProcessReport, Quantiles, RunReport } from './types';

export interface CpuSnapshot {
  harness: number;
  byName: Record<string, number | undefined>;
  rssByName: Record<string, number | undefined>;
  /** The whole machine's busy and all core-seconds (/proc/stat). */
  machine?: { busy: number; all: number };
}

const pidOf = (ctx: Context, name: string) => ctx.started.get(name)?.child?.pid;

/** CPU seconds so far of the shared processes, of `names` and of the harness; RSS of `names`. */
export function snapshotCpu(ctx: Context, names: string[]): CpuSnapshot {
  const byName: Record<string, number | undefined> = {};
  const rssByName: Record<string, number | undefined> = {};
  for (const [name, p] of Object.entries(ctx.shared))
    byName[name] =
      name === 'postgres' ? readTreeCpuSeconds(p.child?.pid) : readProcUsage(p.child?.pid)?.cpuSeconds;
  for (const name of names) {
    const usage = readProcUsage(pidOf(ctx, name));
    byName[name] = usage?.cpuSeconds;
    rssByName[name] = usage?.rssMb;
  }
  const usage = process.cpuUsage();
  return { harness: (usage.user + usage.system) / 1e6, byName, rssByName, machine: readMachineCpu() };
}

/** Core-seconds the whole machine was busy between two snapshots, and the core-seconds there were. */
export function machineCpu(before: CpuSnapshot, after: CpuSnapshot): RunReport['machineCpu'] {
  if (!before.machine || !after.machine) return undefined;
  return {
    busySeconds: after.machine.busy - before.machine.busy,
    allSeconds: after.machine.all - before.machine.all,
  };
}

/** CPU seconds of the harness and the shared processes between two snapshots. */
export function sharedCpu(before: CpuSnapshot, after: CpuSnapshot): Record<string, number> {
  const out: Record<string, number> = { harness: after.harness - before.harness };
  for (const name of ['temporal', 'postgres', 'elasticmq', 'simulator']) {
    const a = after.byName[name];
    const b = before.byName[name];
    if (a !== undefined && b !== undefined) out[name] = a - b;
  }
  return out;
}

/** Reads each process's /proc figures just before it is stopped. */
export function stopReports(
  ctx: Context,
  names: string[],
  before: CpuSnapshot,
  after: CpuSnapshot,
): Record<string, ProcessReport> {
  const out: Record<string, ProcessReport> = {};
  for (const name of names) {
    const pid = pidOf(ctx, name);
    const usage = readProcUsage(pid);
    const a = after.byName[name];
    const b = before.byName[name] ?? 0;
    out[name] = {
      pid,
      cpuSeconds: usage?.cpuSeconds,
      cpuSecondsDuringRun: a === undefined ? undefined : a - b,
      peakRssMb: usage?.peakRssMb,
      startRssMb: before.rssByName[name],
    };
  }
  return out;
}

export function quantiles(values: number[]): Quantiles {
  return {
    p50: percentile(values, 0.5),
    p95: percentile(values, 0.95),
    p99: percentile(values, 0.99),
    max: values.length ? Math.max(...values) : undefined,
  };
}

export async function waitFor(condition: () => boolean, timeoutMs: number, message: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(message);
    await sleep(100);
  }
}
