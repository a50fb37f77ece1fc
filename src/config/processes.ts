/** Settings of the processes themselves: log level, health ports, the worker's slots and cache. */
import { z } from 'zod';
import { int, optionalKeys, optionalString } from './fields';

export const logLevelSection = z
  .object({
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .transform((env) => env.LOG_LEVEL);

/** Health ports of the bridge and the worker (/health, /ready, /metrics); 0 picks a free port. */
export const healthSection = z
  .object({
    BRIDGE_HEALTH_PORT: int(0, 65535).default(8091),
    WORKER_HEALTH_PORT: int(0, 65535).default(8092),
    HEALTH_HOST: z.string().min(1).default('0.0.0.0'),
  })
  .transform((env) => ({
    host: env.HEALTH_HOST,
    bridgePort: env.BRIDGE_HEALTH_PORT,
    workerPort: env.WORKER_HEALTH_PORT,
  }));

export const workerSection = z
  .object({
    WORKER_MAX_CONCURRENT_ACTIVITIES: int(1, 10_000).default(200),
    WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: int(1, 10_000).default(100),
    WORKER_WORKFLOW_BUNDLE_PATH: optionalString,
    /** Sticky cache size (runs kept in memory between their workflow tasks); default: the SDK's, from the heap size. */
    WORKER_MAX_CACHED_WORKFLOWS: optionalString.pipe(
      z.coerce.number<string | undefined>().int().min(0).max(100_000).optional(),
    ),
  })
  .transform((env) =>
    optionalKeys({
      maxConcurrentActivities: env.WORKER_MAX_CONCURRENT_ACTIVITIES,
      maxConcurrentWorkflowTasks: env.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
      workflowBundlePath: env.WORKER_WORKFLOW_BUNDLE_PATH,
      maxCachedWorkflows: env.WORKER_MAX_CACHED_WORKFLOWS,
    }),
  );
