/**
 * Operator actions on requests, behind `npm run feedback`: list a member's runs, run a failed request
 * again, send a stored result again. Each returns data; src/cli/feedback.ts prints it.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { defaultPayloadConverter, WorkflowIdReusePolicy } from '@temporalio/common';
import type { AppConfig } from '../config';
import { redeliverWorkflowId, requestIdOf, workflowIdFor } from '../domain/keys';
import { buildFeedbackResult, resultChannels, type FeedbackResult } from '../domain/result';
import {
  FEEDBACK_WORKFLOW_TYPE,
  failureHoldUntil,
  FEEDBACK_STAGES,
  FeedbackStageSearchAttribute,
  MemberIdSearchAttribute,
  type FeedbackOutcome,
  type FeedbackStage,
  type FeedbackWorkflowInput,
  REDELIVER_WORKFLOW_TYPE,
  type RedeliverInput,
} from '../domain/workflow';
import type { DeliveryChannel } from '../domain/policy';
import { fromEpochMillis } from '../domain/datetime';
import { REPEAT_WINDOW_MS } from '../domain/hold';
import { countEarlierFailures } from '../run/repeats';
import { startFeedbackWorkflow } from '../run/start';
import { webUiLink } from '../shared/temporal';
import { closedStage, lookupFeedbackStatus, runFailure, type FeedbackStatusView } from '../run/status';

/** An operator action that cannot be done; `code` becomes the CLI's exit code. */
export class OperationError extends Error {
  constructor(
    message: string,
    readonly code: 'not-found' | 'refused',
  ) {
    super(message);
    this.name = 'OperationError';
  }
}

export interface ListedRun {
  requestId: string;
  workflowId: string;
  runId: string;
  workflowStatus: string;
  stage?: string;
  startedAt: string;
  closedAt?: string;
  webUiUrl: string;
}

export interface ListFilter {
  memberId: number;
  stage?: FeedbackStage;
  /** Only runs started at or after this time. */
  since?: Date;
  limit?: number;
}

/** The visibility query for a filter (also what the README shows for the Web UI); any member without one. */
export function listQuery(filter: Omit<ListFilter, 'memberId' | 'limit'> & { memberId?: number }): string {
  if (filter.memberId !== undefined && (!Number.isSafeInteger(filter.memberId) || filter.memberId <= 0))
    throw new Error('memberId must be a positive integer');
  if (filter.stage !== undefined && !FEEDBACK_STAGES.includes(filter.stage)) {
    throw new Error(`stage must be one of ${FEEDBACK_STAGES.join(', ')}`);
  }
  const parts = [`WorkflowType = '${FEEDBACK_WORKFLOW_TYPE}'`];
  if (filter.memberId !== undefined) parts.push(`${MemberIdSearchAttribute.name} = ${filter.memberId}`);
  if (filter.stage) parts.push(stageCondition(filter.stage));
  if (filter.since) parts.push(`StartTime >= '${filter.since.toISOString()}'`);
  return parts.join(' AND ');
}

/**
 * The visibility condition for runs at `stage`, the same stage that `listedStage` (and the status
 * view) shows: a closed run's stage comes from how it ended, a running run's from `FeedbackStage`.
 */
function stageCondition(stage: FeedbackStage): string {
  const attribute = FeedbackStageSearchAttribute.name;
  switch (stage) {
    case 'delivered':
      // `delivered` is never upserted: a run completes only once delivered.
      return `ExecutionStatus = 'Completed'`;
    case 'expired':
      return `ExecutionStatus = 'Failed' AND ${attribute} = 'expired'`;
    case 'failed':
      // Also runs that were terminated, cancelled or timed out, whatever stage they had reached.
      return `ExecutionStatus IN ('Failed', 'Terminated', 'Canceled', 'TimedOut') AND ${attribute} != 'expired'`;
    default:
      return `ExecutionStatus = 'Running' AND ${attribute} = '${stage}'`;
  }
}

/** The stage of a listed run (from its visibility record), as the status view derives it. */
export function listedStage(workflowStatus: string, stageAttribute: string | undefined): string | undefined {
  return CLOSED_STATUSES.has(workflowStatus)
    ? closedStage(workflowStatus, stageAttribute === 'expired')
    : stageAttribute;
}

const CLOSED_STATUSES = new Set(['COMPLETED', 'FAILED', 'TERMINATED', 'CANCELLED', 'TIMED_OUT']);

export async function listFeedback(
  client: Client,
  temporal: AppConfig['temporal'],
  filter: ListFilter,
): Promise<ListedRun[]> {
  const runs: ListedRun[] = [];
  const limit = filter.limit ?? 50;
  for await (const run of client.workflow.list({
    query: listQuery(filter),
    pageSize: Math.min(limit, 100),
  })) {
    runs.push({
      requestId: requestIdOf(run.workflowId) ?? run.workflowId,
      workflowId: run.workflowId,
      runId: run.runId,
      workflowStatus: run.status.name,
      stage: listedStage(run.status.name, run.typedSearchAttributes.get(FeedbackStageSearchAttribute)),
      startedAt: run.startTime.toISOString(),
      ...(run.closeTime ? { closedAt: run.closeTime.toISOString() } : {}),
      webUiUrl: webUiLink(temporal, run.workflowId, run.runId),
    });
    if (runs.length >= limit) break;
  }
  return runs;
}

/** The input the run of `requestId` was started with (from the first event of its history). */
export async function runInput(
  client: Client,
  requestId: string,
  runId?: string,
): Promise<FeedbackWorkflowInput> {
  const history = await client.workflow.getHandle(workflowIdFor(requestId), runId).fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!payload) throw new OperationError(`the run of ${requestId} has no input in its history`, 'refused');
  return defaultPayloadConverter.fromPayload<FeedbackWorkflowInput>(payload);
}

export interface RetryResult {
  requestId: string;
  workflowId: string;
  runId: string;
  previousRunId: string;
}

/** Why a run that is still open cannot be retried or redelivered now. */
function openRunRefusal(requestId: string, view: FeedbackStatusView, action: string): OperationError {
  if (view.stage === 'holding') {
    return new OperationError(
      `${requestId} is holding its failure result "${view.content ?? ''}" until ${view.holdUntil ?? 'its hold ends'}: ` +
        "sent earlier, the BE's re-request would be dropped by SQS deduplication. The run delivers it " +
        `then by itself; ${action} is not needed.`,
      'refused',
    );
  }
  return new OperationError(
    `${requestId} is running (stage ${view.stage}); only a closed run can be ${action === 'retry' ? 'retried' : 'redelivered'}`,
    'refused',
  );
}

/**
 * A new run for a request whose last run failed (or was terminated, cancelled or timed out), with the
 * same request and the policy of the current configuration. Refused for running or completed runs.
 */
export async function retryFeedback(
  client: Client,
  config: AppConfig,
  requestId: string,
): Promise<RetryResult> {
  const view = await lookupFeedbackStatus(client, requestId, { temporal: config.temporal });
  if (!view) throw new OperationError(`no run for ${requestId}`, 'not-found');
  if (view.workflowStatus === 'RUNNING') throw openRunRefusal(requestId, view, 'retry');
  if (view.workflowStatus === 'COMPLETED') {
    throw new OperationError(`${requestId} is completed; only a failed request can be retried`, 'refused');
  }
  const previous = await runInput(client, requestId, view.runId);
  try {
    const started = await startFeedbackWorkflow(
      client,
      // A retry is a new acceptance: an expired request gets a fresh maximum age. It keeps the send
      // time, from which the BE's deduplication window (and so the failure hold) counts.
      { ...previous, policy: config.policy, acceptedAt: fromEpochMillis(Date.now()) },
      {
        taskQueue: config.temporal.taskQueue,
        promptVersion: config.prompt.version,
        priority: config.priority,
        // The bridge rejects every duplicate; an operator's retry of a closed, failed run is allowed.
        reusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      },
    );
    return { requestId, ...started, previousRunId: view.runId ?? '' };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw new OperationError(`${requestId} was started again meanwhile`, 'refused');
    }
    throw err;
  }
}

export interface RedeliverResult {
  requestId: string;
  workflowId: string;
  channels: DeliveryChannel[];
  result: FeedbackResult;
}

/**
 * Sends the result of a closed run again: the feedback of a completed run, or the "500" of a run whose
 * generation failed for good (like the first run's: to the result queue only, after the request's
 * failure hold, grown by the request's other failures of the last 24 h as the run's own was). Runs RedeliverWorkflow (durable, retried like the first delivery) and, unless `wait`
 * is false, waits for it.
 */
export async function redeliverFeedback(
  client: Client,
  config: AppConfig,
  requestId: string,
  options: { wait?: boolean; now?: () => number } = {},
): Promise<RedeliverResult> {
  const view = await lookupFeedbackStatus(client, requestId, { temporal: config.temporal });
  if (!view) throw new OperationError(`no run for ${requestId}`, 'not-found');
  if (view.workflowStatus === 'RUNNING') throw openRunRefusal(requestId, view, 'redeliver');
  if (view.content === undefined) {
    throw new OperationError(
      `${requestId} has no stored result to send (${view.workflowStatus.toLowerCase()}, stage ${view.stage})`,
      'refused',
    );
  }
  const input = await runInput(client, requestId, view.runId);
  const handle = client.workflow.getHandle(workflowIdFor(requestId), view.runId);
  let channels: DeliveryChannel[];
  let failure: string | undefined;
  let notBefore: number | undefined;
  if (view.workflowStatus === 'COMPLETED') {
    channels = ((await handle.result()) as FeedbackOutcome).deliveredTo;
  } else {
    failure = (await runFailure(handle))?.details?.reason;
    channels = resultChannels(config.policy, true);
    if (channels.length === 0) {
      throw new OperationError(
        `${requestId} failed; its status code goes only to the result queue (the BE's callback would ` +
          `store it as feedback) and DELIVERY_MODE=${config.policy.deliveryMode} has none: use feedback retry`,
        'refused',
      );
    }
    // The same rule as the run's own hold: grown by the request's other failures of the last 24 h.
    const now = (options.now ?? Date.now)();
    const earlierFailures =
      input.signature === undefined
        ? 0
        : await countEarlierFailures(client, {
            signature: input.signature,
            since: new Date(now - REPEAT_WINDOW_MS),
            workflowId: workflowIdFor(requestId),
          });
    notBefore = failureHoldUntil({ ...input, policy: config.policy }, { earlierFailures, now });
  }
  const result = buildFeedbackResult({
    requestId,
    memberId: input.request.memberId,
    requestedAt: input.requestedAt,
    content: view.workflowStatus === 'COMPLETED' ? view.content : undefined,
    failure,
    // The status code the run sent: "500", or "408" for an expired request.
    failureContent: view.content,
  });
  const workflowId = redeliverWorkflowId(requestId, (options.now ?? Date.now)());
  const redeliverInput: RedeliverInput = {
    result,
    channels,
    idempotencyKey: workflowId,
    policy: config.policy,
    ...(notBefore !== undefined && notBefore > (options.now ?? Date.now)()
      ? { notBefore: new Date(notBefore).toISOString() }
      : {}),
  };
  const run = await client.workflow.start(REDELIVER_WORKFLOW_TYPE, {
    taskQueue: config.temporal.taskQueue,
    workflowId,
    args: [redeliverInput],
  });
  if (options.wait !== false) await run.result();
  return { requestId, workflowId, channels, result };
}
