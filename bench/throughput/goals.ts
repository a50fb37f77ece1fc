/**
 * The ratio table: how close ours comes to this machine's limit, each line a figure of one run against a
 * bound from the same run (the absolute targets of a real deployment: docs/benchmarks.md). Then where
 * ours' CPU per request goes, process by process, next to the raw Temporal ceiling's: the distance of
 * the first lines.
 */
import { burstScenarios, findRun, otherCores, rawCeiling } from './figures';
import { ms, rate } from './format';
import type { BenchReport, GoalResult, RunReport } from './types';

/** The goals' bounds. */
export const GOALS = {
  /** L = 0: ours' delivered/s ≥ this × the raw ceiling's. */
  instantVsRaw: 0.9,
  /** L > 0, C/L near the ceiling: ours ≥ this × min(C/L, raw ceiling). */
  capacityShare: 0.95,
  /** At half ours' highest rate: ours' overhead p50 ≤ the no-op workflow's p50 + this. */
  pacedSlackMs: 15,
  /** Ours' worker peak RSS ≤ this × the raw ceiling worker's, at the same bound on open runs. */
  workerRssFactor: 1.15,
  /** The API's p99 over raw SendMessage's, at apiRate req/s. */
  apiP99Ms: 5,
  apiRate: 100,
  /** Cores other processes may take during a line's runs before the line is not judged. */
  busyCoresLimit: 0.2,
} as const;

/**
 * A line: `value` against `bound`, at least or at most; undefined either way: not evaluated. A line
 * whose runs shared the machine with other processes (more than GOALS.busyCoresLimit cores of theirs,
 * the most of any of its runs, `busyCores`) is not judged: its ratio measures the other load too.
 */
export function goalLine(
  line: Omit<GoalResult, 'measured' | 'pass'>,
  atLeast: boolean,
  format: (v: number) => string,
): GoalResult {
  const { value, bound } = line;
  const busy = line.busyCores !== undefined && line.busyCores > GOALS.busyCoresLimit;
  return {
    ...line,
    measured: value === undefined ? '–' : format(value),
    pass:
      busy || value === undefined || bound === undefined
        ? undefined
        : atLeast
          ? value >= bound
          : value <= bound,
  };
}

/** The most cores other processes took during any of `runs` (undefined: none measured). */
function busyCores(report: BenchReport, runs: Array<RunReport | undefined>): number | undefined {
  const cores = runs.flatMap((r) => {
    const c = r && otherCores(r, report.machine.cpus);
    return c === undefined ? [] : [c];
  });
  return cores.length ? Math.max(...cores) : undefined;
}

const times = (v: number) => `${v.toFixed(2)}×`;
const mb = (v?: number) => (v === undefined ? '–' : `${v.toFixed(0)} MB`);
const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined && b > 0 ? a / b : undefined);
/** delivered/s of a run that delivered every request; a deadline cut would flatter the rate. */
const completeRate = (run?: RunReport) => (run?.complete ? run.deliveredPerSec : undefined);
const perSec = (v?: number) => (v === undefined ? '–' : `${rate(v)}/s`);

export function computeGoals(report: BenchReport): GoalResult[] {
  return [
    ...instantGoals(report),
    ...capacityGoals(report),
    pacedGoal(report),
    workerRssGoal(report),
    ...heldRssGoals(report),
    apiGoal(report),
  ];
}

/** L = 0: ours / raw Temporal ceiling, per queue shape. */
function instantGoals(report: BenchReport): GoalResult[] {
  const rawRun = rawCeiling(report);
  const raw = completeRate(rawRun);
  return burstScenarios(report)
    .filter((s) => s.latencyMs === 0)
    .map((s) => {
      const oursRun = findRun(report, s.id, 'ours');
      const ours = completeRate(oursRun);
      return goalLine(
        {
          id: `${s.id}-vs-raw`,
          busyCores: busyCores(report, [oursRun, rawRun]),
          name: `${s.id}: ours / raw Temporal ceiling`,
          goal: `≥ ${GOALS.instantVsRaw.toFixed(2)}`,
          value: ratio(ours, raw),
          bound: GOALS.instantVsRaw,
          from: `ours ${perSec(ours)}, raw ceiling ${perSec(raw)}`,
        },
        true,
        times,
      );
    });
}

/** L > 0 with C/L near or below the ceiling: ours / min(C/L, raw ceiling). */
function capacityGoals(report: BenchReport): GoalResult[] {
  const rawRun = rawCeiling(report);
  const raw = completeRate(rawRun);
  return burstScenarios(report)
    .filter((s) => s.capacitySweep && s.latencyMs > 0)
    .map((s) => {
      const capacityRate = s.capacity / (s.latencyMs / 1000);
      const limit = raw === undefined ? undefined : Math.min(capacityRate, raw);
      const oursRun = findRun(report, s.id, 'ours');
      const ours = completeRate(oursRun);
      return goalLine(
        {
          id: `${s.id}-vs-limit`,
          busyCores: busyCores(report, [oursRun, rawRun]),
          name: `${s.id}: ours / min(C/L, raw ceiling)`,
          goal: `≥ ${GOALS.capacityShare.toFixed(2)}`,
          value: ratio(ours, limit),
          bound: GOALS.capacityShare,
          from: `ours ${perSec(ours)}; C/L ${perSec(capacityRate)}, raw ceiling ${perSec(raw)}`,
        },
        true,
        times,
      );
    });
}

/** paced-instant: ours' overhead p50 against the no-op workflow's p50 at the same rate, + 15 ms. */
function pacedGoal(report: BenchReport): GoalResult {
  const paced = (system: 'ours' | 'raw') =>
    report.runs.find((r) => r.mode === 'paced' && r.system === system && r.latencyMs === 0);
  const ours = paced('ours');
  const raw = paced('raw');
  const floor = raw?.e2eMs.p50;
  return goalLine(
    {
      id: 'paced-overhead-p50',
      busyCores: busyCores(report, [ours, raw]),
      name: `${ours?.scenario ?? 'paced-instant'}: ours' overhead p50 at half its highest rate`,
      goal: `≤ no-op workflow p50 + ${GOALS.pacedSlackMs} ms`,
      value: ours?.overheadMs.p50,
      bound: floor === undefined ? undefined : floor + GOALS.pacedSlackMs,
      from:
        `at ${perSec(ours?.offeredRatePerSec)}: no-op workflow (start → third activity) p50 ` +
        `${ms(floor)} at ${perSec(raw?.offeredRatePerSec)}, so ≤ ${ms(floor === undefined ? undefined : floor + GOALS.pacedSlackMs)}`,
    },
    false,
    ms,
  );
}

/**
 * Ours' worker peak RSS (the highest of ours' burst runs that filled the bound on open runs) / the raw
 * ceiling worker's, only when both ran under the same bound (older results: the raw starter had none).
 */
function workerRssGoal(report: BenchReport): GoalResult {
  const raw = rawCeiling(report);
  const bound = raw?.maxOpenRuns;
  const rawPeak = raw?.processes['raw-worker']?.peakRssMb;
  const oursRuns = report.runs.filter(
    (r) =>
      r.system === 'ours' &&
      r.mode === 'burst' &&
      bound !== undefined &&
      r.maxOpenRuns === bound &&
      r.requested >= bound &&
      r.processes['ours-worker']?.peakRssMb !== undefined,
  );
  const oursPeak = oursRuns.length
    ? Math.max(...oursRuns.map((r) => r.processes['ours-worker']?.peakRssMb ?? 0))
    : undefined;
  return goalLine(
    {
      id: 'worker-peak-rss',
      busyCores: busyCores(report, [raw, ...oursRuns]),
      name: "ours' worker peak RSS / raw ceiling worker's, same open runs",
      goal: `≤ ${GOALS.workerRssFactor.toFixed(2)}`,
      value: ratio(oursPeak, rawPeak),
      bound: GOALS.workerRssFactor,
      from:
        raw === undefined
          ? 'no raw ceiling run'
          : bound === undefined
            ? `raw ceiling without a bound on open runs (older result): not comparable; raw worker ${mb(rawPeak)}`
            : `ours ${mb(oursPeak)} (highest of ${oursRuns.length} burst runs), raw worker ${mb(rawPeak)} ` +
              `(${raw?.peakOpenRuns ?? '–'} runs open at most); both at most ${bound} runs open`,
    },
    false,
    times,
  );
}

/**
 * The same at L > 0 against the raw design whose runs wait in its worker too (its middle activity takes
 * L, C at a time: `rawHeld` scenarios): the worker memory of as many runs held, where the line above
 * compares ours' waiting runs with raw runs that wait on the server.
 */
function heldRssGoals(report: BenchReport): GoalResult[] {
  return burstScenarios(report)
    .filter((s) => s.rawHeld)
    .map((s) => {
      const oursRun = findRun(report, s.id, 'ours');
      const rawRun = findRun(report, s.id, 'raw');
      const bound = oursRun?.maxOpenRuns;
      // Alike only when both filled the same bound: a short run holds fewer runs than it.
      const alike =
        bound !== undefined &&
        rawRun?.maxOpenRuns === bound &&
        rawRun.peakOpenRuns === bound &&
        oursRun !== undefined &&
        oursRun.requested >= bound;
      const oursPeak = oursRun?.processes['ours-worker']?.peakRssMb;
      const rawPeak = rawRun?.processes['raw-worker']?.peakRssMb;
      return goalLine(
        {
          id: `${s.id}-worker-peak-rss-held`,
          busyCores: busyCores(report, [oursRun, rawRun]),
          name: `${s.id}: ours' worker peak RSS / raw worker's, runs held alike`,
          goal: `≤ ${GOALS.workerRssFactor.toFixed(2)}`,
          value: alike ? ratio(oursPeak, rawPeak) : undefined,
          bound: GOALS.workerRssFactor,
          from:
            `ours ${mb(oursPeak)}, raw worker ${mb(rawPeak)} (no-op workflow whose middle activity takes ` +
            `${ms(s.latencyMs)} on a task queue of its own, ${s.capacity} at a time; ${rawRun?.peakOpenRuns ?? '–'} ` +
            `runs open at most); ` +
            (rawRun === undefined
              ? 'no raw held run'
              : alike
                ? `both at most ${bound} runs open, and both filled it`
                : 'not both filling the same bound on open runs: not compared'),
        },
        false,
        times,
      );
    });
}

/** The API's p99 over raw SendMessage's, both driven the same way at 100 req/s. */
function apiGoal(report: BenchReport): GoalResult {
  const point = report.api?.sweep?.find((p) => p.offeredRatePerSec === GOALS.apiRate);
  const other = [point?.otherCores?.api, point?.otherCores?.rawSendMessage].filter(
    (c): c is number => c !== undefined,
  );
  return goalLine(
    {
      id: 'api-overhead-p99',
      busyCores: other.length ? Math.max(...other) : undefined,
      name: `API over raw SendMessage, p99 at ${GOALS.apiRate} req/s`,
      goal: `≤ ${GOALS.apiP99Ms} ms`,
      value: point?.overheadP99Ms,
      bound: GOALS.apiP99Ms,
      from: point
        ? `API p99 ${ms(point.apiLatencyMs.p99)}, SendMessage p99 ${ms(point.rawLatencyMs.p99)}`
        : `no API run at ${GOALS.apiRate} req/s`,
    },
    false,
    ms,
  );
}
