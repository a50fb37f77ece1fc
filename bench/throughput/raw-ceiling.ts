/**
 * The raw Temporal ceiling's run: no-op workflows started as fast as possible, or paced at a fixed rate,
 * or (held) started as fast as possible with the middle activity taking a scenario's L, C at a time.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitForHttp } from '../../harness/processes';
import { sleep } from '../../harness/util';
import type { RawStarterResult, RawWorkerStats } from '../baselines/raw-temporal';
import { ms } from './format';
import { BUILD, DATA, PORTS } from './layout';
import { machineCpu, quantiles, sharedCpu, snapshotCpu, stopReports, waitFor } from './measure';
import { exitWatch } from '../../harness/processes';
import { startProcess, stopProcesses } from './processes';
import { maxOpenRuns } from './options';
import type { Scenario } from './scenarios';
import type { Context } from './stack';
import type { RunReport } from './types';

/**
 * As fast as the starter can start them; `paced` at a fixed rate (open loop); or `held`: as fast as
 * possible, the middle activity taking the scenario's L with C at a time (runs wait in the worker's
 * cache like ours', for the worker memory they hold).
 */
export async function runRawCeiling(
  ctx: Context,
  n: number,
  variant?: { paced: { scenario: Scenario; rate: number } } | { held: Scenario },
): Promise<RunReport> {
  const paced = variant && 'paced' in variant ? variant.paced : undefined;
  const held = variant && 'held' in variant ? variant.held : undefined;
  const scenario = paced?.scenario ?? held;
  const tag = `${String(ctx.runIndex).padStart(2, '0')}-raw`;
  const resultFile = join(DATA, `raw-starter-${tag}.json`);
  const env = {
    ...rawEnv(ctx, tag, n, resultFile, paced?.rate),
    ...(held ? { RAW_HOLD_MS: String(held.latencyMs), RAW_HOLD_SLOTS: String(held.capacity) } : {}),
  };
  const script = join(BUILD, 'raw-temporal.js');
  const names = ['raw-worker', 'raw-starter'];
  // The worker logs its memory like ours with --memory-log, so that the two compare thread by thread.
  const worker = startProcess(ctx, 'raw-worker', [script, 'worker'], {
    ...env,
    ...(ctx.options.memoryLog ? { NODE_OPTIONS: `--require ${join(BUILD, 'memory-log.js')}` } : {}),
  });
  let exited = Promise.race([exitWatch(ctx.stopping, [worker]), ctx.sharedExited]);
  const notes: string[] = [];
  let stopping = false;
  const stats = async () =>
    (await (await fetch(`http://127.0.0.1:${PORTS.rawStats}/stats`)).json()) as RawWorkerStats;
  try {
    await Promise.race([waitForHttp(`http://127.0.0.1:${PORTS.rawStats}/stats`, 60_000), exited]);
    const cpuBefore = snapshotCpu(ctx, names);
    const starter = startProcess(ctx, 'raw-starter', [script, 'starter'], env);
    exited = Promise.race([exitWatch(ctx.stopping, [worker, starter]), ctx.sharedExited]);
    const deadline =
      Date.now() + (n / 20) * 2000 + 90_000 + (held ? (n / held.capacity) * held.latencyMs : 0);
    let current = await stats();
    while (current.completed < n && Date.now() < deadline) {
      ctx.progress.render(ctx.progressBase + current.completed, `${scenario?.id ?? 'raw-ceiling'} / raw`);
      await Promise.race([sleep(500), exited]);
      current = await stats();
    }
    await Promise.race([
      waitFor(() => existsSync(resultFile), 30_000, 'raw starter wrote no result'),
      exited,
    ]);
    const cpuAfter = snapshotCpu(ctx, names);
    const started = JSON.parse(readFileSync(resultFile, 'utf8')) as RawStarterResult;
    if (current.completed < n) notes.push(`only ${current.completed} of ${n} completed before the deadline`);
    notes.push(
      `${started.started} starts (${started.failedStarts} failed), start call p50 ${ms(started.startLatencyMs.p50)} ` +
        `p99 ${ms(started.startLatencyMs.p99)}; starter CPU includes its warm-up workflow`,
    );
    if (held)
      notes.push(
        `the middle activity takes ${ms(held.latencyMs)} on a task queue of its own, ${held.capacity} at a time`,
      );
    if (!paced && started.maxOpen !== undefined)
      notes.push(
        `at most ${started.maxOpen} runs open (the bridge's bound on ours); ${started.peakOpen} at the most`,
      );
    const durationMs = current.lastAt !== undefined ? current.lastAt - started.firstStartAt : undefined;
    const processReports = stopReports(ctx, names, cpuBefore, cpuAfter);
    stopping = true;
    await stopProcesses(ctx, names);
    return {
      scenario: scenario?.id ?? 'raw-ceiling',
      system: 'raw',
      mode: paced ? 'paced' : held ? 'burst' : 'start',
      ...(paced ? { offeredRatePerSec: paced.rate, latencyMs: 0 } : {}),
      ...(held ? { latencyMs: held.latencyMs, capacity: held.capacity } : {}),
      maxOpenRuns: started.maxOpen,
      peakOpenRuns: started.peakOpen,
      requested: n,
      delivered: current.completed,
      complete: current.completed >= n,
      durationMs,
      deliveredPerSec: durationMs ? current.completed / (durationMs / 1000) : undefined,
      e2eMs: quantiles(current.latenciesMs),
      overheadMs: {},
      processes: processReports,
      sharedCpuSecondsDuringRun: sharedCpu(cpuBefore, cpuAfter),
      machineCpu: machineCpu(cpuBefore, cpuAfter),
      notes,
    };
  } finally {
    if (!stopping) await stopProcesses(ctx, names, 'SIGKILL');
  }
}

/** The raw worker's and starter's environment: the same Temporal and worker limits as ours. */
function rawEnv(ctx: Context, tag: string, n: number, resultFile: string, rate?: number): NodeJS.ProcessEnv {
  return {
    LOG_LEVEL: ctx.options.logLevel,
    TEMPORAL_ADDRESS: `127.0.0.1:${PORTS.temporal}`,
    TEMPORAL_TASK_QUEUE: `bench-${tag}`,
    WORKER_MAX_CONCURRENT_ACTIVITIES: String(ctx.options.workerActivities),
    WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '100',
    RAW_N: String(n),
    RAW_START_CONCURRENCY: String(ctx.options.rawStartConcurrency),
    ...(rate !== undefined ? { RAW_RATE: String(rate) } : {}),
    // As many runs open at most as ours has (the bridge's bound), so that the workers' memory compares.
    RAW_MAX_OPEN: String(maxOpenRuns(ctx.options) ?? 0),
    RAW_STATS_PORT: String(PORTS.rawStats),
    RAW_RESULT_FILE: resultFile,
    RAW_BUNDLE_PATH: join(DATA, 'noop-workflow-bundle.js'),
  };
}
