/**
 * LLM concurrency (src/llm-concurrency, docs/flow-control.md): how many vLLM calls each worker process
 * runs at once, the limit its controller moves with vLLM's load (or holds fixed).
 */
import { z } from 'zod';
import { int } from './fields';

export const llmConcurrencySection = z
  .object({
    LLM_CONCURRENCY_MODE: z.enum(['adaptive', 'fixed']).default('adaptive'),
    LLM_CONCURRENCY_MIN: int(1, 10_000).default(2),
    /** The upper bound of the adaptive limit, and the limit itself in `fixed` mode. */
    LLM_CONCURRENCY_MAX: int(1, 10_000).default(256),
    LLM_CONCURRENCY_INITIAL: int(1, 10_000).default(16),
    /** The controller holds vLLM's `num_requests_waiting` near this. */
    LLM_CONCURRENCY_TARGET_WAITING: int(0, 10_000).default(2),
    LLM_CONCURRENCY_INTERVAL_MS: int(100, 60_000).default(250),
    /** Latency fallback: cut when the recent latency exceeds this multiple of the baseline. */
    LLM_CONCURRENCY_LATENCY_TOLERANCE: z.coerce.number().min(1.05).max(10).default(1.5),
  })
  .transform((env) => {
    const max = env.LLM_CONCURRENCY_MAX;
    const min = Math.min(env.LLM_CONCURRENCY_MIN, max);
    return {
      mode: env.LLM_CONCURRENCY_MODE,
      min,
      max,
      initial: Math.min(Math.max(env.LLM_CONCURRENCY_INITIAL, min), max),
      targetWaiting: env.LLM_CONCURRENCY_TARGET_WAITING,
      intervalMs: env.LLM_CONCURRENCY_INTERVAL_MS,
      latencyTolerance: env.LLM_CONCURRENCY_LATENCY_TOLERANCE,
    };
  });
export type LlmConcurrencySettings = z.output<typeof llmConcurrencySection>;
