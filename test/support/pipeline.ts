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
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { createApp } from '../../src/api/app';
import type { ApiAuth, AppConfig, DeliveryMode } from '../../src/config';
import { NO_AUTH } from './config';
import { lookupFeedbackStatus } from '../../src/ops/status';
import type { Tracing } from '../../src/shared/tracing';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry/lib/client';
import { sqsQueueCheck } from '../../src/shared/health';
import {
  createApiMetrics,
  createBridgeMetrics,
  createMetricsRegistry,
  type Registry,
} from '../../src/shared/metrics';
import { createBeDouble, type BeDouble } from '../../src/dev/be-double';
import { createVllmSimulator, type VllmSimulator } from '../../src/simulator/vllm-simulator';
import { SqsBridge } from '../../src/sqs-bridge/bridge';
import { createLogger } from '../../src/shared/logger';
import type { FeedbackQueues } from '../../src/shared/sqs';
import { LlmFlowControl } from '../../src/flow/flow-control';
import { createFeedbackWorker, createLlmWorker, llmActivities } from '../../src/worker/worker';
import { freshQueues, testConfig, testSqsClient, testStack } from './stack';
import { workflowBundle } from './temporal';

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
  /**
   * The BE double's callback (any member is known). Its subscriber does not run: `results` collects
   * the result queue. It files one feedback per member and week (409 for a second one), as the BE does.
   */
  receiver: BeDouble;
  bridge: SqsBridge;
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
}

export async function startPipeline(
  label: string,
  deliveryMode: DeliveryMode = 'both',
  options: PipelineOptions = {},
): Promise<Pipeline> {
  const stack = testStack();
  const taskQueue = `e2e-${label}-${randomUUID().slice(0, 8)}`;
  const base = testConfig();
  const config: AppConfig = {
    ...base,
    temporal: { ...base.temporal, taskQueue },
    delivery: { ...base.delivery, mode: deliveryMode },
    policy: {
      ...base.policy,
      deliveryMode,
      generateRetryInitialSeconds: 1,
      llmTaskQueue: `${taskQueue}-llm`,
      ...options.policy,
    },
    flow: { ...base.flow, taskQueue: `${taskQueue}-llm` },
  };
  const logger = createLogger(`e2e-${label}`, 'silent');
  const sqs = testSqsClient(config);
  const queues = await freshQueues(sqs, label, { visibilityTimeoutSeconds: 30 });
  config.sqs = { ...config.sqs, ...queues };

  const simulator = createVllmSimulator({ maxNumSeqs: 16, latencyMs: 20 });
  const { url: vllmUrl } = await simulator.listen(0);
  // Members reach the pipeline through its API and raw queue messages, not only through the double.
  const receiver = createBeDouble({
    members: 'any',
    ...(options.beSubscriber
      ? {
          sqs,
          requestQueueUrl: queues.requestQueueUrl,
          resultQueueUrl: queues.resultQueueUrl,
          resultDlqUrl: queues.resultDlqUrl,
          subscriber: { waitTimeSeconds: 1 },
        }
      : {}),
  });
  if (options.beSubscriber) receiver.startSubscriber();
  const callbackBaseUrl = await receiver.listen(0);
  config.delivery = { ...config.delivery, callbackBaseUrl };

  config.flow = { ...config.flow, metricsUrl: `${vllmUrl}/metrics`, intervalMs: 200 };
  const flowControl = new LlmFlowControl(config.flow, { logger });
  const connection = await NativeConnection.connect({ address: stack.temporalAddress });
  const activities = createActivities({
    onVllmAnswer: (ms) => flowControl.observeLatency(ms),
    vllm: { ...config.vllm, baseUrl: vllmUrl, chatCompletionsUrl: `${vllmUrl}/v1/chat/completions` },
    delivery: { mode: deliveryMode, callbackBaseUrl: `${callbackBaseUrl}/` },
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
  const llmWorker = await createLlmWorker({
    connection,
    namespace: 'default',
    taskQueue: config.flow.taskQueue,
    activities: llmActivities(activities),
    flowControl,
    tracing: options.tracing,
  });
  flowControl.start();
  const workerRun = Promise.all([worker.run(), llmWorker.run()]);

  const bridgeRegistry = createMetricsRegistry('sqs-bridge');
  const clientConnection = await Connection.connect({ address: stack.temporalAddress });
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
    priority: config.flow.priority,
    metrics: createBridgeMetrics(bridgeRegistry),
    pollers: 2,
    waitTimeSeconds: 1,
    maxMessages: 10,
    visibilityTimeoutSeconds: 30,
    backoffMaxMs: 1000,
  });
  bridge.start();

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
  const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const results = new QueueCollector(sqs, options.beSubscriber ? undefined : queues.resultQueueUrl);
  const deadLetters =
    options.collectDeadLetters === false ? undefined : new QueueCollector(sqs, queues.dlqUrl);
  return {
    apiUrl,
    config,
    apiRegistry,
    bridgeRegistry,
    queues,
    sqs,
    temporal,
    simulator,
    receiver,
    bridge,
    taskQueue,
    results,
    deadLetters,
    async stop() {
      await results.stop();
      await deadLetters?.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await bridge.stop();
      flowControl.stop();
      worker.shutdown();
      llmWorker.shutdown();
      await workerRun;
      await connection.close();
      await clientConnection.close();
      await receiver.close();
      await simulator.close();
      sqs.destroy();
    },
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
