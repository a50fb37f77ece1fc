/**
 * The stack a chaos run works against: Temporal, ElasticMQ behind a TCP proxy, the vLLM simulator behind
 * another, the BE double, two workers, two bridges and the API; and how to take it all down again.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { Client, Connection } from '@temporalio/client';
import { loadConfig, type AppConfig } from '../src/config';
import { createBeDouble, type BeDouble } from '../dev/be-double';
import { createSqsClient, ensureFeedbackQueues, type FeedbackQueues } from '../src/shared/sqs';
import { startTcpProxy, type TcpProxy } from '../dev/tcp-proxy';
import { callbackFaults, VLLM_FAULT_RULES } from './injected-faults';
import { startElasticMq, startTemporalDevServer } from '../harness/infra';
import { clusterPorts, startTemporalCluster, type TemporalEngine } from '../harness/cluster';
import { ProcessGroup, refuseTakenPorts, waitForHttp } from '../harness/processes';

const ROOT = join(__dirname, '..');
const DATA = join(ROOT, '.data', 'chaos');
const PORTS = { temporal: 27233, sqs: 29324, sqsProxy: 29325, vllm: 28800, vllmProxy: 28801, api: 28000 };
/** The cluster engine's PostgreSQL (`--temporal cluster`). */
const PG_PORT = 27433;
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
/** The double's clock starts on a Wednesday noon in Seoul, so a run never crosses a week by itself. */
const WEEK_ONE_NOW = Date.parse('2026-06-17T12:00:00+09:00');

export interface Stack {
  group: ProcessGroup;
  be: BeDouble;
  /** The BE double's SQS client, through the proxy. */
  beSqs: SQSClient;
  /** Straight to ElasticMQ, for the run's own looks at the queues. */
  direct: SQSClient;
  /** Queue URLs straight to ElasticMQ. */
  queues: FeedbackQueues;
  /** The same queues through the proxy, as the service and the BE double see them. */
  proxied: FeedbackQueues;
  sqsProxy: TcpProxy;
  vllmProxy: TcpProxy;
  temporalConnection: Connection;
  temporal: Client;
  /** The simulator itself, not its proxy. */
  vllmUrl: string;
  apiUrl: string;
  engine: TemporalEngine;
  temporalAddress: string;
  /** The cluster engine's PostgreSQL port. */
  pgPort: number;
}

/** Empties the run's data directory and returns the group its processes will run in. */
export function freshProcessGroup(): ProcessGroup {
  rmSync(DATA, { recursive: true, force: true });
  mkdirSync(join(DATA, 'logs'), { recursive: true });
  return new ProcessGroup(join(DATA, 'logs'));
}

/** Starts everything and returns once the API answers. */
export async function startStack(
  group: ProcessGroup,
  options: { delivery: 'queue' | 'both'; temporal: TemporalEngine },
  random: () => number,
): Promise<Stack> {
  await refuseTakenPorts(
    options.temporal === 'cluster'
      ? { ...PORTS, ...clusterPorts({ port: PORTS.temporal, pgPort: PG_PORT }) }
      : PORTS,
  );
  const config = loadConfig();
  if (options.temporal === 'cluster') {
    await startTemporalCluster(group, { port: PORTS.temporal, pgPort: PG_PORT, dataDir: DATA });
  } else {
    await startTemporalDevServer(group, {
      port: PORTS.temporal,
      dbFile: join(DATA, 'temporal.db'),
      home: DATA,
    });
  }
  await startElasticMq(group, { port: PORTS.sqs });
  const sqsProxy = await startTcpProxy(PORTS.sqsProxy, PORTS.sqs);
  const direct = createSqsClient(
    { ...config.sqs, endpoint: `http://127.0.0.1:${PORTS.sqs}` },
    { credentials: CREDENTIALS, requestTimeoutMs: 10_000 },
  );
  const queues = await ensureFeedbackQueues(direct, 'chaos-feedback', { visibilityTimeoutSeconds: 30 });
  const viaProxy = (url: string) => url.replace(`:${PORTS.sqs}/`, `:${PORTS.sqsProxy}/`);
  const proxied: FeedbackQueues = {
    requestQueueUrl: viaProxy(queues.requestQueueUrl),
    dlqUrl: viaProxy(queues.dlqUrl),
    resultQueueUrl: viaProxy(queues.resultQueueUrl),
    resultDlqUrl: viaProxy(queues.resultDlqUrl),
  };
  const { be, beSqs } = createBe(config, proxied);
  const callbackUrl = await be.listen(0);
  be.setFaults(callbackFaults(random));
  const temporalConnection = await Connection.connect({ address: `127.0.0.1:${PORTS.temporal}` });
  const temporal = new Client({ connection: temporalConnection });

  const env = serviceEnv(config, proxied, callbackUrl, options.delivery);
  const vllmProxy = await startService(group, env);
  be.startSubscriber(); // the BE's result-queue subscriber and result-DLQ poller
  return {
    group,
    be,
    beSqs,
    direct,
    queues,
    proxied,
    sqsProxy,
    vllmProxy,
    temporalConnection,
    temporal,
    vllmUrl: `http://127.0.0.1:${PORTS.vllm}`,
    apiUrl: `http://127.0.0.1:${PORTS.api}`,
    engine: options.temporal,
    temporalAddress: `127.0.0.1:${PORTS.temporal}`,
    pgPort: PG_PORT,
  };
}

/**
 * The BE double publishes, subscribes and polls the result DLQ through the proxy too: when "SQS" is
 * down, it is down for everyone. 30 s per call for its 20 s long polls; one SDK attempt, as its
 * publisher makes its own three.
 */
function createBe(config: AppConfig, proxied: FeedbackQueues): { be: BeDouble; beSqs: SQSClient } {
  const beSqs = createSqsClient(
    { ...config.sqs, endpoint: `http://127.0.0.1:${PORTS.sqsProxy}` },
    { credentials: CREDENTIALS, maxAttempts: 1, requestTimeoutMs: 30_000 },
  );
  const be = createBeDouble({
    sqs: beSqs,
    requestQueueUrl: proxied.requestQueueUrl,
    resultQueueUrl: proxied.resultQueueUrl,
    resultDlqUrl: proxied.resultDlqUrl,
    now: WEEK_ONE_NOW,
  });
  return { be, beSqs };
}

/** Environment of every service process (and the simulator's settings). */
function serviceEnv(
  config: AppConfig,
  proxied: FeedbackQueues,
  callbackUrl: string,
  delivery: 'queue' | 'both',
): NodeJS.ProcessEnv {
  return {
    LOG_LEVEL: 'info',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    TEMPORAL_ADDRESS: `127.0.0.1:${PORTS.temporal}`,
    TEMPORAL_TASK_QUEUE: 'chaos-feedback',
    AWS_REGION: config.sqs.region,
    AWS_ENDPOINT_URL_SQS: `http://127.0.0.1:${PORTS.sqsProxy}`,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_SQS_FEEDBACK_QUEUE_URL: proxied.requestQueueUrl,
    AWS_SQS_FEEDBACK_DLQ_URL: proxied.dlqUrl,
    AWS_SQS_FEEDBACK_RESULT_QUEUE_URL: proxied.resultQueueUrl,
    API_PORT: String(PORTS.api),
    API_AUTH_MODE: 'none',
    API_HOST: '127.0.0.1',
    // Two bridges and two workers on one machine: each health server on a free port.
    BRIDGE_HEALTH_PORT: '0',
    WORKER_HEALTH_PORT: '0',
    HEALTH_HOST: '127.0.0.1',
    BRIDGE_WAIT_TIME_SECONDS: '5',
    BRIDGE_BACKOFF_MAX_MS: '5000',
    BRIDGE_VISIBILITY_TIMEOUT_SECONDS: '30',
    // Through a proxy: the vLLM outage is the proxy going down, so the simulator keeps its records.
    VLLM_API_URL: `http://127.0.0.1:${PORTS.vllmProxy}`,
    VLLM_TIMEOUT_SECONDS: '10',
    VLLM_HEARTBEAT_SECONDS: '3',
    VLLM_RETRY_MAX_INTERVAL_SECONDS: '10',
    // `queue` by default, as the BE runs. With `both` the callback's faults count too, and the double
    // refuses the second copy of each feedback as a duplicate of the week (the real BE might store both:
    // docs/be-contract.md). Status codes go to the queue only.
    DELIVERY_MODE: delivery,
    BE_CALLBACK_BASE_URL: callbackUrl,
    BE_CALLBACK_AUTHORIZATION: 'Bearer chaos-secret',
    DELIVERY_TIMEOUT_SECONDS: '5',
    DELIVERY_RETRY_MAX_INTERVAL_SECONDS: '10',
    VLLM_SIM_PORT: String(PORTS.vllm),
    VLLM_SIM_MAX_NUM_SEQS: '64',
    VLLM_SIM_LATENCY_MS: '200',
  };
}

/** Starts the simulator (with its fault rules) and its proxy, the workers, the bridges and the API. */
async function startService(group: ProcessGroup, env: NodeJS.ProcessEnv): Promise<TcpProxy> {
  const node = process.execPath;
  const dist = (path: string) => [join(ROOT, 'dist', 'src', path)];
  group.start('vllm-simulator', node, [join(ROOT, 'dist', 'dev', 'vllm-simulator', 'main.js')], env);
  await waitForHttp(`http://127.0.0.1:${PORTS.vllm}/health`);
  await setVllmFaults(VLLM_FAULT_RULES);
  const vllmProxy = await startTcpProxy(PORTS.vllmProxy, PORTS.vllm);
  for (const name of ['worker-1', 'worker-2']) group.start(name, node, dist('worker/main.js'), env);
  for (const name of ['bridge-1', 'bridge-2']) group.start(name, node, dist('sqs-bridge/main.js'), env);
  group.start('api', node, dist('api/main.js'), env);
  await waitForHttp(`http://127.0.0.1:${PORTS.api}/health`);
  return vllmProxy;
}

async function setVllmFaults(rules: typeof VLLM_FAULT_RULES): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${PORTS.vllm}/sim/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ rules }),
  });
  if (!res.ok) throw new Error(`the vLLM simulator refused its fault rules: ${res.status}`);
}

/**
 * Ends the simulator's and the callback's injected faults with week one's traffic, as the scheduled
 * faults end: a terminal 400 after that would hold its run 5.5 minutes more and push each week's end
 * (and CI's quick run) out by as much, with nothing left to prove.
 */
export async function endInjectedFaults(stack: Stack): Promise<void> {
  await setVllmFaults([]);
  stack.be.setFaults({});
}

/** Running FeedbackWorkflows by Temporal visibility; -1 while Temporal does not answer. */
export async function openRuns(stack: Stack): Promise<number> {
  try {
    const { count } = await stack.temporal.workflow.count(
      `WorkflowType = 'FeedbackWorkflow' AND ExecutionStatus = 'Running'`,
    );
    return count;
  } catch {
    return -1;
  }
}

/** Messages visible, in flight or delayed on a queue (read directly, not through the proxy). */
export async function messagesOn(stack: Stack, queueUrl: string): Promise<number> {
  const out = await stack.direct.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  const a = out.Attributes ?? {};
  return (
    Number(a.ApproximateNumberOfMessages) +
    Number(a.ApproximateNumberOfMessagesNotVisible) +
    Number(a.ApproximateNumberOfMessagesDelayed)
  );
}

/** Takes the stack down in the order the run always has. */
export async function stopStack(stack: Stack): Promise<void> {
  await stack.be.close();
  await stack.group.stopAll('SIGTERM');
  await stack.sqsProxy.close();
  await stack.vllmProxy.close();
  await stack.temporalConnection.close();
  stack.direct.destroy();
  stack.beSqs.destroy();
}
