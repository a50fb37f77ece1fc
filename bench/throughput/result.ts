/** The throughput suite's result: the report assembled from the runs, written as JSON, Markdown and SVG. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { computeRatios, findRun, rawRunFor } from './figures';
import { computeGoals } from './goals';
import { rate } from './format';
import { RESULTS, SEND_CONCURRENCY } from './layout';
import { renderMarkdown } from './markdown';
import { maxOpenRuns, type Options } from './options';
import { ALL_SYSTEMS, CAPACITY, FULL_N, SCENARIOS, type SystemId } from './scenarios';
import type { Context } from './stack';
import { renderSvg } from './svg';
import type { ApiReport, BenchReport, RunReport } from './types';

/** What the suite has measured so far (also for a partial report when it fails). */
export interface RunState {
  ctx: Context;
  runs: RunReport[];
  started: number;
  loadAverageAtStart: number[];
}

/** Writes bench/results/<name>.{json,md,svg} and prints the summary and the file names. */
export function writeReport(state: RunState, api: ApiReport | undefined, partialRun: boolean): void {
  const { options } = state.ctx;
  const date = new Date().toISOString();
  const report: BenchReport = {
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    date,
    quick: options.quick,
    options: { ...options, systems: [...options.systems], scenarios: [...options.scenarios] },
    machine: {
      cpus: cpus().length,
      loadAverageAtStart: state.loadAverageAtStart,
      loadAverageAtEnd: loadavg(),
      node: process.version,
    },
    settings: settings(options),
    scenarios: SCENARIOS.filter((s) => options.scenarios.has(s.id)),
    runs: state.runs,
    api,
    ratios: [],
    wallSeconds: (Date.now() - state.started) / 1000,
  };
  report.ratios = computeRatios(report);
  report.goals = computeGoals(report);

  mkdirSync(RESULTS, { recursive: true });
  const name = resultName(date, options, partialRun);
  const files = { json: `${name}.json`, md: `${name}.md`, svg: `${name}.svg` };
  writeFileSync(join(RESULTS, files.json), JSON.stringify(report, null, 2) + '\n');
  writeFileSync(join(RESULTS, files.svg), renderSvg(report));
  writeFileSync(join(RESULTS, files.md), renderMarkdown(report, files.svg));

  process.stdout.write('\n' + consoleSummary(report) + '\n');
  process.stdout.write(
    `report: ${Object.values(files)
      .map((f) => join('bench', 'results', f))
      .join(', ')}\n`,
  );
}

/** `<date>[-quick][-n<N>][-subset][-cluster][-partial]`: a partial or subset run never overwrites the full report. */
function resultName(date: string, options: Options, partialRun: boolean): string {
  return (
    `${date.slice(0, 10)}${options.quick ? '-quick' : ''}` +
    `${options.n !== (options.quick ? 200 : FULL_N) ? `-n${options.n}` : ''}` +
    `${options.subset ? '-subset' : ''}${options.temporal === 'cluster' ? '-cluster' : ''}${partialRun ? '-partial' : ''}`
  );
}

/** The settings table of the report. */
function settings(options: Options): Record<string, string> {
  return {
    'simulator capacity C (maxNumSeqs)': `${CAPACITY} (l1-c8, l1-c16: 8, 16)`,
    'ours: processes': '1 sqs-bridge + 1 worker',
    'ours: BRIDGE_POLLERS': `${options.groupPollers} with one group, ${options.pollers} with a group per member`,
    'ours: BRIDGE_WAIT_TIME_SECONDS': '5',
    'ours: WORKER_MAX_CONCURRENT_ACTIVITIES': String(options.workerActivities),
    'ours: WORKER_MAX_CONCURRENT_WORKFLOW_TASKS': '100',
    'ours: DELIVERY_MODE': 'callback',
    LOG_LEVEL: options.logLevel,
    'plain consumer': 'sqs-consumer, batchSize 10, one consumer, waitTimeSeconds 5',
    'seed-style worker': `1 message per receive, 10 s wait, 1 s sleep; ${options.seedN} messages per scenario`,
    'plain consumer at L > 0': `${Math.min(options.slowN, options.n)} messages per scenario`,
    Temporal:
      options.temporal === 'cluster'
        ? 'cluster engine: server 1.32.2 on PostgreSQL 15, 4 history shards, SQL visibility (scripts/temporal-cluster.sh)'
        : 'dev server (SQLite)',
    ...(options.temporal === 'cluster'
      ? { 'Temporal dynamic config': 'infra/temporal/dynamicconfig.yaml' }
      : {
          'Temporal dev server SQLite pragmas': options.sqlitePragmas.join(', ') || 'SQLite defaults',
          'Temporal dev server dynamic config': options.devConfig.join(', ') || 'server defaults',
        }),
    'ours: WORKER_MAX_CACHED_WORKFLOWS':
      options.workerCache === undefined ? 'SDK default' : String(options.workerCache),
    'ours: NODE_OPTIONS': options.nodeOptions ?? 'none',
    'ours: more environment': Object.keys(options.oursEnv).length
      ? Object.entries(options.oursEnv)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ')
      : 'none',
    'ours: BRIDGE_MAX_OPEN_QUEUE_RUNS':
      options.bridgeMaxOpen === undefined ? 'default (1000)' : String(options.bridgeMaxOpen),
    'ElasticMQ warm-up': `${options.emqWarmup} messages before the first run`,
    'raw ceiling':
      `${options.n} no-op workflows, ${options.rawStartConcurrency} concurrent starts, same worker limits, ` +
      `at most ${maxOpenRuns(options) ?? 'unbounded'} runs open (ours' bridge bound)`,
    'harness sends': `SendMessage, ${SEND_CONCURRENCY} concurrent (burst runs)`,
  };
}

/** delivered/s per burst scenario and system, and the ratio table, for the terminal. */
function consoleSummary(report: BenchReport): string {
  const lines = [
    `delivered/s  ${'scenario'.padEnd(16)} ${['ours', 'seed', 'plain', 'raw'].map((s) => s.padStart(10)).join('')}`,
  ];
  for (const scenario of report.scenarios.filter((s) => s.mode === 'burst')) {
    const cell = (system: SystemId) => {
      const run = system === 'raw' ? rawRunFor(report, scenario) : findRun(report, scenario.id, system);
      return (run ? rate(run.deliveredPerSec) + (run.complete ? '' : '*') : '–').padStart(10);
    };
    lines.push(`             ${scenario.id.padEnd(16)} ${ALL_SYSTEMS.map(cell).join('')}`);
  }
  lines.push('', "ratio to this machine's limit:");
  for (const g of report.goals ?? []) {
    const mark = g.pass === undefined ? 'n/a ' : g.pass ? 'PASS' : 'FAIL';
    lines.push(`  ${mark}  ${g.name}: ${g.measured} (wanted ${g.goal}) — ${g.from}`);
  }
  return lines.join('\n');
}
