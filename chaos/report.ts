/** A chaos run's report: the JSON written under chaos/results/ and the summary table printed from it. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BeDouble } from '../dev/be-double';
import type { Timeline } from './faults';
import type { Load } from './load';
import type { Options } from './options';
import { formatTable, percentile } from '../harness/util';
import type { Evidence, Judgement } from './verdict';

const RESULTS = join(__dirname, 'results');

export interface ReportInput {
  /** The CLI arguments after `npm run chaos --`. */
  args: string[];
  options: Options;
  load: Load;
  weeks: { weekOne: string; weekTwo: string };
  judgement: Judgement;
  evidence: Evidence;
  timeline: Timeline;
  be: BeDouble;
}

export type Report = ReturnType<typeof buildReport>;

export function buildReport(input: ReportInput) {
  const { judgement: j, timeline, be } = input;
  const faults = timeline.entries;
  const attempts = be.attempts();
  return {
    command: ['npm run chaos', ...(input.args.length > 0 ? ['--', ...input.args] : [])].join(' '),
    date: new Date().toISOString(),
    options: input.options,
    requests: requestsSection(input),
    outcome: outcomeSection(j, be),
    faults: {
      workerKills: faults.filter((f) => f.kind === 'kill' && f.detail?.startsWith('worker')).length,
      bridgeKills: faults.filter((f) => f.kind === 'kill' && f.detail?.startsWith('bridge')).length,
      temporalRestarts: faults.filter((f) => f.kind === 'temporal-down').length,
      postgresCrashes: faults.filter((f) => f.kind === 'postgres-crash').length,
      sqsOutages: faults.filter((f) => f.kind === 'sqs-down').length,
      vllmOutages: faults.filter((f) => f.kind === 'vllm-down').length,
      vllmInjected: input.evidence.simulatorStats.faultsInjected,
      callbackInjected: be.faultsInjected(),
      callbackAttempts: attempts.length,
      callbackStatuses: countBy(attempts.map((a) => String(a.status))),
      timeline: faults,
    },
    latencyMs: {
      p50: percentile(j.latencies, 0.5),
      p99: percentile(j.latencies, 0.99),
      max: Math.max(0, ...j.latencies),
    },
    recoveryAfterWorkerKillMs: j.recovery,
  };
}

function requestsSection({ load, weeks, judgement }: ReportInput) {
  const expected = [...load.expected.values()];
  return {
    memberWeeks: judgement.memberWeeks,
    weekOne: { week: weeks.weekOne, members: expected.filter((e) => e.week === weeks.weekOne).length },
    weekTwo: { week: weeks.weekTwo, members: expected.filter((e) => e.week === weeks.weekTwo).length },
    viaApi: expected.filter((e) => e.via === 'api').length,
    viaQueue: expected.filter((e) => e.via === 'queue').length,
    duplicateSends: load.duplicatesSent,
    poison: load.poison.length,
    api503Answers: load.api503,
  };
}

function outcomeSection(j: Judgement, be: BeDouble) {
  const { verdict, stored, republishes } = j;
  return {
    verdict: {
      ok: verdict.ok,
      missing: verdict.missing.length,
      statusCodeStored: verdict.statusCodeStored.length,
      doubled: verdict.doubled.length,
      unexpectedWeek: verdict.unexpected.length,
      examples: {
        missing: verdict.missing.slice(0, 20),
        statusCodeStored: verdict.statusCodeStored.slice(0, 20),
        doubled: verdict.doubled.slice(0, 20),
        unexpectedWeek: verdict.unexpected.slice(0, 20),
      },
    },
    stored: {
      total: stored.length,
      viaQueue: stored.filter((f) => f.via === 'queue').length,
      viaCallback: stored.filter((f) => f.via === 'callback').length,
    },
    duplicatesRefusedByBe: be.duplicates().length,
    statusCodeResults: {
      total: republishes.length,
      republished: republishes.filter((r) => r.sent).length,
      byContent: countBy(republishes.map((r) => r.content)),
      notRepublished: j.rerequests.notRepublished,
      unanswered: j.rerequests.unanswered.length,
      unansweredExamples: j.rerequests.unanswered.slice(0, 10),
    },
    resultsBeCouldNotProcess: { count: j.unprocessed.length, examples: j.unprocessed.slice(0, 10) },
    resultDlq: j.resultDlq.length,
    settled: j.settled,
    requestDlq: {
      found: j.requestDlq.found,
      poisonMissing: j.requestDlq.poisonMissing,
      unexpected: j.requestDlq.unexpected,
      withoutReason: j.requestDlq.withoutReason,
    },
  };
}

/** The summary table, every figure taken from the report. */
export function summaryTable(report: Report, j: Pick<Judgement, 'offending' | 'failed'>): string {
  const { requests: rq, outcome: out, faults: f, options } = report;
  const v = out.verdict;
  const dlq = out.requestDlq;
  return formatTable([
    [
      'requests',
      `${rq.memberWeeks} member-weeks: ${rq.weekOne.members} in week ${rq.weekOne.week}, ${rq.weekTwo.members} identical bodies in week ${rq.weekTwo.week}; ` +
        `${rq.viaApi} API, ${rq.viaQueue} queue, ${rq.duplicateSends} duplicate sends, ${rq.poison} poison`,
    ],
    ['one real feedback per member-week', `${rq.memberWeeks - j.offending} / ${rq.memberWeeks}`],
    ['without feedback', String(v.missing)],
    ['status code stored as feedback', String(v.statusCodeStored)],
    ['delivered more often than requested', String(v.doubled)],
    ['filed under a week not expected', String(v.unexpectedWeek)],
    [
      'stored (queue / callback)',
      `${out.stored.viaQueue} / ${out.stored.viaCallback}; the BE refused ${out.duplicatesRefusedByBe} duplicates of a week`,
    ],
    [
      'status-code results',
      `${out.statusCodeResults.total} ${JSON.stringify(out.statusCodeResults.byContent)}, re-published ${out.statusCodeResults.republished}, ` +
        `not answered by a run ${out.statusCodeResults.unanswered}`,
    ],
    [
      'results the BE could not process',
      `${out.resultsBeCouldNotProcess.count} (result DLQ ${out.resultDlq})`,
    ],
    [
      'request DLQ',
      `${dlq.found} (poison missing ${dlq.poisonMissing}, unexpected ${dlq.unexpected}, without reason ${dlq.withoutReason})`,
    ],
    [
      'faults injected',
      `${f.workerKills} worker kills, ${f.bridgeKills} bridge kills, ` +
        (options.temporal === 'cluster'
          ? `${f.temporalRestarts} Temporal server SIGKILL, ${f.postgresCrashes} PostgreSQL crash (30 s), `
          : `${f.temporalRestarts} Temporal restart, `) +
        `${f.sqsOutages} SQS outage, ${f.vllmOutages} vLLM outage (${options.vllmDownMs / 1000} s), ` +
        `vLLM ${JSON.stringify(f.vllmInjected)}, callback ${JSON.stringify(f.callbackInjected.byStatus)} + ${f.callbackInjected.slow} slow, API 503s ${rq.api503Answers}`,
    ],
    ['callback attempts (by status)', `${f.callbackAttempts} ${JSON.stringify(f.callbackStatuses)}`],
    ['e2e time p50 / p99 (week one)', `${fmtMs(report.latencyMs.p50)} / ${fmtMs(report.latencyMs.p99)}`],
    [
      'recovery after worker kill (max per kill)',
      report.recoveryAfterWorkerKillMs
        .map((r) => (r.maxMs === undefined ? 'n/a' : fmtMs(r.maxMs)))
        .join(', '),
    ],
    [
      'settled (no run open, queues empty)',
      `week one ${out.settled.weekOne ? 'yes' : 'NO'}, week two ${out.settled.weekTwo ? 'yes' : 'NO'}`,
    ],
    [
      'verdict',
      j.failed ? 'FAILED' : 'PASSED: one real feedback per member and week, none lost, none a status code',
    ],
  ]);
}

/** Writes the report as chaos/results/<date>-n<N>[-quick][-cluster].json and returns the path. */
export function writeReport(report: Report): string {
  mkdirSync(RESULTS, { recursive: true });
  const file = join(
    RESULTS,
    `${report.date.slice(0, 10)}-n${report.options.n}${report.options.quick ? '-quick' : ''}${report.options.temporal === 'cluster' ? '-cluster' : ''}.json`,
  );
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  return file;
}

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}

function fmtMs(ms: number | undefined): string {
  return ms === undefined ? 'n/a' : ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}
