/** Builds the Temporal worker that runs FeedbackWorkflow and its activities. */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { LlmConcurrencyControl } from '../llm-concurrency/control';
import { limiterSlotSupplier } from '../llm-concurrency/limiter';
import type { AppConfig } from '../config';
import type { FeedbackActivities } from '../activities';
import type { Tracing } from '../shared/tracing';
import { activityInterceptors } from './activity-interceptors';
import { TRACING_WORKFLOW_INTERCEPTOR_MODULES, WORKFLOW_INTERCEPTOR_MODULES } from './bundle-path';

export const WORKFLOWS_PATH = require.resolve('../workflows');

export interface FeedbackWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: FeedbackActivities;
  limits: AppConfig['worker'];
  /**
   * A prebuilt bundle (production) or, when absent, the workflow sources bundled at start. With
   * `tracing`, a prebuilt bundle must contain the tracing interceptors (TRACING_BUNDLE_PATH).
   */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Spans for workflows and activities, exported by this processor (setupTracing). */
  tracing?: Pick<Tracing, 'processor' | 'resource'>;
}

export async function createFeedbackWorker(options: FeedbackWorkerOptions): Promise<Worker> {
  const { tracing } = options;
  const otel = await loadOtel(tracing);
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: options.activities,
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: WORKFLOWS_PATH }),
    interceptors: {
      activity: activityInterceptorFactories(otel),
      // Bundled at start (no prebuilt bundle): the same interceptor modules as the prebuilt bundles.
      ...(options.workflowBundle
        ? {}
        : { workflowModules: tracing ? TRACING_WORKFLOW_INTERCEPTOR_MODULES : WORKFLOW_INTERCEPTOR_MODULES }),
    },
    ...(otel && tracing
      ? { sinks: { exporter: otel.makeWorkflowExporter(tracing.processor, tracing.resource) } }
      : {}),
    maxConcurrentActivityTaskExecutions: options.limits.maxConcurrentActivities,
    maxConcurrentLocalActivityExecutions: options.limits.maxConcurrentActivities,
    maxConcurrentWorkflowTaskExecutions: options.limits.maxConcurrentWorkflowTasks,
    ...(options.limits.maxCachedWorkflows === undefined
      ? {}
      : { maxCachedWorkflows: options.limits.maxCachedWorkflows }),
    // A SIGTERM lets activities in flight finish (or heartbeat their cancellation) within this bound.
    shutdownGraceTime: '10 seconds',
  });
}

export interface LlmWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  /** The LLM task queue (`LLM_TASK_QUEUE`). */
  taskQueue: string;
  activities: LlmActivities;
  /** Its limiter decides how many vLLM calls this worker runs at once. */
  llmConcurrency: LlmConcurrencyControl;
  /** The task queue's rate limit (requests per second over all its workers); unset: none. */
  rateLimitPerSecond?: number;
  tracing?: Pick<Tracing, 'processor' | 'resource'>;
}

/** The activity of the LLM task queue. */
export type LlmActivities = Pick<FeedbackActivities, 'generateCheckedFeedback'>;

export function llmActivities(activities: LlmActivities): LlmActivities {
  return { generateCheckedFeedback: activities.generateCheckedFeedback };
}

/**
 * The worker of the LLM task queue: the vLLM calls only, polled only while the LLM concurrency
 * limit allows another call. Activity-only (no workflows), next to the feedback worker in the same
 * process.
 */
export async function createLlmWorker(options: LlmWorkerOptions): Promise<Worker> {
  const otel = await loadOtel(options.tracing);
  const one = { type: 'fixed-size', numSlots: 1 } as const;
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: options.activities,
    interceptors: { activity: activityInterceptorFactories(otel) },
    tuner: {
      activityTaskSlotSupplier: limiterSlotSupplier(options.llmConcurrency.limiter),
      // No workflows or local activities run here.
      workflowTaskSlotSupplier: one,
      localActivityTaskSlotSupplier: one,
      nexusTaskSlotSupplier: one,
    },
    ...(options.rateLimitPerSecond === undefined
      ? {}
      : { maxTaskQueueActivitiesPerSecond: options.rateLimitPerSecond }),
    shutdownGraceTime: '10 seconds',
  });
}

type Otel = typeof import('@temporalio/interceptors-opentelemetry/lib/worker');

/** Loaded only with tracing on (it brings the OpenTelemetry SDK). */
async function loadOtel(tracing: unknown): Promise<Otel | undefined> {
  return tracing ? await import('@temporalio/interceptors-opentelemetry/lib/worker') : undefined;
}

// The first factory is the outermost: the tracing span encloses the metrics and the activity.
function activityInterceptorFactories(otel: Otel | undefined) {
  return [
    ...(otel
      ? [
          (ctx: Parameters<typeof activityInterceptors>[0]) => ({
            inbound: new otel.OpenTelemetryActivityInboundInterceptor(ctx),
            outbound: new otel.OpenTelemetryActivityOutboundInterceptor(ctx),
          }),
        ]
      : []),
    activityInterceptors,
  ];
}
