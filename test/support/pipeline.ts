/**
 * The whole pipeline in one test process against the real local stack: Temporal dev server and
 * ElasticMQ (started by `npm test`), the vLLM simulator, the BE double's callback, and the API, bridge
 * and worker built by the same factories their entry points use.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import type { MetricMeter } from '@temporalio/common';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { createApp } from '../../src/api/app';
import type { ApiAuth, AppConfig, DeliveryMode } from '../../src/config';
import { NO_AUTH } from './config';
import { lookupFeedbackStatus } from '../../src/run/status';
import type { Tracing } from '../../src/shared/tracing';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry/lib/client';
import { sqsQueueCheck } from '../../src/shared/health';
import {
  createApiMetrics,
  createBridgeMetrics,
  createMetricsRegistry,
  type Registry,
} from '../../src/shared/metrics';
import { beRequestBody, createBeDouble, type BeDouble, type BeDoubleOptions } from '../../dev/be-double';
import { createVllmSimulator, type SimulatorOptions, type VllmSimulator } from '../../dev/vllm-simulator';
import { SqsBridge } from '../../src/sqs-bridge/bridge';
import { createLogger } from '../../src/shared/logger';
import type { FeedbackQueues, QueueSetupOptions } from '../../src/shared/sqs';
import { LlmConcurrencyControl } from '../../src/llm-concurrency/control';
import { createFeedbackWorker, createLlmWorker, llmActivities } from '../../src/worker/worker';
import { freshQueues, testConfig, testSqsClient, testStack } from './stack';
import { stopWorker, workflowBundle } from './temporal';
import { releaseAll, type ReleaseStep } from './teardown';

export interface Pipeline {
  apiUrl: string;
  config: AppConfig;
  /** The API's and the bridge's metrics. */
  apiRegistry: Registry;
  bridgeRegistry: Registry;
  queues: FeedbackQueues;
  sqs: SQSClient;
  temporal: Client;
  simulator: VllmSimulator;
  /** The simulator's base URL (its /sim/* routes: what it was asked). */
  simulatorUrl: string;
  /**
   * The BE double's callback (any member is known). Its subscriber does not run: `results` collects
   * the result queue. It files one feedback per member and week (409 for a second one), as the BE does.
   */
  receiver: BeDouble;
  bridge: SqsBridge;
  /** The LLM worker's flow control: its limiter holds the limit of concurrent vLLM calls. */
  flowControl: LlmConcurrencyControl;
  taskQueue: string;
  results: QueueCollector;
  /** Absent with `collectDeadLetters: false` (then the DLQ keeps its messages). */
  deadLetters?: QueueCollector;
  stop(): Promise<void>;
}

export interface PipelineOptions {
  /** Receive and delete DLQ messages in the background (default true). */
  collectDeadLetters?: boolean;
  /** Trace like the processes do with tracing on (client, workflow and activity interceptors). */
  tracing?: Tracing;
  /** API authentication; default off. */
  auth?: ApiAuth;
  /**
   * The BE double consumes the result queue as the BE does (stores, re-publishes on a status code)
   * and publishes to the request queue; `results` then collects nothing. Default false.
   */
  beSubscriber?: boolean;
  /** Overrides of the runs' policy (e.g. the failure hold). */
  policy?: Partial<AppConfig['policy']>;
  /** The vLLM simulator's settings; default 16 sequences of 20 ms. */
  simulator?: Partial<SimulatorOptions>;
  /**
   * Overrides of the LLM concurrency limit (mode, bounds, interval). Default: the configuration's,
   * reading the simulator's metrics every 200 ms.
   */
  flow?: Partial<AppConfig['llmConcurrency']>;
  /** The flow control's gauges (limit, calls in flight, vLLM waiting) go to this meter. */
  flowMeter?: MetricMeter;
  /** The queues' setup, e.g. a result queue that redrives after a few short receives (an outage test). */
  queues?: QueueSetupOptions;
  /** The BE double's zone and subscriber pace (with `beSubscriber`). */
  beDouble?: Pick<BeDoubleOptions, 'timeZone' | 'subscriber'>;
}

/**
 * Starts everything; each part registers how to release it as soon as it exists. `stop()` releases
 * them in reverse order, each step even when an earlier one failed; a start that fails half-way
 * releases what it had started before it throws (a worker or a server left behind keeps jest from
 * exiting, and `stop()` is not reachable then).
 */
export async function startPipeline(
  label: string,
  deliveryMode: DeliveryMode = 'both',
  options: PipelineOptions = {},
): Promise<Pipeline> {
  const release: ReleaseStep[] = [];
  const onStop = (name: string, step: () => unknown) => release.unshift([name, step]);
  const stop = () => releaseAll(release.splice(0));
  try {
    return await start(label, deliveryMode, options, onStop, stop);
  } catch (err) {
    await stop().catch((teardown: unknown) => console.error(teardown));
    throw err;
  }
}

async function start(
  label: string,
  deliveryMode: DeliveryMode,
  options: PipelineOptions,
  onStop: (name: string, step: () => unknown) => void,
  stop: () => Promise<void>,
): Promise<Pipeline> {
  const stack = testStack();
  const taskQueue = `e2e-${label}-${randomUUID().slice(0, 8)}`;
  const base = testConfig();
  const config: AppConfig = {
    ...base,
    policy: {
      ...base.policy,
      deliveryMode,
      generateRetryInitialSeconds: 1,
      llmTaskQueue: `${taskQueue}-llm`,
      ...options.policy,
    },
    temporal: { ...base.temporal, taskQueue, llmTaskQueue: `${taskQueue}-llm` },
  };
  const logger = createLogger(`e2e-${label}`, 'silent');
  const sqs = testSqsClient(config);
  onStop('destroy the SQS client', () => sqs.destroy());
  const queues = await freshQueues(sqs, label, { visibilityTimeoutSeconds: 30, ...options.queues });
  config.sqs = { ...config.sqs, ...queues };

  const simulator = createVllmSimulator({ maxNumSeqs: 16, latencyMs: 20, ...options.simulator });
  onStop('close the vLLM simulator', () => simulator.close());
  const { url: vllmUrl } = await simulator.listen(0);
  // Members reach the pipeline through its API and raw queue messages, not only through the double.
  const receiver = createBeDouble({
    members: 'any',
    ...(options.beDouble?.timeZone ? { timeZone: options.beDouble.timeZone } : {}),
    ...(options.beSubscriber
      ? {
          sqs,
          requestQueueUrl: queues.requestQueueUrl,
          resultQueueUrl: queues.resultQueueUrl,
          resultDlqUrl: queues.resultDlqUrl,
          subscriber: { waitTimeSeconds: 1, ...options.beDouble?.subscriber },
        }
      : {}),
  });
  onStop('close the BE double', () => receiver.close());
  if (options.beSubscriber) receiver.startSubscriber();
  const callbackBaseUrl = await receiver.listen(0);
  config.delivery = { ...config.delivery, callbackBaseUrl };

  config.llmConcurrency = { ...config.llmConcurrency, intervalMs: 200, ...options.flow };
  const flowControl = new LlmConcurrencyControl(config.llmConcurrency, {
    logger,
    metricsUrl: `${vllmUrl}/metrics`,
    ...(options.flowMeter ? { meter: options.flowMeter } : {}),
  });
  const connection = await NativeConnection.connect({ address: stack.temporalAddress });
  onStop("close the workers' connection", () => connection.close());
  const activities = createActivities({
    onVllmAnswer: (ms) => flowControl.observeLatency(ms),
    vllm: { ...config.vllm, baseUrl: vllmUrl, chatCompletionsUrl: `${vllmUrl}/v1/chat/completions` },
    delivery: { callbackBaseUrl: `${callbackBaseUrl}/` },
    resultQueueUrl: queues.resultQueueUrl,
    sqs,
  });
  const worker: Worker = await createFeedbackWorker({
    connection,
    namespace: 'default',
    taskQueue,
    activities,
    limits: config.worker,
    workflowBundle: await workflowBundle({ tracing: options.tracing !== undefined }),
    tracing: options.tracing,
  });
  const runs = new Map<Worker, Promise<void>>();
  onStop('stop the feedback worker', () => stopWorker(worker, runs.get(worker)));
  const llmWorker = await createLlmWorker({
    connection,
    namespace: 'default',
    taskQueue: config.temporal.llmTaskQueue,
    activities: llmActivities(activities),
    llmConcurrency: flowControl,
    tracing: options.tracing,
  });
  onStop('stop the LLM worker', () => stopWorker(llmWorker, runs.get(llmWorker)));
  flowControl.start();
  onStop('stop flow control', () => flowControl.stop());
  for (const w of [worker, llmWorker]) {
    const running = w.run();
    // Reported by stop() (stopWorker awaits it), not as an unhandled rejection meanwhile.
    running.catch(() => undefined);
    runs.set(w, running);
  }

  const bridgeRegistry = createMetricsRegistry('sqs-bridge');
  const clientConnection = await Connection.connect({ address: stack.temporalAddress });
  onStop('close the client connection', () => clientConnection.close());
  const temporal = new Client({
    connection: clientConnection,
    interceptors: options.tracing ? { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } : undefined,
  });
  const bridge = new SqsBridge({
    sqs,
    temporal,
    logger,
    requestQueueUrl: queues.requestQueueUrl,
    dlqUrl: queues.dlqUrl,
    taskQueue,
    policy: config.policy,
    priority: config.priority,
    metrics: createBridgeMetrics(bridgeRegistry),
    pollers: 2,
    waitTimeSeconds: 1,
    maxMessages: 10,
    visibilityTimeoutSeconds: 30,
    backoffMaxMs: 1000,
  });
  bridge.start();
  onStop('stop the bridge', () => bridge.stop());

  const apiRegistry = createMetricsRegistry('api');
  const app = createApp({
    sqs,
    requestQueueUrl: queues.requestQueueUrl,
    logger,
    sqsTimeoutMs: 3000,
    status: (requestId) => lookupFeedbackStatus(temporal, requestId, { temporal: config.temporal }),
    readiness: [sqsQueueCheck('sqs', sqs, queues.requestQueueUrl)],
    metrics: { registry: apiRegistry, api: createApiMetrics(apiRegistry) },
    auth: options.auth ?? NO_AUTH,
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  onStop('close the API server', () => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const results = new QueueCollector(sqs, options.beSubscriber ? undefined : queues.resultQueueUrl);
  onStop('stop collecting results', () => results.stop());
  const deadLetters =
    options.collectDeadLetters === false ? undefined : new QueueCollector(sqs, queues.dlqUrl);
  onStop('stop collecting dead letters', () => deadLetters?.stop());
  return {
    apiUrl,
    config,
    apiRegistry,
    bridgeRegistry,
    queues,
    sqs,
    temporal,
    simulator,
    simulatorUrl: vllmUrl,
    receiver,
    bridge,
    flowControl,
    taskQueue,
    results,
    deadLetters,
    stop,
  };
}

/**
 * Receives and deletes everything arriving on a queue in the background, so tests can wait for the
 * messages they expect among those of other tests.
 */
export class QueueCollector {
  readonly messages: Message[] = [];
  private running = true;
  private readonly loop: Promise<void>;

  /** Without a queue (the BE double consumes it) it collects nothing. */
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string | undefined,
  ) {
    this.loop = this.poll();
  }

  private async poll(): Promise<void> {
    while (this.running && this.queueUrl) {
      const out = await this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          MessageAttributeNames: ['All'],
        }),
      );
      for (const m of out.Messages ?? []) {
        this.messages.push(m);
        await this.sqs.send(
          new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: m.ReceiptHandle }),
        );
      }
    }
  }

  /** Messages matching `predicate`, once at least `count` of them arrived (or the time is up). */
  async waitFor(predicate: (m: Message) => boolean, count = 1, timeoutMs = 30_000): Promise<Message[]> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.messages.filter(predicate);
      if (found.length >= count) return found;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return this.messages.filter(predicate);
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

/** Waits until the bridge has started the workflow, then for its result. */
export async function workflowResult(
  temporal: Client,
  workflowId: string,
  timeoutMs = 60_000,
): Promise<unknown> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await temporal.workflow.getHandle(workflowId).result();
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError) || Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** A member's FeedbackWorkflow runs (by the MemberId search attribute), with their status. */
export async function runsOf(
  temporal: Client,
  memberId: number,
): Promise<Array<{ workflowId: string; status: string }>> {
  const runs = [];
  for await (const run of temporal.workflow.list({ query: `MemberId = ${memberId}` }))
    runs.push({ workflowId: run.workflowId, status: run.status.name });
  return runs;
}

/** A request body as the BE builds it: one personal challenge, no group challenge. */
export function beBody(memberId: number, title: string): string {
  return beRequestBody({
    memberId,
    personalChallenges: [{ id: 1, title, isSuccess: true }],
    groupChallenges: [],
  });
}
