/** The flow suite's stack: shared ElasticMQ and simulator; per run a fresh dev server and our processes. */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { DEV_SERVER_DYNAMIC_CONFIG, startElasticMq, startTemporalDevServer } from '../../harness/infra';
import { type ProcessGroup, refuseTakenPorts, waitForHttp } from '../../harness/processes';
import type { ProgressBar } from '../../harness/util';
import { createSqsClient, ensureFeedbackQueues, type FeedbackQueues } from '../../src/shared/sqs';
import { benchEnv, CREDENTIALS, REGION } from '../requests';
import { MAX_OPEN_QUEUE_RUNS, PENALTY, TARGET_WAITING, type LimitMode } from './options';

const ROOT = join(__dirname, '..', '..');
export const DATA = join(ROOT, '.data', 'bench-flow');
/** Below 32768, outside Linux's ephemeral range (bench/throughput/layout.ts). */
export const PORTS = { temporal: 11233, sqs: 12324, vllm: 11800, api: 11000, workerHealth: 11092 };
export const SIM = `http://127.0.0.1:${PORTS.vllm}`;

export interface Stack {
  group: ProcessGroup;
  sqs: SQSClient;
  progress: ProgressBar;
}

/** ElasticMQ and the vLLM simulator (with the over-commitment penalty), and an SQS client. */
export async function startShared(group: ProcessGroup): Promise<SQSClient> {
  // Never a server this run did not start.
  await refuseTakenPorts(PORTS);
  process.stderr.write('[bench:flow] starting ElasticMQ and the vLLM simulator\n');
  await startElasticMq(group, { port: PORTS.sqs });
  group.start('vllm-simulator', process.execPath, [join(ROOT, 'dist', 'dev', 'vllm-simulator', 'main.js')], {
    LOG_LEVEL: 'warn',
    VLLM_SIM_PORT: String(PORTS.vllm),
    VLLM_SIM_HOST: '127.0.0.1',
    VLLM_SIM_MAX_NUM_SEQS: '64',
    VLLM_SIM_LATENCY_MS: '1000',
    VLLM_SIM_OVERCOMMIT_PENALTY: String(PENALTY),
  });
  await waitForHttp(`${SIM}/health`);
  return createSqsClient(
    { region: REGION, endpoint: `http://127.0.0.1:${PORTS.sqs}`, requestTimeoutMs: 10_000 },
    { credentials: CREDENTIALS },
  );
}

export interface RunStack {
  tag: string;
  queues: FeedbackQueues;
  names: string[];
  stop(): Promise<void>;
}

/** A fresh dev server and our processes for one run. */
export async function startRun(
  stack: Stack,
  tag: string,
  mode: LimitMode,
  fixedLimit: number,
  callbackUrl: string,
  withApi: boolean,
): Promise<RunStack> {
  const dbFile = join(DATA, `temporal-${tag}.db`);
  const temporal = `temporal-${tag}`;
  // The previous run's processes are gone: anything on these ports is not this run's.
  const { temporal: temporalPort, api, workerHealth } = PORTS;
  await refuseTakenPorts({ temporal: temporalPort, api, workerHealth });
  await startTemporalDevServer(stack.group, {
    port: PORTS.temporal,
    dbFile,
    home: DATA,
    name: temporal,
    dynamicConfig: DEV_SERVER_DYNAMIC_CONFIG,
  });
  const queues = await ensureFeedbackQueues(stack.sqs, `flow-${tag}`, { visibilityTimeoutSeconds: 60 });
  const env = runEnv(tag, queues, mode, fixedLimit, callbackUrl);
  const node = process.execPath;
  const dist = (path: string) => join(ROOT, 'dist', 'src', path);
  const specs: Array<[string, string]> = [
    [`worker-${tag}`, dist('worker/main.js')],
    [`bridge-${tag}`, dist('sqs-bridge/main.js')],
    ...(withApi ? ([[`api-${tag}`, dist('api/main.js')]] as Array<[string, string]>) : []),
  ];
  for (const [name, script] of specs) stack.group.start(name, node, [script], env);
  await waitForHttp(`http://127.0.0.1:${PORTS.workerHealth}/health`);
  if (withApi) await waitForHttp(`http://127.0.0.1:${PORTS.api}/health`);
  const names = [...specs.map(([name]) => name), temporal];
  return {
    tag,
    queues,
    names,
    async stop() {
      for (const name of names)
        await stack.group.stop(name, name.startsWith('temporal') ? 'SIGTERM' : 'SIGKILL');
      if (existsSync(dbFile)) rmSync(dbFile, { force: true });
    },
  };
}

function runEnv(
  tag: string,
  queues: FeedbackQueues,
  mode: LimitMode,
  fixedLimit: number,
  callbackUrl: string,
): NodeJS.ProcessEnv {
  return {
    ...benchEnv({
      temporalAddress: `127.0.0.1:${PORTS.temporal}`,
      taskQueue: `flow-${tag}`,
      sqsEndpoint: `http://127.0.0.1:${PORTS.sqs}`,
      queues,
      apiPort: PORTS.api,
      vllmUrl: SIM,
      callbackUrl,
    }),
    LOG_LEVEL: 'info',
    WORKER_HEALTH_PORT: String(PORTS.workerHealth),
    BRIDGE_POLLERS: '4',
    BRIDGE_MAX_OPEN_QUEUE_RUNS: String(MAX_OPEN_QUEUE_RUNS),
    BRIDGE_WAIT_TIME_SECONDS: '2',
    VLLM_TIMEOUT_SECONDS: '300',
    VLLM_HEARTBEAT_SECONDS: '30',
    WORKER_MAX_CONCURRENT_ACTIVITIES: '300',
    LLM_CONCURRENCY_MODE: mode,
    LLM_CONCURRENCY_MAX: String(mode === 'fixed' ? fixedLimit : 256),
    LLM_CONCURRENCY_TARGET_WAITING: String(TARGET_WAITING),
  };
}

export const setCapacity = (maxNumSeqs: number) =>
  fetch(`${SIM}/sim/capacity`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ maxNumSeqs }),
  });
