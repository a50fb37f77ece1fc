/**
 * LLM flow control (src/llm-concurrency): generateCheckedFeedback runs on its own task queue, whose workers
 * hold at most as many calls in flight as the controller allows (docs/flow-control.md); requests'
 * priorities and fairness.
 */
import { z } from 'zod';
import { int, optionalBool, optionalString, url } from './fields';

export const flowEnv = z.object({
  /** Default: `<TEMPORAL_TASK_QUEUE>-llm`. */
  LLM_TASK_QUEUE: optionalString,
  LLM_CONCURRENCY_MODE: z.enum(['adaptive', 'fixed']).default('adaptive'),
  LLM_CONCURRENCY_MIN: int(1, 10_000).default(2),
  /** The upper bound of the adaptive limit, and the limit itself in `fixed` mode. */
  LLM_CONCURRENCY_MAX: int(1, 10_000).default(256),
  LLM_CONCURRENCY_INITIAL: int(1, 10_000).default(16),
  /** The controller holds vLLM's `num_requests_waiting` near this. */
  LLM_TARGET_WAITING: int(0, 10_000).default(2),
  /** vLLM's Prometheus endpoint; default `<VLLM_API_URL base>/metrics`; `none`: latency only. */
  LLM_METRICS_URL: optionalString.pipe(z.union([z.literal('none'), url]).optional()),
  LLM_CONTROL_INTERVAL_MS: int(100, 60_000).default(250),
  /** Latency fallback: cut when the recent latency exceeds this multiple of the baseline. */
  LLM_LATENCY_TOLERANCE: z.coerce.number().min(1.05).max(10).default(1.5),
  /** Requests per second toward the model, over all workers (the task queue's rate limit); off when unset. */
  LLM_RATE_LIMIT_PER_SECOND: optionalString.pipe(z.coerce.number<string | undefined>().positive().optional()),
  /** Temporal priority keys (1 = first, 5 = last) of requests from the HTTP API and from the BE's queue. */
  FEEDBACK_PRIORITY_API: int(1, 5).default(1),
  FEEDBACK_PRIORITY_QUEUE: int(1, 5).default(3),
  /** Fairness key per member within a priority (needs matching.enableFairness on the server). */
  FEEDBACK_FAIRNESS: optionalBool,
});
type FlowEnv = z.infer<typeof flowEnv>;

/** LLM flow control: the LLM task queue, its concurrency limit and the requests' priorities. */
export interface FlowSettings {
  taskQueue: string;
  mode: FlowEnv['LLM_CONCURRENCY_MODE'];
  min: number;
  max: number;
  initial: number;
  targetWaiting: number;
  /** Absent: no metrics, the latency-gradient controller only. */
  metricsUrl?: string;
  intervalMs: number;
  latencyTolerance: number;
  rateLimitPerSecond?: number;
  /** Priority keys by source, and whether the member id is the fairness key (startFeedbackWorkflow). */
  priority: { api: number; queue: number; fairness: boolean };
}

/** The task queue of the vLLM calls; the bridge puts it in each run's policy, the worker polls it. */
export function llmTaskQueue(env: FlowEnv, temporalTaskQueue: string): string {
  return env.LLM_TASK_QUEUE ?? `${temporalTaskQueue}-llm`;
}

export function flowSettings(
  env: FlowEnv,
  derived: { taskQueue: string; vllmBaseUrl: string },
): FlowSettings {
  const max = env.LLM_CONCURRENCY_MAX;
  const min = Math.min(env.LLM_CONCURRENCY_MIN, max);
  return {
    taskQueue: derived.taskQueue,
    mode: env.LLM_CONCURRENCY_MODE,
    min,
    max,
    initial: Math.min(Math.max(env.LLM_CONCURRENCY_INITIAL, min), max),
    targetWaiting: env.LLM_TARGET_WAITING,
    metricsUrl:
      env.LLM_METRICS_URL === 'none' ? undefined : (env.LLM_METRICS_URL ?? `${derived.vllmBaseUrl}/metrics`),
    intervalMs: env.LLM_CONTROL_INTERVAL_MS,
    latencyTolerance: env.LLM_LATENCY_TOLERANCE,
    rateLimitPerSecond: env.LLM_RATE_LIMIT_PER_SECOND,
    priority: {
      api: env.FEEDBACK_PRIORITY_API,
      queue: env.FEEDBACK_PRIORITY_QUEUE,
      fairness: env.FEEDBACK_FAIRNESS ?? true,
    },
  };
}
