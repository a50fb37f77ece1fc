/**
 * How the worker process's two Temporal workers are made (src/worker/worker.ts): the options each
 * gets from the configuration (Worker.create observed, no server), and, on the local test server,
 * the two running together: FeedbackWorkflow on the feedback task queue, its vLLM calls on the LLM
 * task queue, at most as many at once as the LLM concurrency limiter allows.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/worker';
import { Resource } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { DeliverInput, FeedbackActivities } from '../../src/activities';
import { DEFAULT_POLICY, type LlmConcurrencySettings } from '../../src/config';
import { LlmConcurrencyControl } from '../../src/llm-concurrency/control';
import { createLogger } from '../../src/shared/logger';
import {
  FEEDBACK_WORKFLOW_TYPE,
  type FeedbackOutcome,
  type FeedbackWorkflowInput,
} from '../../src/domain/workflow';
import { activityInterceptors } from '../../src/worker/activity-interceptors';
import {
  TRACING_WORKFLOW_INTERCEPTOR_MODULES,
  WORKFLOW_INTERCEPTOR_MODULES,
} from '../../src/worker/bundle-path';
import {
  createFeedbackWorker,
  createLlmWorker,
  llmActivities,
  WORKFLOWS_PATH,
  type FeedbackWorkerOptions,
} from '../../src/worker/worker';
import { eventually } from '../support/eventually';
import { testStack } from '../support/stack';
import { stopWorker, workflowBundle } from '../support/temporal';

const FEEDBACK = '하루 30분 걷기를 멋지게 해냈어요! 🌱';
const LIMITS = { maxConcurrentActivities: 40, maxConcurrentWorkflowTasks: 12 };

const concurrencySettings = (overrides: Partial<LlmConcurrencySettings> = {}): LlmConcurrencySettings => ({
  mode: 'fixed',
  min: 1,
  max: 2,
  initial: 2,
  targetWaiting: 2,
  intervalMs: 250,
  latencyTolerance: 1.5,
  ...overrides,
});
const llmConcurrency = (overrides: Partial<LlmConcurrencySettings> = {}) =>
  new LlmConcurrencyControl(concurrencySettings(overrides), {
    logger: createLogger('worker-test', 'silent'),
  });

const generateCheckedFeedback: FeedbackActivities['generateCheckedFeedback'] = async () => ({
  text: FEEDBACK,
  verdict: { ok: true, text: FEEDBACK },
});
const deliverResult: FeedbackActivities['deliverResult'] = async () => undefined;
const ACTIVITIES: FeedbackActivities = {
  generateCheckedFeedback,
  deliverResult,
  countEarlierFailures: async () => 0,
};

function tracing() {
  return { processor: new SimpleSpanProcessor(new InMemorySpanExporter()), resource: new Resource({}) };
}

describe('the options each worker is created with', () => {
  let created: WorkerOptions[];
  beforeEach(() => {
    created = [];
    jest.spyOn(Worker, 'create').mockImplementation(async (options: WorkerOptions) => {
      created.push(options);
      return {} as Worker;
    });
  });
  afterEach(() => jest.restoreAllMocks());

  const connection = {} as NativeConnection;
  const feedbackOptions = (extra: Partial<FeedbackWorkerOptions> = {}): FeedbackWorkerOptions => ({
    connection,
    namespace: 'leafresh',
    taskQueue: 'leafresh-feedback',
    activities: ACTIVITIES,
    limits: LIMITS,
    ...extra,
  });

  describe('createFeedbackWorker', () => {
    it('polls the configured namespace and task queue with every activity, within the configured slots, and lets activities finish for 10 s on shutdown', async () => {
      await createFeedbackWorker(feedbackOptions({ workflowBundle: { code: '/* bundle */' } }));
      expect(created).toHaveLength(1);
      const [options] = created;
      expect(options).toMatchObject({
        connection,
        namespace: 'leafresh',
        taskQueue: 'leafresh-feedback',
        activities: ACTIVITIES,
        maxConcurrentActivityTaskExecutions: 40,
        maxConcurrentLocalActivityExecutions: 40,
        maxConcurrentWorkflowTaskExecutions: 12,
        shutdownGraceTime: '10 seconds',
      });
      // The SDK's default cache size unless one is configured.
      expect(options).not.toHaveProperty('maxCachedWorkflows');
      expect(options).not.toHaveProperty('tuner');
    });

    it('passes a configured sticky cache size, 0 (cache off) included', async () => {
      await createFeedbackWorker(feedbackOptions({ limits: { ...LIMITS, maxCachedWorkflows: 500 } }));
      await createFeedbackWorker(feedbackOptions({ limits: { ...LIMITS, maxCachedWorkflows: 0 } }));
      expect(created.map((o) => o.maxCachedWorkflows)).toEqual([500, 0]);
    });

    it('loads a prebuilt bundle as it is: no workflow sources, no interceptor modules added', async () => {
      const bundle = { codePath: '/app/dist/workflow-bundle.js' };
      await createFeedbackWorker(feedbackOptions({ workflowBundle: bundle }));
      const [options] = created;
      expect(options.workflowBundle).toBe(bundle);
      expect(options).not.toHaveProperty('workflowsPath');
      expect(options.interceptors).not.toHaveProperty('workflowModules');
    });

    it('without a bundle, bundles the workflows at start with the same interceptor modules as the prebuilt one', async () => {
      await createFeedbackWorker(feedbackOptions());
      const [options] = created;
      expect(options.workflowsPath).toBe(WORKFLOWS_PATH);
      expect(WORKFLOWS_PATH).toBe(require.resolve('../../src/workflows'));
      expect(options).not.toHaveProperty('workflowBundle');
      expect(options.interceptors?.workflowModules).toEqual(WORKFLOW_INTERCEPTOR_MODULES);
    });

    it('without tracing: the metrics and log interceptors on activities, no span exporter', async () => {
      await createFeedbackWorker(feedbackOptions());
      const [options] = created;
      expect(options.interceptors?.activity).toEqual([activityInterceptors]);
      expect(options).not.toHaveProperty('sinks');
    });

    it('with tracing: a span around each activity (outermost), the tracing workflow modules, and the workflow span exporter', async () => {
      await createFeedbackWorker(feedbackOptions({ tracing: tracing() }));
      const [options] = created;
      expect(options.interceptors?.workflowModules).toEqual(TRACING_WORKFLOW_INTERCEPTOR_MODULES);
      const factories = options.interceptors?.activity ?? [];
      expect(factories).toHaveLength(2);
      expect(factories[1]).toBe(activityInterceptors);
      const outer = factories[0]({} as Parameters<typeof activityInterceptors>[0]);
      expect(outer.inbound).toBeInstanceOf(OpenTelemetryActivityInboundInterceptor);
      expect(outer.outbound).toBeInstanceOf(OpenTelemetryActivityOutboundInterceptor);
      expect(options.sinks).toHaveProperty('exporter');
    });
  });

  describe('createLlmWorker', () => {
    it('runs only the vLLM activity, no workflows, with activity slots from the LLM concurrency limiter', async () => {
      const concurrency = llmConcurrency({ max: 3 });
      const activities = llmActivities(ACTIVITIES);
      await createLlmWorker({
        connection,
        namespace: 'leafresh',
        taskQueue: 'leafresh-feedback-llm',
        activities,
        llmConcurrency: concurrency,
      });
      const [options] = created;
      expect(options).toMatchObject({
        connection,
        namespace: 'leafresh',
        taskQueue: 'leafresh-feedback-llm',
        activities,
        shutdownGraceTime: '10 seconds',
      });
      expect(options).not.toHaveProperty('workflowsPath');
      expect(options).not.toHaveProperty('workflowBundle');
      expect(options).not.toHaveProperty('maxTaskQueueActivitiesPerSecond');
      expect(options.interceptors?.activity).toEqual([activityInterceptors]);

      const tuner = options.tuner as Extract<WorkerOptions['tuner'], { activityTaskSlotSupplier: unknown }>;
      const one = { type: 'fixed-size', numSlots: 1 };
      expect(tuner.workflowTaskSlotSupplier).toEqual(one);
      expect(tuner.localActivityTaskSlotSupplier).toEqual(one);
      expect(tuner.nexusTaskSlotSupplier).toEqual(one);
      // The supplier hands out the limiter's permits: three, then none until one is released.
      const slots = tuner.activityTaskSlotSupplier;
      if (slots.type !== 'custom') throw new Error(`expected a custom slot supplier, got ${slots.type}`);
      const reserve = () => slots.tryReserveSlot({} as Parameters<typeof slots.tryReserveSlot>[0]);
      expect([reserve(), reserve(), reserve()].every((permit) => permit !== null)).toBe(true);
      expect(concurrency.limiter.reserved).toBe(3);
      expect(reserve()).toBeNull();
    });

    it("sets the task queue's rate limit when one is configured", async () => {
      await createLlmWorker({
        connection,
        namespace: 'default',
        taskQueue: 'q-llm',
        activities: llmActivities(ACTIVITIES),
        llmConcurrency: llmConcurrency(),
        rateLimitPerSecond: 2.5,
      });
      expect(created[0].maxTaskQueueActivitiesPerSecond).toBe(2.5);
    });

    it('with tracing: a span around each vLLM call, outermost', async () => {
      await createLlmWorker({
        connection,
        namespace: 'default',
        taskQueue: 'q-llm',
        activities: llmActivities(ACTIVITIES),
        llmConcurrency: llmConcurrency(),
        tracing: tracing(),
      });
      const factories = created[0].interceptors?.activity ?? [];
      expect(factories).toHaveLength(2);
      expect(factories[1]).toBe(activityInterceptors);
      expect(factories[0]({} as Parameters<typeof activityInterceptors>[0]).inbound).toBeInstanceOf(
        OpenTelemetryActivityInboundInterceptor,
      );
    });
  });

  it('llmActivities keeps the vLLM activity only (delivery stays on the feedback task queue)', () => {
    const picked = llmActivities(ACTIVITIES);
    expect(Object.keys(picked)).toEqual(['generateCheckedFeedback']);
    expect(picked.generateCheckedFeedback).toBe(generateCheckedFeedback);
  });
});

describe('the two workers on the local test server', () => {
  let connection: NativeConnection;
  let clientConnection: Connection;
  let client: Client;
  const started: Array<{ worker: Worker; running?: Promise<void> }> = [];

  beforeAll(async () => {
    const { temporalAddress } = testStack();
    connection = await NativeConnection.connect({ address: temporalAddress });
    clientConnection = await Connection.connect({ address: temporalAddress });
    client = new Client({ connection: clientConnection });
    await workflowBundle();
  }, 120_000);

  afterAll(async () => {
    for (const { worker, running } of started) await stopWorker(worker, running);
    await clientConnection?.close();
    await connection?.close();
  }, 60_000);

  function run(worker: Worker): void {
    const entry: { worker: Worker; running?: Promise<void> } = { worker };
    started.push(entry);
    entry.running = worker.run();
    entry.running.catch(() => undefined);
  }

  function input(llmTaskQueue: string): FeedbackWorkflowInput {
    const now = new Date().toISOString();
    return {
      requestId: randomUUID(),
      request: {
        memberId: 7,
        personalChallenges: [{ id: 1, title: '플로깅 하기', isSuccess: true }],
        groupChallenges: [],
      },
      requestedAt: '2025-06-16T09:00:00+09:00',
      source: 'api',
      // A blocked fake call sends no heartbeats: give it more than the test's length.
      policy: { ...DEFAULT_POLICY, llmTaskQueue, maxAgeMinutes: 0, generateHeartbeatSeconds: 120 },
      acceptedAt: now,
      sentAt: now,
    };
  }

  it("runs the workflow on the feedback queue and its vLLM calls on the LLM queue, at most the limiter's limit at once", async () => {
    const taskQueue = `worker-test-${randomUUID().slice(0, 8)}`;
    const llmTaskQueue = `${taskQueue}-llm`;
    let releaseCalls: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (releaseCalls = resolve));
    const atLeast = (n: number) => (value: number) => value >= n;
    let inFlight = 0;
    let maxInFlight = 0;
    const delivered: DeliverInput[] = [];
    const activities: FeedbackActivities = {
      generateCheckedFeedback: async () => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        try {
          await gate;
          return { text: FEEDBACK, verdict: { ok: true, text: FEEDBACK } };
        } finally {
          inFlight -= 1;
        }
      },
      deliverResult: async (d) => void delivered.push(d),
      countEarlierFailures: async () => 0,
    };
    const concurrency = llmConcurrency({ max: 2 });
    const feedbackWorker = await createFeedbackWorker({
      connection,
      namespace: 'default',
      taskQueue,
      // A vLLM call on the feedback task queue would be a wrong wiring.
      activities: {
        ...activities,
        generateCheckedFeedback: async () => {
          throw new Error('a vLLM call ran on the feedback task queue');
        },
      },
      limits: LIMITS,
      workflowBundle: await workflowBundle(),
    });
    const llmWorker = await createLlmWorker({
      connection,
      namespace: 'default',
      taskQueue: llmTaskQueue,
      activities: llmActivities(activities),
      llmConcurrency: concurrency,
    });
    run(feedbackWorker);
    run(llmWorker);

    try {
      const handles = await Promise.all(
        Array.from({ length: 5 }, () => {
          const wfInput = input(llmTaskQueue);
          return client.workflow.start(FEEDBACK_WORKFLOW_TYPE, {
            taskQueue,
            workflowId: `feedback-${wfInput.requestId}`,
            args: [wfInput],
          });
        }),
      );

      await eventually(async () => inFlight, atLeast(2), 20_000);
      // Time for the worker to poll more tasks if its slots allowed it (three are waiting).
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect({ inFlight, maxInFlight, inUse: concurrency.limiter.inUse }).toEqual({
        inFlight: 2,
        maxInFlight: 2,
        inUse: 2,
      });

      // The controller raises the limit: the worker takes more calls without a restart.
      concurrency.limiter.setLimit(4);
      await eventually(async () => inFlight, atLeast(4), 20_000);
      // Time for a fifth call if the slots allowed it.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect({ inFlight, maxInFlight, inUse: concurrency.limiter.inUse }).toEqual({
        inFlight: 4,
        maxInFlight: 4,
        inUse: 4,
      });

      releaseCalls();
      const outcomes: FeedbackOutcome[] = await Promise.all(handles.map((h) => h.result()));
      expect(outcomes.map((o) => [o.status, o.content, o.deliveredTo])).toEqual(
        Array.from({ length: 5 }, () => ['success', FEEDBACK, ['queue']]),
      );
      expect(delivered).toHaveLength(5);
      // Every permit came back once its call ended.
      expect(
        await eventually(
          async () => concurrency.limiter.inUse,
          (n) => n === 0,
          10_000,
        ),
      ).toBe(0);
    } finally {
      // Also when an assertion failed: blocked calls would hold the workers' shutdown.
      releaseCalls();
    }
  }, 60_000);
});
