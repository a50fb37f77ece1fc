/** The throughput suite's Markdown report, one function per section; the summary page reuses the tables. */
import type { Stage } from '../breakdown';
import {
  burstScenarios,
  CPU_PARTS,
  cpuDistance,
  cpuPerRequest,
  findRun,
  rawRunFor,
  runLabel,
} from './figures';
import { computeGoals, GOALS } from './goals';
import { cpuList, latency, ms, num, percent, rate, runRate, table, verdict, x } from './format';
import type { SystemId } from './scenarios';
import type { ApiReport, BenchReport, GoalResult, LatencySample } from './types';

export function renderMarkdown(report: BenchReport, svgFile: string): string {
  return [
    ...header(report, svgFile),
    ...section('Delivered per second (first send → last delivery)', deliveredTable(report)),
    ...section('Ratios', ratiosTable(report)),
    ...goalsSection(report),
    ...distanceSection(report),
    ...latencySection(report),
    ...breakdownSection(report),
    ...cpuAndMemorySection(report),
    ...cpuPerRequestSection(report),
    ...apiSection(report),
    ...section('Settings', settingsTable(report)),
    ...notesSection(report),
  ].join('\n');
}

const section = (title: string, body: string) => [`## ${title}`, '', body, ''];

/** The command, the machine and the wall time of a run. */
export function runLine(report: BenchReport): string {
  return (
    `\`${report.command}\` — ${report.machine.cpus} CPUs, Node ${report.machine.node}, load average at start ` +
    `${report.machine.loadAverageAtStart.map((l) => l.toFixed(2)).join(' / ')}` +
    (report.wallSeconds ? `, ${Math.round(report.wallSeconds)} s wall time` : '')
  );
}

function header(report: BenchReport, svgFile: string): string[] {
  return [
    `# Benchmark ${report.date.slice(0, 10)}${report.quick ? ' (quick)' : ''}`,
    '',
    runLine(report) +
      `. Everything (${engineLabel(report)}, ElasticMQ, vLLM simulator, the systems, the harness) shares these CPUs.`,
    '',
    `![delivered per second](${svgFile})`,
    '',
  ];
}

export function deliveredTable(report: BenchReport): string {
  return table(
    ['scenario', 'L', 'C', 'queue groups', 'ours', 'seed-style', 'plain consumer', 'raw Temporal', 'C/L'],
    burstScenarios(report).map((s) => [
      s.id,
      latency(s.latencyMs),
      String(s.capacity),
      s.shape === 'group' ? 'one (`feedback-request`)' : 'one per member',
      ...(['ours', 'seed', 'plain'] as SystemId[]).map((system) => runRate(findRun(report, s.id, system))),
      runRate(rawRunFor(report, s)),
      s.latencyMs > 0 ? rate(s.capacity / (s.latencyMs / 1000)) : '∞',
    ]),
  );
}

function ratiosTable(report: BenchReport): string {
  return table(
    ['scenario', 'ours / seed-style', 'ours / plain consumer', 'ours / raw Temporal', 'ours / (C/L)'],
    report.ratios.map((r) => [r.scenario, x(r.vsSeed), x(r.vsPlain), x(r.vsRaw), x(r.vsCapacity)]),
  );
}

export const GOALS_LEGEND =
  "Each line compares a figure of this run with a bound from the same run: how close ours comes to this machine's " +
  'limit (the raw Temporal ceiling: a no-op workflow of three no-op activities, no SQS, no visibility writes; ' +
  'C/L; the no-op workflow at the same rate; raw SendMessage). The absolute targets of a real deployment: ' +
  'docs/benchmarks.md. `–`: a figure this run does not have. A line is not judged when other processes took ' +
  'more than 0.2 cores of the machine during any of its runs (/proc/stat; the API line: in its two windows at ' +
  'its rate, the API and raw SendMessage).';

/** pass/FAIL, or why a line is not judged: the machine was busy with other processes during its runs. */
function goalVerdict(g: GoalResult): string {
  return g.busyCores !== undefined && g.busyCores > GOALS.busyCoresLimit
    ? `not judged (machine busy: ${g.busyCores.toFixed(2)} cores)`
    : verdict(g.pass);
}

/** The ratio table: the stored lines, or computed for a result that has none (older results). */
export function goalsTable(report: BenchReport): string {
  return table(
    ['goal', 'measured', 'wanted', 'result', 'from (same run)'],
    (report.goals ?? computeGoals(report)).map((g) => [g.name, g.measured, g.goal, goalVerdict(g), g.from]),
  );
}

function goalsSection(report: BenchReport): string[] {
  return ["## Ratio to this machine's limit", '', GOALS_LEGEND, '', goalsTable(report), ''];
}

export const DISTANCE_LEGEND =
  'CPU ms per delivered request of each process in the measured window, ours at L = 0 next to the raw ' +
  "Temporal ceiling, and what ours spends more. Delivered/s is the cores a run's processes get divided by " +
  "their CPU per request, so the first lines' ratio is the raw ceiling's total / ours' total (what ours' extra " +
  'work costs) times the cores ours got / the cores the raw ceiling got. Fewer cores for ours: other ' +
  "processes of the shared machine took them (the row from /proc/stat), or ours' processes waited on " +
  'something other than CPU.';

/** Ours' CPU per request by process against the raw ceiling's, for the L = 0 scenarios. */
export function distanceTable(report: BenchReport): string | undefined {
  const rows = cpuDistance(report);
  if (rows.length === 0) return undefined;
  const pair = (v: { ours?: number; extra?: number }) =>
    `${num(v.ours)} (${v.extra === undefined ? '–' : `${v.extra >= 0 ? '+' : ''}${v.extra.toFixed(1)}`})`;
  return table(
    ['process', 'raw ceiling', ...rows.map((r) => `${r.scenario} ours (more than raw)`), "ours' extra work"],
    [
      ...CPU_PARTS.flatMap((part, i) =>
        // A process the run did not have (PostgreSQL on the dev server) gets no row.
        rows.every((r) => r.parts[i].ours === undefined && r.parts[i].raw === undefined)
          ? []
          : [
              [
                part.ours === part.raw ? part.label : `${part.label} (${part.ours} / ${part.raw})`,
                num(rows[0].parts[i].raw),
                ...rows.map((r) => pair(r.parts[i])),
                part.extra,
              ],
            ],
      ),
      [
        '**all**',
        num(rows[0].rawAll),
        ...rows.map((r) =>
          pair({ ours: r.oursAll, extra: r.oursAll === undefined ? undefined : r.oursAll - (r.rawAll ?? 0) }),
        ),
        '',
      ],
      [
        "cores the run's processes used (all × delivered/s)",
        num(rows[0].rawCores, 2),
        ...rows.map((r) => num(r.oursCores, 2)),
        '',
      ],
      [
        'cores other processes used (machine busy minus the above, /proc/stat)',
        num(rows[0].rawOtherCores, 2),
        ...rows.map((r) => num(r.oursOtherCores, 2)),
        '',
      ],
      ['CPU ratio (raw all / ours all)', '', ...rows.map((r) => x(r.predicted)), ''],
      ['× cores ratio (ours cores / raw cores)', '', ...rows.map((r) => x(r.coresRatio)), ''],
      ['= ratio measured (ours / raw delivered/s)', '', ...rows.map((r) => x(r.measured)), ''],
    ],
  );
}

function distanceSection(report: BenchReport): string[] {
  const body = distanceTable(report);
  if (!body) return [];
  return ['## Distance to the raw ceiling: CPU per request by process', '', DISTANCE_LEGEND, '', body, ''];
}

export const LATENCY_LEGEND =
  'e2e: send → callback accepted. Overhead: e2e minus the time the simulator spent on the request ' +
  '(from its arrival at the simulator, including any wait for a free slot, to the answer). ' +
  'For the raw ceiling, e2e is start call → third activity.';

function latencySection(report: BenchReport): string[] {
  return ['## Latency and overhead per run', '', LATENCY_LEGEND, '', latencyTable(report), ''];
}

export function latencyTable(report: BenchReport): string {
  return table(
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
      runLabel(r),
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
  );
}

const STAGES: Array<[Stage, string]> = [
  ['queueAndBridge', 'send → workflow started (SQS + bridge)'],
  ['taskDispatch', 'task dispatch (scheduled → started, workflow and activity tasks)'],
  ['workflowTasks', 'workflow tasks in the worker (incl. local activities)'],
  ['vllmCallOverhead', 'generate activity minus simulator time'],
  ['callback', 'deliver activity started → callback accepted'],
];

function breakdownSection(report: BenchReport): string[] {
  const broken = report.runs.filter((r) => r.overheadBreakdown);
  if (broken.length === 0) return [];
  return [
    "## Where ours' overhead goes (paced runs, from the workflow histories)",
    '',
    table(
      ['stage', ...broken.map((r) => `${r.scenario} p50 / p99`)],
      STAGES.map(([stage, label]) => [
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
  ];
}

function cpuAndMemorySection(report: BenchReport): string[] {
  const sharedNames = [...new Set(report.runs.flatMap((r) => Object.keys(r.sharedCpuSecondsDuringRun)))];
  return [
    '## CPU and memory per run',
    '',
    'CPU seconds in the measured window (and since the process started), peak RSS (VmHWM) of each ' +
      'process of the system; then the CPU seconds the shared processes used in the same window.',
    '',
    table(
      [
        'scenario',
        'system',
        'processes: CPU s window (total), peak RSS',
        ...sharedNames.map((n) => `${n} CPU s`),
      ],
      report.runs.map((r) => [
        r.scenario,
        runLabel(r),
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
  ];
}

export const CPU_PER_REQUEST_LEGEND =
  "CPU milliseconds per delivered request in the measured window: the system's own processes, the " +
  'Temporal server (and its PostgreSQL on the cluster engine), ElasticMQ. Unlike delivered/s, this hardly depends on what else the shared ' +
  "machine was doing at the time, so it compares the systems' cost directly. For a slow or short run " +
  'it also holds the idle cost of the window (the dev server uses some CPU when idle, which is all the ' +
  'Temporal column shows for the baselines without Temporal).';

function cpuPerRequestSection(report: BenchReport): string[] {
  return ['## CPU per delivered request', '', CPU_PER_REQUEST_LEGEND, '', cpuPerRequestTable(report), ''];
}

export function cpuPerRequestTable(report: BenchReport): string {
  const cluster = report.options.temporal === 'cluster';
  return table(
    [
      'scenario',
      'system',
      'own processes',
      'Temporal',
      ...(cluster ? ['PostgreSQL'] : []),
      'ElasticMQ',
      'total (incl. simulator)',
    ],
    report.runs.map((r) => {
      const c = cpuPerRequest(r);
      return [
        r.scenario,
        runLabel(r),
        num(c.own),
        num(c.temporal),
        ...(cluster ? [num(c.postgres)] : []),
        num(c.elasticmq),
        num(c.total),
      ];
    }),
  );
}

/** The Temporal a report ran on (`--temporal`; reports before the option ran on the dev server). */
export function engineLabel(report: BenchReport): string {
  return report.options.temporal === 'cluster'
    ? 'Temporal server 1.32.2 on PostgreSQL 15, 4 history shards'
    : 'Temporal dev server (SQLite)';
}

function apiSection(report: BenchReport): string[] {
  const a = report.api;
  if (!a) return [];
  const out = [
    '## API alone',
    '',
    `POST /ai/feedback at ${a.offeredRatePerSec} req/s for ${a.durationSeconds} s, next to SendMessage calls ` +
      `from the harness to the same ElasticMQ (same body, group and dedup id as the API sends, a client ` +
      `configured like the API's). Both are driven the same way: 10 closed loops sharing the rate (Node's ` +
      `fetch with keep-alive for the API), each after a warm-up; latencies as seen by the harness. The ` +
      `overhead target compares these two.`,
    '',
    apiLatencyTable(a),
    '',
    apiProcessLine(a),
    '',
  ];
  if (a.sweep?.length) {
    out.push(
      'The same at other offered rates (each rate: raw SendMessage, then the API, same process). The API is one ' +
        'Node process: its overhead follows how busy that core is, and how busy the whole machine is (the API, ' +
        'the harness driving it and ElasticMQ share the cores).',
      '',
      apiSweepTable(a),
      '',
    );
  }
  return out;
}

function apiLatencyTable(a: ApiReport): string {
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
  return table(
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
  );
}

function apiProcessLine(a: ApiReport): string {
  return (
    `API overhead: p50 ${ms(a.overheadP50Ms)}, p99 ${ms(a.overheadP99Ms)}. API process: ` +
    Object.entries(a.processes)
      .map(([name, p]) => `${name} ${num(p.cpuSecondsDuringRun)} CPU s, peak RSS ${num(p.peakRssMb, 0)} MB`)
      .join('; ') +
    `. CPU seconds of the shared processes in the API window: ${cpuList(a.sharedCpuSeconds.api)}; ` +
    `in the SendMessage window: ${cpuList(a.sharedCpuSeconds.rawSendMessage)}.` +
    (a.autocannon
      ? ' autocannon at a fixed rate adds latency of its own (its row against a server that answers at once), ' +
        'which is why it does not decide the target.'
      : '')
  );
}

/** The API and raw SendMessage at each offered rate (the main rate last). */
export function apiSweepTable(a: ApiReport): string {
  return table(
    [
      'offered',
      'API p50 / p99',
      'SendMessage p50 / p99',
      'overhead p50 / p99',
      'API CPU per request',
      'API busy (of one core)',
      'machine busy: API / SendMessage window',
      'other processes, cores: API / SendMessage window',
      'errors',
    ],
    (a.sweep ?? []).map((p) => [
      `${p.offeredRatePerSec} req/s`,
      `${ms(p.apiLatencyMs.p50)} / ${ms(p.apiLatencyMs.p99)}`,
      `${ms(p.rawLatencyMs.p50)} / ${ms(p.rawLatencyMs.p99)}`,
      `${ms(p.overheadP50Ms)} / ${ms(p.overheadP99Ms)}`,
      p.apiCpuMsPerRequest === undefined ? 'n/a' : `${num(p.apiCpuMsPerRequest, 2)} ms`,
      percent(p.apiBusy),
      `${percent(p.machineBusy?.api)} / ${percent(p.machineBusy?.rawSendMessage)}`,
      `${num(p.otherCores?.api, 2)} / ${num(p.otherCores?.rawSendMessage, 2)}`,
      String(p.errors),
    ]),
  );
}

function settingsTable(report: BenchReport): string {
  return table(
    ['setting', 'value'],
    Object.entries(report.settings).map(([k, v]) => [k, v]),
  );
}

function notesSection(report: BenchReport): string[] {
  const notes = report.runs.flatMap((r) => r.notes.map((n) => `- ${r.scenario} / ${runLabel(r)}: ${n}`));
  return notes.length > 0 ? ['## Notes', '', ...notes, ''] : [];
}
