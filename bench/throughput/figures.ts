/** The figures computed from a throughput result: ratios between systems, CPU per request. */
import { SYSTEM_LABELS, type SystemId } from './scenarios';
import type { BenchReport, RatioRow, RunReport } from './types';

export const burstScenarios = (report: BenchReport) => report.scenarios.filter((s) => s.mode === 'burst');

export function findRun(report: BenchReport, scenario: string, system: SystemId): RunReport | undefined {
  return report.runs.find((r) => r.scenario === scenario && r.system === system);
}

export function rawCeiling(report: BenchReport): RunReport | undefined {
  return report.runs.find((r) => r.system === 'raw' && r.mode === 'start');
}

/** A run's system as the tables name it: the raw design's held runs apart from its ceiling. */
export function runLabel(run: RunReport): string {
  return run.system === 'raw' && run.mode === 'burst' ? 'raw Temporal, held' : SYSTEM_LABELS[run.system];
}

/** The raw design's run next to a burst scenario: the ceiling at L = 0, its held run at L > 0 (if any). */
export function rawRunFor(
  report: BenchReport,
  scenario: { id: string; latencyMs: number },
): RunReport | undefined {
  return scenario.latencyMs === 0 ? rawCeiling(report) : findRun(report, scenario.id, 'raw');
}

const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined && b > 0 ? a / b : undefined);

export function computeRatios(report: BenchReport): RatioRow[] {
  return burstScenarios(report).map((scenario) => {
    const ours = findRun(report, scenario.id, 'ours')?.deliveredPerSec;
    const capacityRate = scenario.latencyMs > 0 ? scenario.capacity / (scenario.latencyMs / 1000) : undefined;
    return {
      scenario: scenario.id,
      oursPerSec: ours,
      vsSeed: ratio(ours, findRun(report, scenario.id, 'seed')?.deliveredPerSec),
      vsPlain: ratio(ours, findRun(report, scenario.id, 'plain')?.deliveredPerSec),
      // At L > 0 the raw design with the same L and C (its held run), where the suite has one.
      vsRaw: ratio(ours, rawRunFor(report, scenario)?.deliveredPerSec),
      vsCapacity: ratio(ours, capacityRate),
    };
  });
}

/** CPU ms per delivered request in the measured window, by part. */
export function cpuPerRequest(run: RunReport): {
  own?: number;
  temporal?: number;
  postgres?: number;
  elasticmq?: number;
  total?: number;
} {
  if (run.delivered === 0) return {};
  const perRequest = (seconds: number | undefined) =>
    seconds === undefined ? undefined : (seconds * 1000) / run.delivered;
  const own = Object.values(run.processes).reduce((sum, p) => sum + (p.cpuSecondsDuringRun ?? 0), 0);
  const shared = run.sharedCpuSecondsDuringRun;
  return {
    own: perRequest(own),
    temporal: perRequest(shared.temporal),
    postgres: perRequest(shared.postgres),
    elasticmq: perRequest(shared.elasticmq),
    total: perRequest(
      own +
        (shared.temporal ?? 0) +
        (shared.postgres ?? 0) +
        (shared.elasticmq ?? 0) +
        (shared.simulator ?? 0),
    ),
  };
}

/** One part of a run's CPU per delivered request: a process of the system, or a shared one. */
export interface CpuPart {
  label: string;
  /** Ours' process, and the raw ceiling's that does the same job (or the shared process for both). */
  ours: string;
  raw: string;
  /** What ours does there that the raw ceiling does not. */
  extra: string;
}

/** Ours' processes next to the raw ceiling's, then the shared ones (the CPU table's parts, split). */
export const CPU_PARTS: CpuPart[] = [
  {
    label: 'worker',
    ours: 'ours-worker',
    raw: 'raw-worker',
    extra: 'two HTTP activities (vLLM, callback) against no-ops, and the workflow code',
  },
  {
    label: 'bridge / starter',
    ours: 'ours-bridge',
    raw: 'raw-starter',
    extra: 'SQS receive and delete, and the admission bound, around the same start calls',
  },
  {
    label: 'Temporal server',
    ours: 'temporal',
    raw: 'temporal',
    extra: 'the search attributes each run upserts (stage, tokens) and their visibility writes',
  },
  {
    label: 'PostgreSQL (cluster engine)',
    ours: 'postgres',
    raw: 'postgres',
    extra: "the Temporal server's writes, on disk (none on the dev server)",
  },
  { label: 'ElasticMQ', ours: 'elasticmq', raw: 'elasticmq', extra: 'the queue (none for the raw ceiling)' },
  { label: 'vLLM simulator', ours: 'simulator', raw: 'simulator', extra: 'the generate calls' },
  {
    label: 'harness',
    ours: 'harness',
    raw: 'harness',
    extra: "the BE's side: SendMessage of each request, the callback received",
  },
];

/** CPU ms per delivered request of one process of the run (own or shared), undefined when not measured. */
export function cpuMsPerRequest(run: RunReport, name: string): number | undefined {
  if (run.delivered === 0) return undefined;
  const seconds = run.processes[name]?.cpuSecondsDuringRun ?? run.sharedCpuSecondsDuringRun[name];
  return seconds === undefined ? undefined : (seconds * 1000) / run.delivered;
}

export interface CpuDistance {
  scenario: string;
  /** Per CPU_PARTS entry: ours, the raw ceiling, and ours minus raw. */
  parts: Array<{ ours?: number; raw?: number; extra?: number }>;
  oursAll?: number;
  rawAll?: number;
  /** Cores the run's processes used on average (all × delivered/s), ours and the raw ceiling's. */
  oursCores?: number;
  rawCores?: number;
  /** Cores other processes of the machine used in the window (/proc/stat busy minus the run's processes). */
  oursOtherCores?: number;
  rawOtherCores?: number;
  /**
   * The ratio the CPU predicts on equally busy cores (raw's all / ours' all), the share of cores ours got
   * against the raw ceiling (oursCores / rawCores), and the measured ratio: their product.
   */
  predicted?: number;
  coresRatio?: number;
  measured?: number;
}

/** Cores the run's processes used on average: CPU ms per request × requests per second. */
const coresUsed = (all?: number, run?: RunReport) =>
  all === undefined || run?.deliveredPerSec === undefined ? undefined : (all * run.deliveredPerSec) / 1000;

/** Cores used in the run's window by processes that are not the run's (other users' tests, the system). */
export function otherCores(run: RunReport, cpus: number): number | undefined {
  const own = Object.values(run.processes).reduce((sum, p) => sum + (p.cpuSecondsDuringRun ?? 0), 0);
  const shared = Object.values(run.sharedCpuSecondsDuringRun).reduce((sum, v) => sum + v, 0);
  return coresBeyond(run.machineCpu, own + shared, cpus);
}

/** Cores the machine was busy in a window beyond `measuredSeconds` of CPU (the processes we measure). */
export function coresBeyond(
  machine: RunReport['machineCpu'],
  measuredSeconds: number | undefined,
  cpus: number,
): number | undefined {
  if (!machine || machine.allSeconds <= 0 || measuredSeconds === undefined) return undefined;
  return Math.max(0, machine.busySeconds - measuredSeconds) / (machine.allSeconds / cpus);
}

/** For each L = 0 burst scenario: ours' CPU per request by process against the raw ceiling's. */
export function cpuDistance(report: BenchReport): CpuDistance[] {
  const raw = rawCeiling(report);
  if (!raw) return [];
  const sum = (values: Array<number | undefined>) =>
    values.every((v) => v === undefined) ? undefined : values.reduce<number>((a, v) => a + (v ?? 0), 0);
  return burstScenarios(report)
    .filter((s) => s.latencyMs === 0)
    .flatMap((s): CpuDistance[] => {
      const ours = findRun(report, s.id, 'ours');
      if (!ours) return [];
      const parts = CPU_PARTS.map((part) => {
        const o = cpuMsPerRequest(ours, part.ours);
        const r = cpuMsPerRequest(raw, part.raw);
        return { ours: o, raw: r, extra: o === undefined ? undefined : o - (r ?? 0) };
      });
      const oursAll = sum(parts.map((p) => p.ours));
      const rawAll = sum(parts.map((p) => p.raw));
      const oursCores = coresUsed(oursAll, ours);
      const rawCores = coresUsed(rawAll, raw);
      return [
        {
          scenario: s.id,
          parts,
          oursAll,
          rawAll,
          oursCores,
          rawCores,
          oursOtherCores: otherCores(ours, report.machine.cpus),
          rawOtherCores: otherCores(raw, report.machine.cpus),
          predicted: ratio(rawAll, oursAll),
          coresRatio: ratio(oursCores, rawCores),
          measured: ratio(ours.deliveredPerSec, raw.deliveredPerSec),
        },
      ];
    });
}
