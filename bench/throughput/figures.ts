/** The figures computed from a throughput result: ratios between systems, the targets, CPU per request. */
import { ms } from './format';
import type { SystemId } from './scenarios';
import type { BenchReport, ProcessReport, RatioRow, RunReport, TargetResult } from './types';

export const burstScenarios = (report: BenchReport) => report.scenarios.filter((s) => s.mode === 'burst');

export function findRun(report: BenchReport, scenario: string, system: SystemId): RunReport | undefined {
  return report.runs.find((r) => r.scenario === scenario && r.system === system);
}

export function rawCeiling(report: BenchReport): RunReport | undefined {
  return report.runs.find((r) => r.system === 'raw' && r.mode === 'start');
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
      vsRaw: scenario.latencyMs === 0 ? ratio(ours, rawCeiling(report)?.deliveredPerSec) : undefined,
      vsCapacity: ratio(ours, capacityRate),
    };
  });
}

/** Adds one target's result: `value` against `limit`, at least or at most. */
type Check = (
  name: string,
  target: string,
  value: number | undefined,
  limit: number | undefined,
  atLeast: boolean,
  format: (v: number) => string,
  note?: string,
) => void;

const times = (v: number) => `${v.toFixed(2)}×`;

export function evaluateTargets(report: BenchReport, fullN: number): TargetResult[] {
  const targets: TargetResult[] = [];
  const check: Check = (name, target, value, limit, atLeast, format, note) =>
    targets.push({
      name,
      target,
      measured: value === undefined ? 'n/a' : format(value),
      pass:
        value === undefined || limit === undefined ? undefined : atLeast ? value >= limit : value <= limit,
      note,
    });
  throughputTargets(report, fullN, check);
  pacedTargets(report, check);
  apiTargets(report, check);
  memoryTargets(report, check);
  return targets;
}

/** Burst runs: ours against C/L and the seed-style worker (L > 0), raw ceiling and plain consumer (L = 0). */
function throughputTargets(report: BenchReport, fullN: number, check: Check): void {
  const nNote = (run?: RunReport) =>
    run && run.requested < fullN ? `${run.requested} requests (target defined for ${fullN})` : undefined;
  for (const scenario of burstScenarios(report)) {
    const ours = findRun(report, scenario.id, 'ours');
    const oursRate = ours?.complete ? ours.deliveredPerSec : undefined;
    if (scenario.latencyMs > 0) {
      const capacityRate = scenario.capacity / (scenario.latencyMs / 1000);
      check(
        `${scenario.id}: delivered/s vs C/L`,
        `≥ 0.95 × C/L (${(0.95 * capacityRate).toFixed(1)}/s)`,
        oursRate === undefined ? undefined : oursRate / capacityRate,
        0.95,
        true,
        (v) => `${times(v)} (${oursRate?.toFixed(1)}/s)`,
        nNote(ours),
      );
      const seed = findRun(report, scenario.id, 'seed');
      check(
        `${scenario.id}: vs seed-style worker`,
        '≥ 100 × seed-style',
        ratio(oursRate, seed?.deliveredPerSec),
        100,
        true,
        times,
        seed ? `seed-style on ${seed.requested} messages` : undefined,
      );
    } else {
      const raw = rawCeiling(report);
      check(
        `${scenario.id}: vs raw Temporal ceiling`,
        '≥ 0.8 × raw ceiling',
        ratio(oursRate, raw?.deliveredPerSec),
        0.8,
        true,
        times,
        nNote(ours),
      );
      check(
        `${scenario.id}: vs plain consumer`,
        '≥ 0.5 × plain consumer',
        ratio(oursRate, findRun(report, scenario.id, 'plain')?.deliveredPerSec),
        0.5,
        true,
        times,
        nNote(ours),
      );
    }
  }
}

/** Ours' paced runs: the orchestration overhead, next to the no-op workflow's time at the same rate. */
function pacedTargets(report: BenchReport, check: Check): void {
  for (const run of report.runs.filter((r) => r.mode === 'paced' && r.system === 'ours')) {
    const raw = report.runs.find(
      (r) => r.mode === 'paced' && r.system === 'raw' && r.scenario === run.scenario,
    );
    // The no-op workflow's whole time from start call to third activity, at the same rate.
    const floor = (q: 'p50' | 'p99') =>
      raw ? `; no-op workflow (raw) at that rate: ${ms(raw.e2eMs[q])}` : '';
    const rate = `at ${run.offeredRatePerSec?.toFixed(1)}/s`;
    check(`${run.scenario}: overhead p50`, '≤ 40 ms', run.overheadMs.p50, 40, false, ms, rate + floor('p50'));
    check(
      `${run.scenario}: overhead p99`,
      '≤ 250 ms',
      run.overheadMs.p99,
      250,
      false,
      ms,
      rate + floor('p99'),
    );
  }
}

function apiTargets(report: BenchReport, check: Check): void {
  if (!report.api) return;
  check(
    'API overhead over raw SendMessage (p99)',
    '≤ 5 ms',
    report.api.overheadP99Ms,
    5,
    false,
    ms,
    `at ${report.api.offeredRatePerSec} req/s; API p99 ${ms(report.api.api.latencyMs.p99)}, SendMessage p99 ` +
      `${ms(report.api.rawSendMessage.latencyMs.p99)}` +
      ((report.api.overheadP99Ms ?? 0) < 0
        ? '; raw SendMessage has the longer tail: noise of the shared machine decides this p99, not the API'
        : ''),
  );
  check(
    'API overhead over raw SendMessage (p50)',
    'for reference',
    report.api.overheadP50Ms,
    undefined,
    false,
    ms,
    `API p50 ${ms(report.api.api.latencyMs.p50)}, SendMessage p50 ${ms(report.api.rawSendMessage.latencyMs.p50)}`,
  );
}

const MB_LIMITS: Array<[process: string, label: string, limitMb: number]> = [
  ['ours-worker', 'worker', 300],
  ['ours-bridge', 'bridge', 150],
  ['api', 'API', 150],
];

/** The highest peak RSS of each of our processes over all runs. */
function memoryTargets(report: BenchReport, check: Check): void {
  for (const [process, label, limit] of MB_LIMITS) {
    const reports = [...report.runs.map((r) => r.processes), report.api?.processes ?? {}]
      .map((p) => p[process])
      .filter((p): p is ProcessReport => p?.peakRssMb !== undefined);
    const worst = reports.reduce<ProcessReport | undefined>(
      (a, p) => (a === undefined || (p.peakRssMb ?? 0) > (a.peakRssMb ?? 0) ? p : a),
      undefined,
    );
    check(
      `peak RSS ${label}`,
      `≤ ${limit} MB`,
      worst?.peakRssMb,
      limit,
      false,
      (v) => `${v.toFixed(0)} MB`,
      worst
        ? `max over ${reports.length} runs` +
            (worst.startRssMb === undefined
              ? ''
              : `; that run's RSS before the load: ${worst.startRssMb.toFixed(0)} MB`)
        : undefined,
    );
  }
}

/** CPU ms per delivered request in the measured window, by part. */
export function cpuPerRequest(run: RunReport): {
  own?: number;
  temporal?: number;
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
    elasticmq: perRequest(shared.elasticmq),
    total: perRequest(own + (shared.temporal ?? 0) + (shared.elasticmq ?? 0) + (shared.simulator ?? 0)),
  };
}
