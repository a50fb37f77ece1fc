/**
 * `npm run bench [-- options]` (options: docs/benchmarks.md): the throughput suite, ours next to three
 * baselines on a stack of its own. Steps: options, stack, planned runs, the API alone, the report.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { exitWatch, ProcessGroup } from '../harness/processes';
import { ProgressBar } from '../harness/util';
import { runApi } from './throughput/api-run';
import { DATA, PROFILES } from './throughput/layout';
import { parseArgs } from './throughput/options';
import { executeRun, pacedRate, planRuns, type PlannedRun } from './throughput/plan';
import { runQueueSystem } from './throughput/queue-run';
import { runRawCeiling } from './throughput/raw-ceiling';
import { writeReport, type RunState } from './throughput/result';
import { startStack, type Context } from './throughput/stack';
import type { RunReport } from './throughput/types';

async function main(): Promise<void> {
  const started = Date.now();
  const options = parseArgs(process.argv.slice(2));
  rmSync(DATA, { recursive: true, force: true });
  mkdirSync(join(DATA, 'logs'), { recursive: true });
  if (options.cpuProfile) mkdirSync(PROFILES, { recursive: true });
  const group = new ProcessGroup(join(DATA, 'logs'));
  cleanup = () => group.stopAll('SIGKILL');
  const loadAverageAtStart = loadavg();

  const stack = await startStack(options, group);
  const plan = planRuns(options);
  const stopping = new Set<string>();
  const ctx: Context = {
    ...stack,
    options,
    group,
    sharedExited: exitWatch(stopping, Object.values(stack.shared)),
    stopping,
    progress: new ProgressBar(plan.reduce((sum, p) => sum + p.n, 0)),
    progressBase: 0,
    started: new Map(),
    runIndex: 0,
    oursMaxRate: new Map(),
  };

  const runs: RunReport[] = [];
  partial = { ctx, runs, started, loadAverageAtStart };
  for (const planned of plan) await executeRun(ctx, runs, () => runPlanned(ctx, planned));
  ctx.progress.finish();

  const api = options.api ? await runApi(ctx) : undefined;
  writeReport({ ctx, runs, started, loadAverageAtStart }, api, false);
  for (const p of Object.values(stack.shared)) stopping.add(p.name);
  await group.stopAll('SIGTERM');
  stack.sqs.destroy();
}

function runPlanned(ctx: Context, { scenario, system, n }: PlannedRun): Promise<RunReport> {
  if (scenario === undefined) return runRawCeiling(ctx, n);
  if (system !== 'raw') return runQueueSystem(ctx, scenario, system, n);
  return scenario.mode === 'paced'
    ? runRawCeiling(ctx, n, { paced: { scenario, rate: pacedRate(ctx, scenario) } })
    : runRawCeiling(ctx, n, { held: scenario });
}

/** The state of the bench so far, for a partial report when it fails. */
let partial: RunState | undefined;
let cleanup: () => Promise<void> = async () => undefined;

main().catch(async (err: unknown) => {
  process.stderr.write(`\nbench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  if (partial && partial.runs.length > 0) {
    try {
      writeReport(partial, undefined, true);
    } catch (reportErr) {
      process.stderr.write(`could not write the partial report: ${String(reportErr)}\n`);
    }
  }
  await cleanup();
  process.exit(2);
});
// Interrupted (Ctrl-C, or a SIGTERM from outside): keep what was measured, stop what we started.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (partial && partial.runs.length > 0) {
      try {
        writeReport(partial, undefined, true);
      } catch {
        // nothing more to save
      }
    }
    void cleanup().then(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}
