/** The SQS bridge: its pollers, long polls, visibility and the admission bound of bulk requests. */
import { z } from 'zod';
import { int } from './fields';

const bridgeEnv = z.object({
  BRIDGE_POLLERS: int(1, 64).default(2),
  BRIDGE_WAIT_TIME_SECONDS: int(0, 20).default(20),
  BRIDGE_MAX_MESSAGES: int(1, 10).default(10),
  BRIDGE_VISIBILITY_TIMEOUT_SECONDS: int(5, 43_200).default(60),
  BRIDGE_BACKOFF_MAX_MS: int(100, 300_000).default(30_000),
  /** Open runs of bulk (BE queue) requests at most; more wait in SQS (src/sqs-bridge/admission.ts). 0: no bound. */
  BRIDGE_MAX_OPEN_QUEUE_RUNS: int(0, 1_000_000).default(1000),
});

export const bridgeSection = bridgeEnv.transform((env) => ({
  pollers: env.BRIDGE_POLLERS,
  waitTimeSeconds: env.BRIDGE_WAIT_TIME_SECONDS,
  maxMessages: env.BRIDGE_MAX_MESSAGES,
  visibilityTimeoutSeconds: env.BRIDGE_VISIBILITY_TIMEOUT_SECONDS,
  backoffMaxMs: env.BRIDGE_BACKOFF_MAX_MS,
  maxOpenQueueRuns: env.BRIDGE_MAX_OPEN_QUEUE_RUNS,
}));
export type BridgeSettings = z.output<typeof bridgeSection>;
