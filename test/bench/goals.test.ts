import { computeRatios, cpuDistance, otherCores, rawRunFor, runLabel } from '../../bench/throughput/figures';
import { parseArgs } from '../../bench/throughput/options';
import { planRuns } from '../../bench/throughput/plan';
import { computeGoals, GOALS } from '../../bench/throughput/goals';
import { goalsTable } from '../../bench/throughput/markdown';
import { SCENARIOS } from '../../bench/throughput/scenarios';
import type { ApiSweepPoint, BenchReport, GoalResult, RunReport } from '../../bench/throughput/types';
import { benchRun } from './reports';

const run = benchRun;

const raw = (perSec: number, extra: Partial<RunReport> = {}) =>
  run({ scenario: 'raw-ceiling', system: 'raw', mode: 'start', deliveredPerSec: perSec, ...extra });

const sweep = (offeredRatePerSec: number, overheadP99Ms: number): ApiSweepPoint => ({
  offeredRatePerSec,
  apiLatencyMs: { p99: overheadP99Ms + 3 },
  rawLatencyMs: { p99: 3 },
  errors: 0,
  overheadP99Ms,
});

/** A report of the default scenarios; `c8Capacity` changes l1-c8's C. */
function report(runs: RunReport[], apiSweep?: ApiSweepPoint[], c8Capacity?: number): BenchReport {
  return {
    command: 'npm run bench',
    date: '2026-11-29T12:00:00.000Z',
    quick: false,
    options: {},
    machine: { cpus: 2, loadAverageAtStart: [0, 0, 0], node: 'v20' },
    settings: {},
    scenarios: SCENARIOS.map((s) =>
      s.id === 'l1-c8' && c8Capacity !== undefined ? { ...s, capacity: c8Capacity } : s,
    ),
    runs,
    api: apiSweep && {
      offeredRatePerSec: 200,
      durationSeconds: 10,
      api: { count: 0, errors: 0, non2xx: 0, latencyMs: {} },
      rawSendMessage: { count: 0, errors: 0, latencyMs: {} },
      processes: {},
      sharedCpuSeconds: { api: {}, rawSendMessage: {} },
      sweep: apiSweep,
    },
    ratios: [],
  };
}

const goal = (goals: GoalResult[], id: string) => {
  const found = goals.find((g) => g.id === id);
  if (!found) throw new Error(`no goal ${id} in ${goals.map((g) => g.id).join(', ')}`);
  return found;
};

describe('bench/throughput/goals (the ratio table)', () => {
  it('L = 0: ours / raw ceiling passes at 0.90 and fails below', () => {
    const at = (ours: number) =>
      goal(
        computeGoals(
          report([run({ scenario: 'instant-group', system: 'ours', deliveredPerSec: ours }), raw(10)]),
        ),
        'instant-group-vs-raw',
      );
    expect(at(9)).toMatchObject({ value: 0.9, pass: true, measured: '0.90×' });
    expect(at(8.99).pass).toBe(false);
    expect(at(9).bound).toBe(GOALS.instantVsRaw);
  });

  it('does not judge a line whose runs shared the machine with more than 0.2 cores of other processes', () => {
    // 100 s window on 2 cores: busy core-seconds beyond the run's own 30 are other processes'.
    const busy = (otherCoreSeconds: number) => ({
      processes: { 'ours-worker': { cpuSecondsDuringRun: 30 } },
      machineCpu: { busySeconds: 30 + otherCoreSeconds, allSeconds: 200 },
    });
    const line = (oursOther: number, rawOther: number) =>
      goal(
        computeGoals(
          report([
            run({ scenario: 'instant-group', system: 'ours', deliveredPerSec: 9, ...busy(oursOther) }),
            raw(10, busy(rawOther)),
          ]),
        ),
        'instant-group-vs-raw',
      );
    expect(line(10, 0)).toMatchObject({ busyCores: 0.1, pass: true });
    // The busier of the two runs decides.
    const noisy = line(0, 45);
    expect(noisy).toMatchObject({ busyCores: 0.45, pass: undefined, value: 0.9 });
    const table = goalsTable(
      report([
        run({ scenario: 'instant-group', system: 'ours', deliveredPerSec: 9, ...busy(0) }),
        raw(10, busy(45)),
      ]),
    );
    expect(table).toMatch(
      /instant-group: ours \/ raw Temporal ceiling.*not judged \(machine busy: 0\.45 cores\)/,
    );
  });

  it('L = 0: an incomplete run or a missing ceiling is not evaluated', () => {
    const incomplete = run({
      scenario: 'instant-group',
      system: 'ours',
      deliveredPerSec: 20,
      complete: false,
    });
    expect(goal(computeGoals(report([incomplete, raw(10)])), 'instant-group-vs-raw')).toMatchObject({
      value: undefined,
      pass: undefined,
      measured: '–',
    });
    const ours = run({ scenario: 'instant-group', system: 'ours', deliveredPerSec: 9 });
    expect(goal(computeGoals(report([ours])), 'instant-group-vs-raw').pass).toBeUndefined();
  });

  it('L = 1 s: ours / min(C/L, raw ceiling) passes at 0.95 and fails below, for either minimum', () => {
    // C/L = 20/s below the ceiling (40/s): the bound is C/L.
    const belowCeiling = (ours: number) =>
      goal(
        computeGoals(
          report([run({ scenario: 'l1-c8', system: 'ours', deliveredPerSec: ours }), raw(40)], [], 20),
        ),
        'l1-c8-vs-limit',
      );
    expect(belowCeiling(19)).toMatchObject({ value: 0.95, pass: true });
    expect(belowCeiling(18.99).pass).toBe(false);
    // C/L = 16/s above the ceiling (10/s): the bound is the ceiling.
    const aboveCeiling = (ours: number) =>
      goal(
        computeGoals(report([run({ scenario: 'l1-c16', system: 'ours', deliveredPerSec: ours }), raw(10)])),
        'l1-c16-vs-limit',
      );
    expect(aboveCeiling(9.5)).toMatchObject({ value: 0.95, pass: true });
    expect(aboveCeiling(9.49).pass).toBe(false);
  });

  it("paced: ours' overhead p50 passes at the no-op workflow's p50 + 15 ms and fails above", () => {
    const at = (oursP50: number) =>
      goal(
        computeGoals(
          report([
            run({
              scenario: 'paced-instant',
              system: 'ours',
              mode: 'paced',
              latencyMs: 0,
              overheadMs: { p50: oursP50 },
            }),
            run({
              scenario: 'paced-instant',
              system: 'raw',
              mode: 'paced',
              latencyMs: 0,
              e2eMs: { p50: 100 },
            }),
          ]),
        ),
        'paced-overhead-p50',
      );
    expect(at(115)).toMatchObject({ bound: 115, pass: true, measured: '115 ms' });
    expect(at(115.5).pass).toBe(false);
  });

  it("worker peak RSS: passes at 1.15 × the raw worker's with the same bound on open runs, fails above", () => {
    const at = (oursMb: number, oursBound = 1000, rawBound: number | 'none' = 1000) =>
      goal(
        computeGoals(
          report([
            run({
              scenario: 'instant-group',
              system: 'ours',
              maxOpenRuns: oursBound,
              processes: { 'ours-worker': { peakRssMb: oursMb } },
            }),
            run({
              scenario: 'l1-c8',
              system: 'ours',
              maxOpenRuns: oursBound,
              processes: { 'ours-worker': { peakRssMb: oursMb - 50 } },
            }),
            raw(10, {
              maxOpenRuns: rawBound === 'none' ? undefined : rawBound,
              processes: { 'raw-worker': { peakRssMb: 200 } },
            }),
          ]),
        ),
        'worker-peak-rss',
      );
    expect(at(230)).toMatchObject({ value: 1.15, pass: true });
    expect(at(231).pass).toBe(false);
    // Not the same open runs: not compared (an older result's raw ceiling had no bound).
    expect(at(230, 500).pass).toBeUndefined();
    expect(at(230, 1000, 'none')).toMatchObject({ pass: undefined, measured: '–' });
  });

  /** The l1-c16 held line: ours' worker against the raw held run (none: `held` undefined), with the ceiling's. */
  const heldLine = (
    oursMb: number,
    held: { mb: number; bound?: number; peakOpen?: number } | undefined,
    oursRequested = 2000,
  ) =>
    goal(
      computeGoals(
        report([
          run({
            scenario: 'l1-c16',
            system: 'ours',
            requested: oursRequested,
            maxOpenRuns: 1000,
            processes: { 'ours-worker': { peakRssMb: oursMb } },
          }),
          ...(held
            ? [
                run({
                  scenario: 'l1-c16',
                  system: 'raw',
                  mode: 'burst',
                  maxOpenRuns: held.bound ?? 1000,
                  peakOpenRuns: held.peakOpen ?? held.bound ?? 1000,
                  processes: { 'raw-worker': { peakRssMb: held.mb } },
                }),
              ]
            : []),
          // The ceiling's worker is not this line's bound.
          raw(10, { maxOpenRuns: 1000, processes: { 'raw-worker': { peakRssMb: 100 } } }),
        ]),
      ),
      'l1-c16-worker-peak-rss-held',
    );

  it("worker peak RSS, runs held alike: ours' l1-c16 worker against the raw design's held run", () => {
    const at = (oursMb: number, rawBound = 1000) => heldLine(oursMb, { mb: 400, bound: rawBound });
    expect(at(460)).toMatchObject({ value: 1.15, pass: true, measured: '1.15×' });
    expect(at(461).pass).toBe(false);
    expect(at(460).from).toContain('raw worker 400 MB');
    expect(at(460, 500)).toMatchObject({ pass: undefined, measured: '–' });
    expect(at(460, 500).from).toContain('not compared');
  });

  it('runs held alike: not compared when a run did not fill the bound, and says when there is no raw run', () => {
    const line = (rawPeakOpen: number, oursRequested = 2000, withRaw = true) =>
      heldLine(300, withRaw ? { mb: 300, peakOpen: rawPeakOpen } : undefined, oursRequested);
    expect(line(1000)).toMatchObject({ value: 1, pass: true });
    expect(line(200).pass).toBeUndefined(); // a quick run: 200 requests never fill 1000
    expect(line(1000, 200).pass).toBeUndefined();
    expect(line(1000, 2000, false)).toMatchObject({ pass: undefined });
    expect(line(1000, 2000, false).from).toContain('no raw held run');
  });

  it('API: the p99 over raw SendMessage at 100 req/s passes at 5 ms and fails above', () => {
    const at = (p99: number) =>
      goal(computeGoals(report([], [sweep(50, 99), sweep(100, p99), sweep(200, 99)])), 'api-overhead-p99');
    expect(at(5)).toMatchObject({ value: 5, pass: true });
    expect(at(5.01).pass).toBe(false);
    expect(goal(computeGoals(report([])), 'api-overhead-p99').pass).toBeUndefined();
  });

  it('API: not judged when other processes took more than 0.2 cores in its API or SendMessage window', () => {
    const at = (otherCores: ApiSweepPoint['otherCores']) =>
      goal(computeGoals(report([], [{ ...sweep(100, 9), otherCores }])), 'api-overhead-p99');
    expect(at({ api: 0.2, rawSendMessage: 0.05 })).toMatchObject({ pass: false, busyCores: 0.2 });
    expect(at({ api: 0.05, rawSendMessage: 0.21 })).toMatchObject({ pass: undefined, busyCores: 0.21 });
    expect(at({ api: 0.5 }).pass).toBeUndefined();
    expect(goalsTable(report([], [{ ...sweep(100, 9), otherCores: { api: 0.5 } }]))).toContain(
      'not judged (machine busy: 0.50 cores)',
    );
  });

  it('renders an older result without the new figures as – (no crash)', () => {
    const old = report([run({ scenario: 'instant-group', system: 'ours', deliveredPerSec: 12 })]);
    const text = goalsTable(old);
    expect(text).toContain('| – |');
    expect(text.split('\n')).toHaveLength(2 + 2 + 2 + 4);
  });

  it('CPU distance: per process against the raw ceiling, and the ratio the CPU predicts', () => {
    const ours = run({
      scenario: 'instant-group',
      system: 'ours',
      deliveredPerSec: 8,
      delivered: 1000,
      processes: { 'ours-worker': { cpuSecondsDuringRun: 30 }, 'ours-bridge': { cpuSecondsDuringRun: 5 } },
      sharedCpuSecondsDuringRun: { temporal: 80, elasticmq: 5, harness: 0 },
    });
    const ceiling = raw(10, {
      delivered: 1000,
      processes: { 'raw-worker': { cpuSecondsDuringRun: 20 }, 'raw-starter': { cpuSecondsDuringRun: 0 } },
      sharedCpuSecondsDuringRun: { temporal: 60, elasticmq: 0, harness: 0 },
    });
    const [row] = cpuDistance(report([ours, ceiling]));
    expect(row.parts[0]).toEqual({ ours: 30, raw: 20, extra: 10 });
    expect(row.oursAll).toBe(120);
    expect(row.rawAll).toBe(80);
    expect(row.predicted).toBeCloseTo(80 / 120);
    expect(row.measured).toBeCloseTo(0.8);
    // measured = CPU ratio × the ratio of the cores each run's processes used.
    expect(row.oursCores).toBeCloseTo(0.96);
    expect(row.rawCores).toBeCloseTo(0.8);
    expect((row.predicted ?? 0) * (row.coresRatio ?? 0)).toBeCloseTo(row.measured ?? -1);
    expect(row.oursOtherCores).toBeUndefined();
  });

  it("other processes: the machine busy in the window minus the run's processes, in cores", () => {
    const measured = run({
      scenario: 'instant-group',
      system: 'ours',
      processes: { 'ours-worker': { cpuSecondsDuringRun: 30 } },
      sharedCpuSecondsDuringRun: { temporal: 50, harness: 10 },
      machineCpu: { busySeconds: 150, allSeconds: 200 },
    });
    // 100 s window on 2 cores; 150 busy core-seconds, 90 of them the run's.
    expect(otherCores(measured, 2)).toBeCloseTo(0.6);
  });
});

describe('the raw design held (l1-c16)', () => {
  it('is planned after ours in l1-c16 when the raw system runs, and only there', () => {
    const plan = planRuns(parseArgs(['--scenarios', 'l1-group,l1-c16', '--systems', 'ours,raw']));
    expect(plan.map((p) => `${p.scenario?.id ?? 'ceiling'}/${p.system}`)).toEqual([
      'l1-group/ours',
      'l1-c16/ours',
      'l1-c16/raw',
    ]);
    expect(planRuns(parseArgs(['--scenarios', 'l1-c16', '--systems', 'ours'])).map((p) => p.system)).toEqual([
      'ours',
    ]);
  });

  it('is the raw column and ratio at L > 0, the ceiling at L = 0, and is labelled apart from it', () => {
    const held = run({ scenario: 'l1-c16', system: 'raw', mode: 'burst', deliveredPerSec: 15 });
    const ceiling = raw(30);
    const r = report([
      held,
      ceiling,
      run({ scenario: 'l1-c16', system: 'ours', deliveredPerSec: 12 }),
      run({ scenario: 'instant-group', system: 'ours', deliveredPerSec: 24 }),
    ]);
    const scenario = (id: string) => r.scenarios.find((s) => s.id === id) as (typeof r.scenarios)[number];
    expect(rawRunFor(r, scenario('l1-c16'))).toBe(held);
    expect(rawRunFor(r, scenario('instant-group'))).toBe(ceiling);
    expect(rawRunFor(r, scenario('l1-c8'))).toBeUndefined();
    const ratios = computeRatios(r);
    expect(ratios.find((x) => x.scenario === 'l1-c16')?.vsRaw).toBeCloseTo(0.8);
    expect(ratios.find((x) => x.scenario === 'instant-group')?.vsRaw).toBeCloseTo(0.8);
    expect(runLabel(held)).toBe('raw Temporal, held');
    expect(runLabel(ceiling)).toBe('raw Temporal ceiling');
  });
});
