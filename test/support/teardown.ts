/**
 * Teardown that never leaves jest hanging: every step runs (a failed one does not skip the rest), each
 * within a deadline, and a failure is printed instead of thrown, so that the error which made a test
 * fail stays the one reported and jest can exit after it.
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
 * Runs the steps in order, each within `stepTimeoutMs`; returns the errors (also printed with
 * console.error), never throws.
 */
export async function releaseAll(steps: ReleaseStep[], stepTimeoutMs = 15_000): Promise<Error[]> {
  const errors: Error[] = [];
  for (const [name, release] of steps) {
    try {
      await withDeadline(Promise.resolve().then(release), stepTimeoutMs, name);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      console.error(`teardown: ${name} failed:`, error);
      errors.push(error);
    }
  }
  return errors;
}
