/**
 * Where a feedback request is: one view for the API's `GET /ai/feedback/:requestId` and the operator
 * CLI. Built from the run's description (status, search attributes, memo, pending activities), the
 * workflow's `status` query while it runs, and its result or failure once it is closed.
 */
import {
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { AppConfig } from '../config';
import { workflowIdFor } from '../domain/keys';
import {
  CompletionTokensSearchAttribute,
  FailureTypes,
  FeedbackStageSearchAttribute,
  PromptTokensSearchAttribute,
  FEEDBACK_STAGES,
  statusQuery,
  type FeedbackOutcome,
  type FeedbackStage,
  type FeedbackStatus,
  type RunFailureDetails,
} from '../domain/workflow';
import { webUiLink } from '../shared/temporal';
import type { FeedbackStatusView } from '../domain/status-view';

export type { FeedbackStatusView };

/** The parts a view is made from; `toStatusView` is pure so that every stage is testable. */
export interface StatusParts {
  requestId: string;
  description: Pick<WorkflowExecutionDescription, 'runId' | 'startTime' | 'closeTime' | 'memo'> & {
    status: string;
    stageAttribute?: string;
    /** The PromptTokens / CompletionTokens search attributes. */
    tokens?: { prompt?: number; completion?: number };
    pendingActivities: Array<{ activity: string; attempt: number; lastFailure?: string }>;
  };
  /** The `status` query's answer (running runs; absent when no worker answered in time). */
  query?: FeedbackStatus;
  /** The result of a completed run. */
  outcome?: FeedbackOutcome;
  /** The failure of a failed run. */
  failure?: RunFailure;
  webUiUrl?: string;
}

const isStage = (value: unknown): value is FeedbackStage =>
  typeof value === 'string' && (FEEDBACK_STAGES as readonly string[]).includes(value);

/**
 * The stage of a closed run, from how it ended: completed runs delivered (they do not say so in
 * `FeedbackStage`), failed ones failed or expired, any other end (terminated, cancelled, timed out)
 * delivered nothing. Shared by the status view and `feedback list`.
 */
export function closedStage(workflowStatus: string, expired: boolean): FeedbackStage {
  if (workflowStatus === 'COMPLETED') return 'delivered';
  return workflowStatus === 'FAILED' && expired ? 'expired' : 'failed';
}

export function toStatusView(parts: StatusParts): FeedbackStatusView {
  const { description: d, query, outcome, failure } = parts;
  const memo = d.memo ?? {};
  const pending = d.pendingActivities[0];
  const view: FeedbackStatusView = {
    requestId: parts.requestId,
    workflowId: workflowIdFor(parts.requestId),
    stage: 'queued',
    workflowStatus: d.status,
    attempts: {},
    runId: d.runId,
    startedAt: d.startTime.toISOString(),
    ...(d.closeTime ? { closedAt: d.closeTime.toISOString() } : {}),
    ...(typeof memo.memberId === 'number' ? { memberId: memo.memberId } : {}),
    ...tokensOf(d.tokens),
    ...(Object.keys(memo).length > 0 ? { summary: memo } : {}),
    ...(parts.webUiUrl ? { webUiUrl: parts.webUiUrl } : {}),
  };
  if (d.status !== 'RUNNING')
    view.stage = closedStage(
      d.status,
      failure?.type === FailureTypes.RequestExpired || d.stageAttribute === 'expired',
    );
  switch (d.status) {
    case 'RUNNING':
      view.stage = query?.stage ?? (isStage(d.stageAttribute) ? d.stageAttribute : 'queued');
      if (query) view.attempts.generations = query.generations;
      if (pending) view.attempts.current = { activity: pending.activity, attempt: pending.attempt };
      view.lastError = query?.lastError ?? pending?.lastFailure;
      if (query?.content !== undefined) view.content = query.content;
      if (query?.holdUntil !== undefined) view.holdUntil = query.holdUntil;
      break;
    case 'COMPLETED':
      if (outcome) {
        view.content = outcome.content;
        view.attempts.generations = outcome.generations;
      }
      break;
    case 'FAILED':
      view.lastError = failure?.message;
      // The status code the run sent the BE before it failed ("500", or "408" for an expired request);
      // none when nothing was delivered.
      if (failure?.details?.content !== undefined) view.content = failure.details.content;
      break;
    default:
      // TERMINATED, CANCELLED, TIMED_OUT: nothing was delivered by this run.
      view.lastError = `workflow ${d.status.toLowerCase().replace('_', ' ')}`;
  }
  if (view.lastError === undefined) delete view.lastError;
  return view;
}

function tokensOf(tokens: StatusParts['description']['tokens']): Pick<FeedbackStatusView, 'tokens'> {
  const prompt = tokens?.prompt ?? 0;
  const completion = tokens?.completion ?? 0;
  // 0 and 0: not generated yet (the attributes start at 0), or a run from before token accounting.
  return prompt + completion > 0 ? { tokens: { prompt, completion } } : {};
}

export interface StatusLookupOptions {
  temporal: AppConfig['temporal'];
  /** Bound for the status query of a running run (it needs a worker to answer). Default 2 s. */
  queryTimeoutMs?: number;
}

/** The status of `requestId`, or `undefined` when Temporal has no run for it. */
export async function lookupFeedbackStatus(
  client: Client,
  requestId: string,
  options: StatusLookupOptions,
): Promise<FeedbackStatusView | undefined> {
  const workflowId = workflowIdFor(requestId);
  const handle = client.workflow.getHandle(workflowId);
  let description: WorkflowExecutionDescription;
  try {
    description = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
  const parts: StatusParts = {
    requestId,
    description: {
      runId: description.runId,
      startTime: description.startTime,
      closeTime: description.closeTime,
      memo: description.memo,
      status: description.status.name,
      stageAttribute: description.typedSearchAttributes.get(FeedbackStageSearchAttribute),
      tokens: {
        prompt: description.typedSearchAttributes.get(PromptTokensSearchAttribute),
        completion: description.typedSearchAttributes.get(CompletionTokensSearchAttribute),
      },
      pendingActivities: (description.raw.pendingActivities ?? []).map((a) => ({
        activity: a.activityType?.name ?? 'unknown',
        attempt: a.attempt ?? 1,
        lastFailure: a.lastFailure?.message ?? undefined,
      })),
    },
    webUiUrl: webUiLink(options.temporal, workflowId, description.runId),
  };
  const runHandle = client.workflow.getHandle(workflowId, description.runId);
  if (description.status.name === 'RUNNING') {
    const deadline = Date.now() + (options.queryTimeoutMs ?? 2000);
    parts.query = await client.connection
      .withDeadline(deadline, () => runHandle.query(statusQuery))
      .catch(() => undefined);
  } else if (description.status.name === 'COMPLETED') {
    parts.outcome = (await runHandle.result()) as FeedbackOutcome;
  } else if (description.status.name === 'FAILED') {
    parts.failure = await runFailure(runHandle);
  }
  return toStatusView(parts);
}

/** How a failed run failed: its message, type and, for the run's own failures, their details. */
export interface RunFailure {
  message: string;
  type?: string;
  details?: RunFailureDetails;
}

/** The failure a closed run ended with; undefined when it did not fail. */
export async function runFailure(handle: Pick<WorkflowHandle, 'result'>): Promise<RunFailure | undefined> {
  try {
    await handle.result();
    return undefined;
  } catch (err) {
    if (!(err instanceof WorkflowFailedError && err.cause)) {
      return { message: err instanceof Error ? err.message : String(err) };
    }
    const cause = err.cause;
    if (!(cause instanceof ApplicationFailure)) return { message: cause.message };
    const details = cause.details?.[0] as RunFailureDetails | undefined;
    return {
      message: cause.message,
      ...(cause.type ? { type: cause.type } : {}),
      ...(details ? { details } : {}),
    };
  }
}
