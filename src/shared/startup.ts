/**
 * Start-up against dependencies that may be down: a process restarted while Temporal is away waits
 * for it (with a bound) instead of exiting, so a supervisor's restart during an outage recovers.
 */
import type { Logger } from './logger';

/** How long a process waits for its dependencies at start before it gives up and exits 1. */
export const STARTUP_MAX_WAIT_MS = 5 * 60_000;

export interface WaitOptions {
  /** Give up after this long (the process then exits 1 and its supervisor restarts it). */
  maxWaitMs: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Calls `connect` until it succeeds, backing off exponentially and logging each failure. */
export async function connectWithRetry<T>(
  what: string,
  connect: () => Promise<T>,
  logger: Logger,
  options: WaitOptions,
): Promise<T> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const started = Date.now();
  let delay = options.initialDelayMs ?? 500;
  for (let attempt = 1; ; attempt++) {
    try {
      return await connect();
    } catch (err) {
      const waited = Date.now() - started;
      const message = err instanceof Error ? err.message : String(err);
      if (waited + delay > options.maxWaitMs) {
        throw new Error(
          `${what} unreachable after ${attempt} attempts in ${Math.round(waited / 1000)} s: ${message}`,
          {
            cause: err,
          },
        );
      }
      logger.warn({ attempt, retryInMs: delay, err: message }, `${what} unreachable; retrying`);
      await sleep(delay);
      delay = Math.min(options.maxDelayMs ?? 5000, delay * 2);
    }
  }
}
