/**
 * A request's earlier failures, counted in Temporal visibility by its signature (the BE's
 * MessageDeduplicationId, the RequestSignature search attribute): what makes the failure hold grow
 * (src/domain/hold.ts), what `feedback redeliver` waits by, and what `feedback list --looping` shows.
 *
 * A failure for good of signature S, counted at time T, is a FeedbackWorkflow run with
 * RequestSignature = S, started at or after T − 24 h, other than the run asking, that
 *   - closed as Failed (generation or expiry failed for good and the BE was sent its code, or the
 *     code could not be delivered), or
 *   - is running at stage `holding` (it failed for good and waits to send its code).
 * Runs that completed (delivered feedback), are still generating, or were terminated or cancelled by
 * an operator do not count. Visibility is eventually consistent: a run that closed a moment ago (the
 * previous lap, with Elasticsearch about a second) may not show yet; that counts one failure fewer for
 * that lap only.
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { REPEAT_WINDOW_MS } from '../domain/hold';
import { requestIdOf } from '../domain/keys';
import {
  FEEDBACK_WORKFLOW_TYPE,
  FeedbackStageSearchAttribute,
  MemberIdSearchAttribute,
  RequestSignatureSearchAttribute,
} from '../domain/workflow';

/** What the counting needs of a Temporal client: visibility listing. */
export type RunLister = { workflow: Pick<Client['workflow'], 'list'> };

/** More earlier failures than this change nothing (the hold is at its cap after 4): the count stops. */
export const MAX_COUNTED_FAILURES = 10;

const SIGNATURE = /^[A-Za-z0-9._:-]{1,128}$/;

/** Runs that failed for good (closed Failed, or holding their code), started at or after `since`. */
export function failuresQuery(since: Date, signature?: string): string {
  if (signature !== undefined && !SIGNATURE.test(signature)) {
    throw new Error(`not a request signature: ${JSON.stringify(signature)}`);
  }
  return [
    `WorkflowType = '${FEEDBACK_WORKFLOW_TYPE}'`,
    ...(signature === undefined ? [] : [`${RequestSignatureSearchAttribute.name} = '${signature}'`]),
    `StartTime >= '${since.toISOString()}'`,
    `(ExecutionStatus = 'Failed' OR (ExecutionStatus = 'Running' AND ${FeedbackStageSearchAttribute.name} = 'holding'))`,
  ].join(' AND ');
}

/**
 * The failures for good of `signature` started at or after `since`, other than the run `workflowId`
 * (the one asking), up to MAX_COUNTED_FAILURES.
 */
export async function countEarlierFailures(
  client: RunLister,
  query: { signature: string; since: Date; workflowId: string },
): Promise<number> {
  let count = 0;
  for await (const run of client.workflow.list({
    query: failuresQuery(query.since, query.signature),
    pageSize: MAX_COUNTED_FAILURES + 1,
  })) {
    if (run.workflowId === query.workflowId) continue;
    count += 1;
    if (count >= MAX_COUNTED_FAILURES) break;
  }
  return count;
}

/** A request that failed for good more than once in the window: one member's loop with the BE. */
export interface LoopingRequest {
  memberId: number;
  signature: string;
  /** Its failures for good in the window (closed failed, or holding now). */
  failures: number;
  /** Of those, how many are holding their code now. */
  holding: number;
  firstStartedAt: string;
  lastStartedAt: string;
  /** The request id of its latest run. */
  lastRequestId: string;
}

/** What a listed run gives the grouping (a visibility record). */
export type ListedFailure = Pick<
  WorkflowExecutionInfo,
  'workflowId' | 'status' | 'startTime' | 'typedSearchAttributes'
>;

/**
 * Groups failed runs by signature and keeps the signatures that failed more than once: most failures
 * first, then the latest. Runs without a signature (API requests) are left out. Pure.
 */
export function loopingRequests(runs: Iterable<ListedFailure>): LoopingRequest[] {
  const bySignature = new Map<string, LoopingRequest>();
  for (const run of runs) {
    const signature = run.typedSearchAttributes.get(RequestSignatureSearchAttribute);
    const memberId = run.typedSearchAttributes.get(MemberIdSearchAttribute);
    if (signature === undefined || memberId === undefined) continue;
    const startedAt = run.startTime.toISOString();
    const requestId = requestIdOf(run.workflowId) ?? run.workflowId;
    const holding = run.status.name === 'RUNNING' ? 1 : 0;
    const entry = bySignature.get(signature);
    if (!entry) {
      bySignature.set(signature, {
        memberId,
        signature,
        failures: 1,
        holding,
        firstStartedAt: startedAt,
        lastStartedAt: startedAt,
        lastRequestId: requestId,
      });
      continue;
    }
    entry.failures += 1;
    entry.holding += holding;
    if (startedAt < entry.firstStartedAt) entry.firstStartedAt = startedAt;
    if (startedAt > entry.lastStartedAt) {
      entry.lastStartedAt = startedAt;
      entry.lastRequestId = requestId;
    }
  }
  return [...bySignature.values()]
    .filter((r) => r.failures > 1)
    .sort((a, b) => b.failures - a.failures || b.lastStartedAt.localeCompare(a.lastStartedAt));
}

/**
 * Requests (across members) that failed for good more than once since `since` (default: the last 24 h).
 * Reads every failure of the window from visibility once.
 */
export async function listLoopingRequests(
  client: RunLister,
  options: { since?: Date; memberId?: number; now?: number } = {},
): Promise<LoopingRequest[]> {
  const since = options.since ?? new Date((options.now ?? Date.now()) - REPEAT_WINDOW_MS);
  if (options.memberId !== undefined && !(Number.isSafeInteger(options.memberId) && options.memberId > 0))
    throw new Error('memberId must be a positive integer');
  const member =
    options.memberId === undefined ? '' : ` AND ${MemberIdSearchAttribute.name} = ${options.memberId}`;
  const runs: ListedFailure[] = [];
  for await (const run of client.workflow.list({ query: failuresQuery(since) + member, pageSize: 1000 })) {
    runs.push(run);
  }
  return loopingRequests(runs);
}
