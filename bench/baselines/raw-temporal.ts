/**
 * Baseline "raw Temporal ceiling": how many no-op workflows (three no-op activities each) the same dev
 * server completes per second, with workers and starters like ours. Three roles, one per process:
 *
 *   raw-temporal.js bundle <out.js>   bundles noop-workflow once (before the measurement)
 *   raw-temporal.js worker            runs the workflow; GET /stats on RAW_STATS_PORT reports completions;
 *                                     with RAW_HOLD_MS, a second Worker (like ours' LLM Worker) runs the
 *                                     middle activity on its own task queue, RAW_HOLD_SLOTS at a time
 *   raw-temporal.js starter           starts RAW_N workflows, RAW_START_CONCURRENCY at a time (or
 *                                     RAW_RATE per second, open loop: the latency floor at that rate),
 *                                     at most RAW_MAX_OPEN runs open at once (like the bridge's bound),
 *                                     writes RAW_RESULT_FILE and waits for SIGTERM (so its /proc can be read)
 *
 * Temporal address, namespace, task queue and worker limits come from the same environment variables
 * as our worker (TEMPORAL_*, WORKER_MAX_CONCURRENT_*).
 */
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { z } from 'zod';
import { paced, percentile, sleep } from '../../harness/util';
import { loadConfig } from '../../src/config';
import { untilStopSignal } from './common';
import { createNoopActivities } from './noop-activities';
import type { NoopWorkflow } from './noop-workflow';

/** Workflows whose id starts with this are measured; the starter's warm-up run is not. */
export const MEASURED_PREFIX = 'raw-';

export interface RawWorkerStats {
  completed: number;
  firstAt?: number;
  lastAt?: number;
  /** Per workflow: from the client's start call to the third activity, in ms. */
  latenciesMs: number[];
}

export interface RawStarterResult {
  started: number;
  failedStarts: number;
  firstStartAt: number;
  lastStartAt: number;
  startLatencyMs: { p50?: number; p99?: number };
  /** RAW_MAX_OPEN, and the most runs started and not completed at one time (from the worker's stats). */
  maxOpen?: number;
  peakOpen: number;
}

const rawEnvSchema = z.object({
  RAW_N: z.coerce.number().int().min(1).default(1000),
  RAW_START_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(50),
  /** Starts per second at a fixed pace instead of as fast as possible. */
  RAW_RATE: z.coerce.number().positive().optional(),
  /** Runs started and not completed at most (0: no bound), as BRIDGE_MAX_OPEN_QUEUE_RUNS bounds ours. */
  RAW_MAX_OPEN: z.coerce.number().int().min(0).default(0),
  RAW_STATS_PORT: z.coerce.number().int().min(1).max(65535).default(14802),
  RAW_RESULT_FILE: z.string().min(1).default('raw-starter-result.json'),
  RAW_BUNDLE_PATH: z.string().min(1).default('noop-workflow-bundle.js'),
  /** The middle activity takes this long, on a task queue of its own (0: a no-op like the others). */
  RAW_HOLD_MS: z.coerce.number().int().min(0).default(0),
  /** How many of those at a time (C, like the simulator's maxNumSeqs for ours). */
  RAW_HOLD_SLOTS: z.coerce.number().int().min(1).default(64),
});

/** The held activity's task queue, next to the workflow's. */
const holdQueue = (taskQueue: string) => `${taskQueue}-hold`;

async function bundle(out: string): Promise<void> {
  const quiet = () => undefined;
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('./noop-workflow'),
    logger: { trace: quiet, debug: quiet, info: quiet, log: quiet, warn: console.warn, error: console.error },
  });
  await writeFile(out, code);
}

async function runWorker(): Promise<void> {
  const config = loadConfig(process.env);
  const env = rawEnvSchema.parse(process.env);
  // No SDK signal handlers: this process decides when the worker shuts down.
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  const stats: RawWorkerStats = { completed: 0, latenciesMs: [] };
  const activities = createNoopActivities(
    {
      record(startedAt, workflowId) {
        if (!workflowId.startsWith(MEASURED_PREFIX)) return;
        const now = Date.now();
        stats.completed += 1;
        stats.firstAt ??= now;
        stats.lastAt = now;
        stats.latenciesMs.push(now - startedAt);
      },
    },
    env.RAW_HOLD_MS,
  );
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowBundle: { codePath: env.RAW_BUNDLE_PATH },
    activities,
    maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentActivities,
    maxConcurrentLocalActivityExecutions: config.worker.maxConcurrentActivities,
    maxConcurrentWorkflowTaskExecutions: config.worker.maxConcurrentWorkflowTasks,
    shutdownGraceTime: '10 seconds',
  });
  const holdWorker =
    env.RAW_HOLD_MS > 0
      ? await Worker.create({
          connection,
          namespace: config.temporal.namespace,
          taskQueue: holdQueue(config.temporal.taskQueue),
          activities: { noopB: activities.noopB },
          maxConcurrentActivityTaskExecutions: env.RAW_HOLD_SLOTS,
          shutdownGraceTime: '10 seconds',
        })
      : undefined;
  // GET /completed: the count alone, which the starter reads often (its bound on open runs).
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(req.url === '/completed' ? { completed: stats.completed } : stats));
  });
  await new Promise<void>((resolve) => server.listen(env.RAW_STATS_PORT, '127.0.0.1', resolve));
  const running = Promise.all([worker.run(), holdWorker?.run()]);
  await Promise.race([untilStopSignal(), running]);
  worker.shutdown();
  holdWorker?.shutdown();
  await running;
  server.close();
  await connection.close();
}

async function runStarter(): Promise<void> {
  const config = loadConfig(process.env);
  const env = rawEnvSchema.parse(process.env);
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const taskQueue = config.temporal.taskQueue;
  const start = (workflowId: string) =>
    client.workflow.start<typeof NoopWorkflow>('NoopWorkflow', {
      taskQueue,
      workflowId,
      args: env.RAW_HOLD_MS > 0 ? [Date.now(), holdQueue(taskQueue)] : [Date.now()],
    });

  // One run through the worker first: connections open, workflow code loaded.
  await (await start(`warmup-${taskQueue}`)).result();

  const latencies: number[] = [];
  let next = 0;
  let failedStarts = 0;
  const open = openRuns(env.RAW_STATS_PORT);
  const startOne = async (i: number) => {
    open.peak = Math.max(open.peak, i + 1 - open.completed);
    const t0 = performance.now();
    try {
      await start(`${MEASURED_PREFIX}${taskQueue}-${i}`);
      latencies.push(performance.now() - t0);
    } catch {
      failedStarts += 1;
    }
  };
  const firstStartAt = Date.now();
  if (env.RAW_RATE !== undefined) {
    await paced(env.RAW_N, env.RAW_RATE, startOne);
  } else {
    await Promise.all(
      Array.from({ length: Math.min(env.RAW_START_CONCURRENCY, env.RAW_N) }, async () => {
        while (next < env.RAW_N) {
          // The bound: wait for completions (the worker's count) before starting more.
          while (env.RAW_MAX_OPEN > 0 && next - open.completed >= env.RAW_MAX_OPEN) await sleep(100);
          if (next < env.RAW_N) await startOne(next++);
        }
      }),
    );
  }
  open.stop();
  const result: RawStarterResult = {
    started: latencies.length,
    failedStarts,
    firstStartAt,
    lastStartAt: Date.now(),
    startLatencyMs: { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) },
    maxOpen: env.RAW_MAX_OPEN > 0 ? env.RAW_MAX_OPEN : undefined,
    peakOpen: open.peak,
  };
  writeFileSync(env.RAW_RESULT_FILE, JSON.stringify(result));
  await untilStopSignal();
  await connection.close();
}

/** The worker's completed count, read every 250 ms, and the most runs open at a start so far. */
function openRuns(statsPort: number): { completed: number; peak: number; stop(): void } {
  const state = { completed: 0, peak: 0, stop: () => clearInterval(timer) };
  let reading = false;
  const timer = setInterval(() => {
    if (reading) return;
    reading = true;
    fetch(`http://127.0.0.1:${statsPort}/completed`)
      .then(async (res) => {
        state.completed = ((await res.json()) as { completed: number }).completed;
      })
      .catch(() => undefined)
      .finally(() => {
        reading = false;
      });
  }, 250);
  return state;
}

async function main(): Promise<void> {
  const role = process.argv[2];
  if (role === 'bundle') await bundle(process.argv[3] ?? rawEnvSchema.parse(process.env).RAW_BUNDLE_PATH);
  else if (role === 'worker') await runWorker();
  else if (role === 'starter') await runStarter();
  else throw new Error(`unknown role ${role ?? '(none)'}: use bundle <out>, worker or starter`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`raw-temporal: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
