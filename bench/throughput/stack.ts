/**
 * The throughput suite's shared stack, for all runs: Temporal (the dev server, or with `--temporal cluster`
 * a server on PostgreSQL), ElasticMQ, vLLM simulator.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import {
  elasticMqFailure,
  restartUntilReady,
  startElasticMq,
  startTemporalDevServer,
  temporalHealthy,
} from '../../harness/infra';
import { startTemporalCluster, waitForPostgres } from '../../harness/cluster';
import {
  exitWatch,
  type ManagedProcess,
  type ProcessGroup,
  refuseTakenPorts,
  waitForHttp,
} from '../../harness/processes';
import { pool, type ProgressBar } from '../../harness/util';
import { createSqsClient, ensureFeedbackQueues } from '../../src/shared/sqs';
import { BE_GROUP, CREDENTIALS, REGION, sendRequest } from '../requests';
import { BUILD, DATA, PORTS, SEND_CONCURRENCY, SIMULATOR_URL, ROOT } from './layout';
import type { Options } from './options';
import { CAPACITY } from './scenarios';

export type SharedName = 'temporal' | 'elasticmq' | 'simulator' | 'postgres';

export interface Stack {
  sqs: SQSClient;
  /** PostgreSQL on the cluster engine only. */
  shared: Record<Exclude<SharedName, 'postgres'>, ManagedProcess> & { postgres?: ManagedProcess };
}

/** What every run needs: the process group, an SQS client, the shared processes, the progress bar. */
export interface Context extends Stack {
  options: Options;
  group: ProcessGroup;
  /** Rejects when a shared process exits without the harness asking. */
  sharedExited: Promise<never>;
  /** Names of the processes the harness is stopping (their exit is expected). */
  stopping: Set<string>;
  progress: ProgressBar;
  progressBase: number;
  /** The processes started for the runs, by name (the latest start of each name). */
  started: Map<string, ManagedProcess>;
  runIndex: number;
  /** The highest delivered/s of ours per latency, for the paced runs. */
  oursMaxRate: Map<number, number>;
}

/** Starts the shared processes, warms ElasticMQ up and bundles the raw ceiling's workflow if it runs. */
export async function startStack(options: Options, group: ProcessGroup): Promise<Stack> {
  const node = process.execPath;
  const cluster = options.temporal === 'cluster';
  // Never a server this run did not start (the cluster engine's start checks its own further ports).
  await refuseTakenPorts(PORTS);
  process.stderr.write(
    `[bench] starting ${cluster ? 'PostgreSQL and the Temporal server' : 'Temporal dev server'}, ElasticMQ and the vLLM simulator\n`,
  );
  const [engine, elasticmq] = await Promise.all([
    cluster
      ? startTemporalCluster(group, {
          port: PORTS.temporal,
          pgPort: PORTS.postgres,
          dataDir: DATA,
        })
      : startTemporalDevServer(group, {
          port: PORTS.temporal,
          httpPort: PORTS.temporalHttp,
          metricsPort: PORTS.temporalMetrics,
          dbFile: join(DATA, 'temporal.db'),
          home: DATA,
          extraArgs: options.sqlitePragmas.map((p) => `--sqlite-pragma=${p}`),
          dynamicConfig: options.devConfig,
        }).then((temporal) => ({ temporal, postgres: undefined })),
    startElasticMq(group, { port: PORTS.sqs }),
  ]);
  const { temporal, postgres } = engine;
  const simulator = group.start(
    'vllm-simulator',
    node,
    [join(ROOT, 'dist', 'dev', 'vllm-simulator', 'main.js')],
    {
      LOG_LEVEL: 'warn',
      VLLM_SIM_PORT: String(PORTS.vllm),
      VLLM_SIM_HOST: '127.0.0.1',
      VLLM_SIM_MAX_NUM_SEQS: String(CAPACITY),
      VLLM_SIM_LATENCY_MS: '0',
    },
  );
  await waitForHttp(`${SIMULATOR_URL}/health`);
  const sqs = createSqsClient(
    { region: REGION, endpoint: `http://127.0.0.1:${PORTS.sqs}`, requestTimeoutMs: 10_000 },
    { credentials: CREDENTIALS },
  );
  await warmUpQueue(sqs, options.emqWarmup);
  if (options.systems.has('raw')) {
    await execFileAsync(node, [
      join(BUILD, 'raw-temporal.js'),
      'bundle',
      join(DATA, 'noop-workflow-bundle.js'),
    ]);
  }
  return { sqs, shared: { temporal, elasticmq, simulator, ...(postgres ? { postgres } : {}) } };
}

/** Restarts the shared processes that are down (another session on the machine may kill them). */
export async function reviveShared(ctx: Context): Promise<void> {
  const down = (Object.entries(ctx.shared) as Array<[SharedName, ManagedProcess]>).filter(
    ([, p]) => p.child?.exitCode !== null || p.child?.signalCode !== null,
  );
  // The database before the server that needs it.
  down.sort(([a], [b]) => Number(b === 'postgres') - Number(a === 'postgres'));
  for (const [name, managed] of down) {
    process.stderr.write(`[bench] restarting ${managed.name}\n`);
    if (name === 'temporal')
      await restartUntilReady(ctx.group, managed.name, () => temporalHealthy(`127.0.0.1:${PORTS.temporal}`));
    else if (name === 'postgres') await waitForPostgres(PORTS.postgres, ctx.group.restart(managed.name));
    else if (name === 'elasticmq') {
      ctx.group.restart(managed.name);
      await waitForHttp(`http://127.0.0.1:${PORTS.sqs}/?Action=ListQueues`, undefined, () =>
        elasticMqFailure(ctx.group, managed, PORTS.sqs),
      );
    } else {
      ctx.group.restart(managed.name);
      await waitForHttp(`${SIMULATOR_URL}/health`);
    }
  }
  ctx.sharedExited = exitWatch(ctx.stopping, Object.values(ctx.shared));
}

/** Sends, receives and deletes `count` messages: ElasticMQ runs on the JVM, whose JIT needs the traffic. */
async function warmUpQueue(sqs: SQSClient, count: number): Promise<void> {
  if (count <= 0) return;
  process.stderr.write(`[bench] warming up ElasticMQ with ${count} messages\n`);
  const queues = await ensureFeedbackQueues(sqs, 'bench-warmup');
  await pool(
    Array.from({ length: count }, (_, i) => i),
    SEND_CONCURRENCY,
    async (i) => {
      await sendRequest(
        sqs,
        queues.requestQueueUrl,
        900_000_000 + i,
        i % 2 ? BE_GROUP : String(900_000_000 + i),
      );
    },
  );
  let received = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (received < count) {
        const out = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queues.requestQueueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
          }),
        );
        const messages = out.Messages ?? [];
        received += messages.length;
        if (messages.length === 0) continue;
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queues.requestQueueUrl,
            Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
          }),
        );
      }
    }),
  );
}

function execFileAsync(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile(command, args, (err, _stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(),
    ),
  );
}
