/**
 * Teardown that never leaves jest hanging: every step runs (a failed one does not skip the rest), each
 * within a deadline, and failures are thrown together only once all steps ran. Jest reports an
 * afterAll error next to the test failures, not instead of them.
 */

/** A named release step, e.g. `['close the simulator', () => simulator.close()]`. */
export type ReleaseStep = readonly [name: string, release: () => unknown];

/** Resolves or rejects like `promise`, or rejects once `ms` have passed. */
export async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs the steps in order, each within `stepTimeoutMs`, then throws an AggregateError naming the
 * steps that failed, if any.
 */
export async function releaseAll(steps: ReleaseStep[], stepTimeoutMs = 15_000): Promise<void> {
  const errors: unknown[] = [];
  const failed: string[] = [];
  for (const [name, release] of steps) {
    try {
      await withDeadline(Promise.resolve().then(release), stepTimeoutMs, name);
    } catch (err) {
      errors.push(err);
      failed.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, `teardown failed: ${failed.join('; ')}`);
}
