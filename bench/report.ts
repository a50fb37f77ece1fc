/** The benchmark's result types, the target checks, and the Markdown and SVG renderings. */

import type { OverheadBreakdown, Stage } from './breakdown';

export type SystemId = 'ours' | 'seed' | 'plain' | 'raw';

/** The request count the targets are defined for. */
export const FULL_N = 2000;

export const SYSTEM_LABELS: Record<SystemId, string> = {
  ours: 'ours',
  seed: 'seed-style worker',
  plain: 'plain consumer',
  raw: 'raw Temporal ceiling',
};

export type QueueShape = 'group' | 'member';

export interface Scenario {
  id: string;
  title: string;
  latencyMs: number;
  capacity: number;
  shape: QueueShape;
  /** burst: all requests sent at once; paced: sent at a fixed rate. */
  mode: 'burst' | 'paced';
  /** Not in the default run (`--scenarios` names it). */
  extra?: boolean;
}

export interface Quantiles {
  p50?: number;
  p95?: number;
  p99?: number;
  max?: number;
}

export interface ProcessReport {
  pid?: number;
  /** utime + stime at the stop, since the process started. */
  cpuSeconds?: number;
  /** Of which during the measured window (first send to last delivery). */
  cpuSecondsDuringRun?: number;
  peakRssMb?: number;
  /** RSS when the measured window began: the process started and ready, before the load. */
  startRssMb?: number;
}

export interface RunReport {
  scenario: string;
  system: SystemId;
  latencyMs?: number;
  capacity?: number;
  shape?: QueueShape;
  mode: 'burst' | 'paced' | 'start';
  offeredRatePerSec?: number;
  requested: number;
  delivered: number;
  complete: boolean;
  durationMs?: number;
  deliveredPerSec?: number;
  e2eMs: Quantiles;
  overheadMs: Quantiles;
  simulator?: { maxRunningSeen: number; received: number; completed: number };
  processes: Record<string, ProcessReport>;
  /** CPU seconds of the shared processes (Temporal, ElasticMQ, simulator, harness) in the window. */
  sharedCpuSecondsDuringRun: Record<string, number>;
  /** Ours' paced runs: the overhead by stage, from the workflow histories. */
  overheadBreakdown?: OverheadBreakdown;
  notes: string[];
}

export interface ApiSweepPoint {
  offeredRatePerSec: number;
  apiLatencyMs: Quantiles;
  rawLatencyMs: Quantiles;
  errors: number;
  overheadP50Ms?: number;
  overheadP99Ms?: number;
  /** The API process's CPU per accepted request, and its share of one core, in that window. */
  apiCpuMsPerRequest?: number;
  apiBusy?: number;
  /** CPU used by every process we measure (API, harness, Temporal, ElasticMQ, simulator) / all cores. */
  machineBusy?: { api?: number; rawSendMessage?: number };
}

export interface LatencySample {
  count: number;
  errors: number;
  latencyMs: Quantiles;
}

export interface ApiReport {
  offeredRatePerSec: number;
  durationSeconds: number;
  api: LatencySample & { non2xx: number };
  rawSendMessage: LatencySample;
  overheadP50Ms?: number;
  overheadP99Ms?: number;
  processes: Record<string, ProcessReport>;
  /** CPU seconds of the shared processes during each of the two measurements. */
  sharedCpuSeconds: { api: Record<string, number>; rawSendMessage: Record<string, number> };
  /** autocannon against the API, and against a server that answers at once (the generator's own floor). */
  autocannon?: { api: LatencySample & { non2xx: number }; noopServer: LatencySample & { non2xx: number } };
  /** The same measurement at lower offered rates (and the main one last). */
  sweep?: ApiSweepPoint[];
}

export interface TargetResult {
  name: string;
  target: string;
  measured: string;
  /** undefined: could not be evaluated (system or scenario not run). */
  pass?: boolean;
  note?: string;
}

export interface RatioRow {
  scenario: string;
  oursPerSec?: number;
  vsSeed?: number;
  vsPlain?: number;
  vsRaw?: number;
  vsCapacity?: number;
}

export interface BenchReport {
  command: string;
  date: string;
  quick: boolean;
  options: Record<string, unknown>;
  machine: { cpus: number; loadAverageAtStart: number[]; loadAverageAtEnd?: number[]; node: string };
  settings: Record<string, string>;
  scenarios: Scenario[];
  runs: RunReport[];
  api?: ApiReport;
  ratios: RatioRow[];
  targets: TargetResult[];
  wallSeconds?: number;
}

// ---------------------------------------------------------------------------------------------
// Ratios and targets

const burstScenarios = (report: BenchReport) => report.scenarios.filter((s) => s.mode === 'burst');

function findRun(report: BenchReport, scenario: string, system: SystemId): RunReport | undefined {
  return report.runs.find((r) => r.scenario === scenario && r.system === system);
}

function rawCeiling(report: BenchReport): RunReport | undefined {
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

const MB_LIMITS: Array<[process: string, label: string, limitMb: number]> = [
  ['ours-worker', 'worker', 300],
  ['ours-bridge', 'bridge', 150],
  ['api', 'API', 150],
];

export function evaluateTargets(report: BenchReport, fullN: number): TargetResult[] {
  const targets: TargetResult[] = [];
  const nNote = (run?: RunReport) =>
    run && run.requested < fullN ? `${run.requested} requests (target defined for ${fullN})` : undefined;
  const check = (
    name: string,
    target: string,
    value: number | undefined,
    limit: number | undefined,
    atLeast: boolean,
    format: (v: number) => string,
    note?: string,
  ) =>
    targets.push({
      name,
      target,
      measured: value === undefined ? 'n/a' : format(value),
      pass:
        value === undefined || limit === undefined ? undefined : atLeast ? value >= limit : value <= limit,
      note,
    });
  const times = (v: number) => `${v.toFixed(2)}×`;

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
  if (report.api) {
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
  return targets;
}

// ---------------------------------------------------------------------------------------------
// Formatting

export function ms(value: number | undefined): string {
  if (value === undefined) return 'n/a';
  if (Math.abs(value) >= 10_000) return `${(value / 1000).toFixed(1)} s`;
  return `${value.toFixed(Math.abs(value) < 10 ? 1 : 0)} ms`;
}

/** A simulated generation time: `0`, `1 s`, `250 ms`. */
export function latency(valueMs: number): string {
  return valueMs === 0 ? '0' : valueMs % 1000 === 0 ? `${valueMs / 1000} s` : `${valueMs} ms`;
}

export function rate(value: number | undefined): string {
  if (value === undefined) return 'n/a';
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

const x = (value: number | undefined) => (value === undefined ? '–' : `${value.toFixed(2)}×`);
const verdict = (pass?: boolean) => (pass === undefined ? 'n/a' : pass ? '**pass**' : '**FAIL**');
const percent = (share: number | undefined) => (share === undefined ? 'n/a' : `${Math.round(share * 100)} %`);
const num = (value: number | undefined, digits = 1) => (value === undefined ? '–' : value.toFixed(digits));

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function renderMarkdown(report: BenchReport, svgFile: string): string {
  const out: string[] = [];
  const burst = burstScenarios(report);
  out.push(`# Benchmark ${report.date.slice(0, 10)}${report.quick ? ' (quick)' : ''}`, '');
  out.push(
    `\`${report.command}\` — ${report.machine.cpus} CPUs, Node ${report.machine.node}, load average at start ` +
      `${report.machine.loadAverageAtStart.map((l) => l.toFixed(2)).join(' / ')}` +
      (report.wallSeconds ? `, ${Math.round(report.wallSeconds)} s wall time` : '') +
      '. Everything (Temporal dev server, ElasticMQ, vLLM simulator, the systems, the harness) shares these CPUs.',
    '',
  );
  out.push(`![delivered per second](${svgFile})`, '');

  out.push('## Delivered per second (first send → last delivery)', '');
  out.push(
    table(
      ['scenario', 'L', 'C', 'queue groups', 'ours', 'seed-style', 'plain consumer', 'raw ceiling', 'C/L'],
      burst.map((s) => [
        s.id,
        latency(s.latencyMs),
        String(s.capacity),
        s.shape === 'group' ? 'one (`feedback-request`)' : 'one per member',
        ...(['ours', 'seed', 'plain'] as SystemId[]).map((system) => runRate(findRun(report, s.id, system))),
        s.latencyMs === 0 ? runRate(rawCeiling(report)) : '–',
        s.latencyMs > 0 ? rate(s.capacity / (s.latencyMs / 1000)) : '∞',
      ]),
    ),
    '',
  );

  out.push('## Ratios', '');
  out.push(
    table(
      ['scenario', 'ours / seed-style', 'ours / plain consumer', 'ours / raw ceiling', 'ours / (C/L)'],
      report.ratios.map((r) => [r.scenario, x(r.vsSeed), x(r.vsPlain), x(r.vsRaw), x(r.vsCapacity)]),
    ),
    '',
  );

  out.push('## Targets', '');
  out.push(
    table(
      ['target', 'wanted', 'measured', 'result', 'note'],
      report.targets.map((t) => [t.name, t.target, t.measured, verdict(t.pass), t.note ?? '']),
    ),
    '',
  );

  out.push('## Latency and overhead per run', '');
  out.push(
    'e2e: send → callback accepted. Overhead: e2e minus the time the simulator spent on the request ' +
      '(from its arrival at the simulator, including any wait for a free slot, to the answer). ' +
      'For the raw ceiling, e2e is start call → third activity.',
    '',
  );
  out.push(
    table(
      [
        'scenario',
        'system',
        'requests',
        'delivered',
        'delivered/s',
        'e2e p50',
        'e2e p95',
        'e2e p99',
        'overhead p50',
        'overhead p99',
        'max vLLM concurrency',
      ],
      report.runs.map((r) => [
        r.scenario + (r.offeredRatePerSec ? ` (${rate(r.offeredRatePerSec)}/s offered)` : ''),
        SYSTEM_LABELS[r.system],
        String(r.requested),
        String(r.delivered),
        runRate(r),
        ms(r.e2eMs.p50),
        ms(r.e2eMs.p95),
        ms(r.e2eMs.p99),
        ms(r.overheadMs.p50),
        ms(r.overheadMs.p99),
        r.simulator ? String(r.simulator.maxRunningSeen) : '–',
      ]),
    ),
    '',
  );

  const broken = report.runs.filter((r) => r.overheadBreakdown);
  if (broken.length > 0) {
    const stages: Array<[Stage, string]> = [
      ['queueAndBridge', 'send → workflow started (SQS + bridge)'],
      ['taskDispatch', 'task dispatch (scheduled → started, workflow and activity tasks)'],
      ['workflowTasks', 'workflow tasks in the worker (incl. local activities)'],
      ['vllmCallOverhead', 'generate activity minus simulator time'],
      ['callback', 'deliver activity started → callback accepted'],
    ];
    out.push("## Where ours' overhead goes (paced runs, from the workflow histories)", '');
    out.push(
      table(
        ['stage', ...broken.map((r) => `${r.scenario} p50 / p99`)],
        stages.map(([stage, label]) => [
          label,
          ...broken.map((r) => {
            const q = r.overheadBreakdown?.stages[stage];
            return `${ms(q?.p50)} / ${ms(q?.p99)}`;
          }),
        ]),
      ),
      '',
      'Percentiles are per stage; they do not add up to the overhead percentiles exactly.',
      '',
    );
  }

  out.push('## CPU and memory per run', '');
  out.push(
    'CPU seconds in the measured window (and since the process started), peak RSS (VmHWM) of each ' +
      'process of the system; then the CPU seconds the shared processes used in the same window.',
    '',
  );
  const sharedNames = [...new Set(report.runs.flatMap((r) => Object.keys(r.sharedCpuSecondsDuringRun)))];
  out.push(
    table(
      [
        'scenario',
        'system',
        'processes: CPU s window (total), peak RSS',
        ...sharedNames.map((n) => `${n} CPU s`),
      ],
      report.runs.map((r) => [
        r.scenario,
        SYSTEM_LABELS[r.system],
        Object.entries(r.processes)
          .map(
            ([name, p]) =>
              `${name}: ${num(p.cpuSecondsDuringRun)} (${num(p.cpuSeconds)}), ${num(p.peakRssMb, 0)} MB`,
          )
          .join('; '),
        ...sharedNames.map((n) => num(r.sharedCpuSecondsDuringRun[n])),
      ]),
    ),
    '',
  );

  out.push('## CPU per delivered request', '');
  out.push(
    "CPU milliseconds per delivered request in the measured window: the system's own processes, the " +
      'Temporal dev server, ElasticMQ. Unlike delivered/s, this hardly depends on what else the shared ' +
      "machine was doing at the time, so it compares the systems' cost directly. For a slow or short run " +
      'it also holds the idle cost of the window (the dev server uses some CPU when idle, which is all the ' +
      'Temporal column shows for the baselines without Temporal).',
    '',
  );
  out.push(
    table(
      ['scenario', 'system', 'own processes', 'Temporal', 'ElasticMQ', 'total (incl. simulator)'],
      report.runs.map((r) => {
        const c = cpuPerRequest(r);
        return [
          r.scenario,
          SYSTEM_LABELS[r.system],
          num(c.own),
          num(c.temporal),
          num(c.elasticmq),
          num(c.total),
        ];
      }),
    ),
    '',
  );

  if (report.api) {
    const a = report.api;
    out.push('## API alone', '');
    out.push(
      `POST /ai/feedback at ${a.offeredRatePerSec} req/s for ${a.durationSeconds} s, next to SendMessage calls ` +
        `from the harness to the same ElasticMQ (same body, group and dedup id as the API sends, a client ` +
        `configured like the API's). Both are driven the same way: 10 closed loops sharing the rate (Node's ` +
        `fetch with keep-alive for the API), each after a warm-up; latencies as seen by the harness. The ` +
        `overhead target compares these two.`,
      '',
    );
    const rows: Array<readonly [string, LatencySample, number]> = [
      ['POST /ai/feedback', a.api, a.api.errors + a.api.non2xx],
      ['SendMessage (raw)', a.rawSendMessage, a.rawSendMessage.errors],
    ];
    if (a.autocannon) {
      rows.push(
        [
          'POST /ai/feedback, autocannon (10 connections)',
          a.autocannon.api,
          a.autocannon.api.errors + a.autocannon.api.non2xx,
        ],
        [
          'autocannon against a server that answers at once',
          a.autocannon.noopServer,
          a.autocannon.noopServer.errors,
        ],
      );
    }
    out.push(
      table(
        ['measurement', 'requests', 'errors', 'p50', 'p95', 'p99', 'max'],
        rows.map(([label, sample, errors]) => [
          label,
          String(sample.count),
          String(errors),
          ms(sample.latencyMs.p50),
          ms(sample.latencyMs.p95),
          ms(sample.latencyMs.p99),
          ms(sample.latencyMs.max),
        ]),
      ),
      '',
      `API overhead: p50 ${ms(a.overheadP50Ms)}, p99 ${ms(a.overheadP99Ms)}. API process: ` +
        Object.entries(a.processes)
          .map(
            ([name, p]) => `${name} ${num(p.cpuSecondsDuringRun)} CPU s, peak RSS ${num(p.peakRssMb, 0)} MB`,
          )
          .join('; ') +
        `. CPU seconds of the shared processes in the API window: ${cpuList(a.sharedCpuSeconds.api)}; ` +
        `in the SendMessage window: ${cpuList(a.sharedCpuSeconds.rawSendMessage)}.` +
        (a.autocannon
          ? ' autocannon at a fixed rate adds latency of its own (its row against a server that answers at once), ' +
            'which is why it does not decide the target.'
          : ''),
      '',
    );
    if (a.sweep?.length) {
      out.push(
        'The same at other offered rates (each rate: raw SendMessage, then the API, same process). The API is one ' +
          'Node process: its overhead follows how busy that core is, and how busy the whole machine is (the API, ' +
          'the harness driving it and ElasticMQ share the cores).',
        '',
        table(
          [
            'offered',
            'API p50 / p99',
            'SendMessage p50 / p99',
            'overhead p50 / p99',
            'API CPU per request',
            'API busy (of one core)',
            'machine busy: API / SendMessage window',
            'errors',
          ],
          a.sweep.map((p) => [
            `${p.offeredRatePerSec} req/s`,
            `${ms(p.apiLatencyMs.p50)} / ${ms(p.apiLatencyMs.p99)}`,
            `${ms(p.rawLatencyMs.p50)} / ${ms(p.rawLatencyMs.p99)}`,
            `${ms(p.overheadP50Ms)} / ${ms(p.overheadP99Ms)}`,
            p.apiCpuMsPerRequest === undefined ? 'n/a' : `${num(p.apiCpuMsPerRequest, 2)} ms`,
            percent(p.apiBusy),
            `${percent(p.machineBusy?.api)} / ${percent(p.machineBusy?.rawSendMessage)}`,
            String(p.errors),
          ]),
        ),
        '',
      );
    }
  }

  out.push('## Settings', '');
  out.push(
    table(
      ['setting', 'value'],
      Object.entries(report.settings).map(([k, v]) => [k, v]),
    ),
    '',
  );
  const notes = report.runs.flatMap((r) =>
    r.notes.map((n) => `- ${r.scenario} / ${SYSTEM_LABELS[r.system]}: ${n}`),
  );
  if (notes.length > 0) out.push('## Notes', '', ...notes, '');
  return out.join('\n');
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

function cpuList(cpu: Record<string, number>): string {
  return Object.entries(cpu)
    .map(([name, seconds]) => `${name} ${num(seconds)}`)
    .join(', ');
}

function runRate(run: RunReport | undefined): string {
  if (!run) return '–';
  const value = rate(run.deliveredPerSec);
  return run.complete ? value : `${value} (${run.delivered}/${run.requested} delivered)`;
}

// ---------------------------------------------------------------------------------------------
// SVG: grouped bars of delivered/s per scenario and system, on a log scale (the systems differ by
// orders of magnitude).

const COLORS: Record<SystemId, string> = {
  ours: '#2e7d32',
  seed: '#9e9e9e',
  plain: '#1565c0',
  raw: '#ef6c00',
};

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function renderSvg(report: BenchReport): string {
  const groups = burstScenarios(report).map((s) => ({
    label: `${s.id} (L=${s.latencyMs / 1000}s, C=${s.capacity})`,
    capacityRate: s.latencyMs > 0 ? s.capacity / (s.latencyMs / 1000) : undefined,
    bars: (['ours', 'seed', 'plain', 'raw'] as SystemId[])
      .map((system) => ({
        system,
        run:
          system === 'raw'
            ? s.latencyMs === 0
              ? rawCeiling(report)
              : undefined
            : findRun(report, s.id, system),
      }))
      .filter((b): b is { system: SystemId; run: RunReport } => b.run?.deliveredPerSec !== undefined),
  }));
  const values = groups.flatMap((g) => g.bars.map((b) => b.run.deliveredPerSec as number));
  const maxValue = Math.max(10, ...values, ...groups.map((g) => g.capacityRate ?? 0));
  const minDecade = Math.floor(Math.log10(Math.max(0.01, Math.min(1, ...values))));
  const maxDecade = Math.ceil(Math.log10(maxValue));

  const width = 960;
  const height = 460;
  const margin = { top: 50, right: 20, bottom: 90, left: 70 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const y = (v: number) =>
    margin.top +
    plotH -
    ((Math.log10(Math.max(v, 10 ** minDecade)) - minDecade) / (maxDecade - minDecade)) * plotH;
  const groupW = plotW / Math.max(1, groups.length);
  const barW = Math.min(40, (groupW - 30) / 4);

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(
      `Delivered per second by system and scenario${report.quick ? ' (quick run)' : ''}, ${report.date.slice(0, 10)}`,
    )}</text>`,
  );
  for (let d = minDecade; d <= maxDecade; d++) {
    const yy = y(10 ** d);
    parts.push(
      `<line x1="${margin.left}" x2="${width - margin.right}" y1="${yy}" y2="${yy}" stroke="#e0e0e0"/>`,
      `<text x="${margin.left - 8}" y="${yy + 4}" text-anchor="end">${10 ** d >= 1 ? 10 ** d : (10 ** d).toFixed(-d)}</text>`,
    );
  }
  parts.push(
    `<text transform="translate(18 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">delivered / s (log scale)</text>`,
  );
  groups.forEach((group, gi) => {
    const gx = margin.left + gi * groupW;
    const startX = gx + (groupW - group.bars.length * barW) / 2;
    group.bars.forEach((bar, bi) => {
      const value = bar.run.deliveredPerSec as number;
      const bx = startX + bi * barW;
      const by = y(value);
      parts.push(
        `<rect x="${bx + 2}" y="${by}" width="${barW - 4}" height="${margin.top + plotH - by}" fill="${COLORS[bar.system]}"/>`,
        `<text x="${bx + barW / 2}" y="${by - 4}" text-anchor="middle" font-size="10">${rate(value)}</text>`,
      );
    });
    if (group.capacityRate !== undefined) {
      const yy = y(group.capacityRate);
      parts.push(
        `<line x1="${gx + 8}" x2="${gx + groupW - 8}" y1="${yy}" y2="${yy}" stroke="#c62828" stroke-dasharray="5 3"/>`,
        `<text x="${gx + groupW - 8}" y="${yy - 4}" text-anchor="end" font-size="10" fill="#c62828">C/L = ${rate(group.capacityRate)}</text>`,
      );
    }
    parts.push(
      `<text x="${gx + groupW / 2}" y="${margin.top + plotH + 18}" text-anchor="middle">${escapeXml(group.label)}</text>`,
    );
  });
  parts.push(
    `<line x1="${margin.left}" x2="${width - margin.right}" y1="${margin.top + plotH}" y2="${margin.top + plotH}" stroke="#424242"/>`,
  );
  (['ours', 'seed', 'plain', 'raw'] as SystemId[]).forEach((system, i) => {
    const lx = margin.left + i * 210;
    const ly = height - 30;
    parts.push(
      `<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${COLORS[system]}"/>`,
      `<text x="${lx + 18}" y="${ly}">${escapeXml(SYSTEM_LABELS[system])}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
