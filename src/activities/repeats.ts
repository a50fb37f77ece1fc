/**
 * countEarlierFailures: how often the request's signature failed for good in the 24 h before (the
 * failure hold grows with it, src/domain/hold.ts). Runs on the workflows' own task queue, on the
 * failure path only: one visibility query per failure of a BE queue request, none per start.
 */
import { countEarlierFailures, type RunLister } from '../run/repeats';

export interface RepeatsDeps {
  /** Temporal visibility (the worker's client). Absent: no count, every failure holds the base hold. */
  visibility?: RunLister;
}

export interface CountFailuresInput {
  signature: string;
  /** Failures of runs started at or after this time (ISO) count: the workflow's now − 24 h. */
  since: string;
  /** The run asking, which does not count itself. */
  workflowId: string;
}

export function countEarlierFailuresActivity(deps: RepeatsDeps) {
  return async function countEarlierFailuresOf(input: CountFailuresInput): Promise<number> {
    if (!deps.visibility) return 0;
    return countEarlierFailures(deps.visibility, {
      signature: input.signature,
      since: new Date(input.since),
      workflowId: input.workflowId,
    });
  };
}
