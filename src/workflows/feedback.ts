/**
 * FeedbackWorkflow: generateCheckedFeedback (builds the prompt, asks vLLM, checks the answer with the
 * guardrail; regenerated a bounded number of times) → deliverResult. A failure for good is a result
 * too, on the path that understands it: the result queue gets the status code ("500", "408"), held
 * until the BE's re-request can no longer be dropped by SQS deduplication; the callback, which stores
 * any content as feedback, never gets it (unless the policy says the BE reads codes there).
 * Deterministic: no I/O; timeouts and retries come from the run's policy.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  log,
  metricMeter,
  proxyActivities,
  setHandler,
  sleep,
  TimeoutFailure,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import { TimeoutType, type SearchAttributeUpdatePair } from '@temporalio/common';
import type { FeedbackActivities } from '../activities';
import type { FeedbackPolicy } from '../domain/policy';
import { buildFeedbackResult, EXPIRED_CONTENT, resultChannels, type FeedbackResult } from '../domain/result';
import {
  CompletionTokensSearchAttribute,
  FailureTypes,
  FeedbackStageSearchAttribute,
  PromptTokensSearchAttribute,
  failureHoldUntil,
  statusQuery,
  type FeedbackOutcome,
  type FeedbackStage,
  type FeedbackStatus,
  type FeedbackWorkflowInput,
} from '../domain/workflow';

const seconds = (n: number) => n * 1000;

export async function FeedbackWorkflow(input: FeedbackWorkflowInput): Promise<FeedbackOutcome> {
  const { policy } = input;
  const status: FeedbackStatus = { stage: 'queued', generations: 0 };
  setHandler(statusQuery, () => status);
  // Only with the attributes set at start (startFeedbackWorkflow sets them): on a namespace where one
  // is not registered, an upsert would fail every workflow task of the run.
  const attributes = workflowInfo().typedSearchAttributes;
  const stageSearchable = attributes.get(FeedbackStageSearchAttribute) !== undefined;
  const tokensSearchable =
    attributes.get(PromptTokensSearchAttribute) !== undefined &&
    attributes.get(CompletionTokensSearchAttribute) !== undefined;
  const enter = (stage: FeedbackStage, extra: SearchAttributeUpdatePair[] = []) => {
    const changed = stage !== status.stage || extra.length > 0;
    status.stage = stage;
    if (stageSearchable && changed)
      upsertSearchAttributes([{ key: FeedbackStageSearchAttribute, value: stage }, ...extra]);
  };

  const { content, failure, expired } = await generate(input, status, enter);
  if (failure !== undefined) {
    status.lastError = failure;
    log.warn('Feedback generation failed for good', { reason: failure, expired });
  }

  const result: FeedbackResult = buildFeedbackResult({
    requestId: input.requestId,
    memberId: input.request.memberId,
    requestedAt: input.requestedAt,
    content,
    failure,
    ...(expired ? { failureContent: EXPIRED_CONTENT } : {}),
  });
  const channels = resultChannels(policy, failure !== undefined);
  const tokens = status.tokens;
  const tokenAttributes: SearchAttributeUpdatePair[] =
    tokens && tokensSearchable
      ? [
          { key: PromptTokensSearchAttribute, value: tokens.prompt },
          { key: CompletionTokensSearchAttribute, value: tokens.completion },
        ]
      : [];

  if (failure !== undefined && channels.length === 0) {
    // Callback only: the BE's callback would store "500" as the member's feedback. Nothing is sent;
    // the run fails with the reason, and `feedback retry` can run the request again.
    countFailure('not-delivered', expired ? 'expired' : 'generation');
    enter(expired ? 'expired' : 'failed', tokenAttributes);
    throw ApplicationFailure.nonRetryable(
      `${failure}; no result was delivered (DELIVERY_MODE=${policy.deliveryMode} posts no status code)`,
      FailureTypes.FailureNotDelivered,
    );
  }

  status.content = result.content;
  const holdUntil = failure !== undefined ? failureHoldUntil(input) : undefined;
  if (holdUntil !== undefined && holdUntil > Date.now()) {
    // The BE re-publishes the same body (same deduplication id) the moment it reads the failure: sent
    // earlier, SQS would drop that re-request and the member would get no feedback.
    status.holdUntil = new Date(holdUntil).toISOString();
    enter('holding', tokenAttributes);
    await sleep(holdUntil - Date.now());
    delete status.holdUntil;
  }
  enter('delivering', status.stage === 'holding' ? [] : tokenAttributes);
  const delivery = deliveryActivities(policy);
  const { workflowId, runId } = workflowInfo();
  try {
    await Promise.all(
      channels.map((channel) =>
        delivery.deliverResult({ channel, result, idempotencyKey: workflowId, deduplicationId: runId }),
      ),
    );
  } catch (err) {
    const reason = `delivery failed: ${describeFailure(err)}`;
    status.lastError = reason;
    countFailure('delivery-failed', failure === undefined ? 'delivery' : expired ? 'expired' : 'generation');
    enter('failed');
    throw ApplicationFailure.nonRetryable(reason, FailureTypes.DeliveryFailed);
  }

  if (failure !== undefined) {
    // The BE has its status code and re-requests with a new message (a new request id). Ending as
    // failed shows the run as failed in the Web UI and lets an operator `feedback retry` it.
    countFailure('delivered', expired ? 'expired' : 'generation');
    enter(expired ? 'expired' : 'failed');
    throw ApplicationFailure.nonRetryable(
      `${failure}; the BE was sent content "${result.content}"`,
      expired ? FailureTypes.RequestExpired : FailureTypes.GenerationFailed,
    );
  }
  // A completed run is the record of its delivery: no `delivered` upsert.
  status.stage = 'delivered';
  return {
    requestId: input.requestId,
    memberId: input.request.memberId,
    status: result.status,
    content: result.content,
    generations: status.generations,
    deliveredTo: channels,
    ...(tokens ? { tokens } : {}),
  };
}

interface Generation {
  content?: string;
  failure?: string;
  expired: boolean;
}

/** Generates until the guardrail accepts an answer, generation fails for good, or the request expires. */
async function generate(
  input: FeedbackWorkflowInput,
  status: FeedbackStatus,
  enter: (stage: FeedbackStage) => void,
): Promise<Generation> {
  const { policy } = input;
  const expiresAt = expiryTime(input);
  const llmOptions: ActivityOptions = {
    ...(policy.llmTaskQueue ? { taskQueue: policy.llmTaskQueue } : {}),
    startToCloseTimeout: seconds(policy.generateTimeoutSeconds),
    heartbeatTimeout: seconds(policy.generateHeartbeatSeconds),
    scheduleToCloseTimeout: policy.generateGiveUpAfterMinutes * 60_000,
    retry: {
      initialInterval: seconds(policy.generateRetryInitialSeconds),
      backoffCoefficient: 2,
      maximumInterval: seconds(policy.generateRetryMaxIntervalSeconds),
      nonRetryableErrorTypes: [FailureTypes.VllmRejected],
    },
  };
  const expired = (): Generation => ({
    expired: true,
    failure: `expired: not generated within ${policy.maxAgeMinutes} minutes of ${input.acceptedAt}`,
  });
  for (;;) {
    if (expiresAt !== undefined && Date.now() >= expiresAt) return expired();
    enter('generating');
    // Waiting for an LLM slot (the task queue's backlog) counts toward the request's age.
    const llm = proxyActivities<FeedbackActivities>(
      expiresAt === undefined
        ? llmOptions
        : { ...llmOptions, scheduleToStartTimeout: Math.max(1000, expiresAt - Date.now()) },
    );
    let checked;
    try {
      checked = await llm.generateCheckedFeedback({
        request: input.request,
        maxChars: policy.maxFeedbackChars,
      });
    } catch (err) {
      if (expiresAt !== undefined && isScheduleToStartTimeout(err)) return expired();
      return { expired: false, failure: `generation failed: ${describeFailure(err)}` };
    }
    if (checked.usage) {
      status.tokens = {
        prompt: (status.tokens?.prompt ?? 0) + checked.usage.promptTokens,
        completion: (status.tokens?.completion ?? 0) + checked.usage.completionTokens,
      };
    }
    status.generations += 1;
    const { verdict } = checked;
    if (verdict.ok) return { expired: false, content: verdict.text };
    if (status.generations > policy.maxRegenerations) {
      return {
        expired: false,
        failure: `guardrail rejected ${status.generations} answers, last: ${verdict.reason} (${verdict.detail})`,
      };
    }
    status.lastError = `guardrail: ${verdict.reason}`;
    log.warn('Regenerating feedback', { reason: verdict.reason, generation: status.generations });
  }
}

/**
 * Runs that failed for good, by what failed (`reason`) and what the BE got (`outcome`: `delivered`
 * means a status code reached it, so it re-requests).
 */
function countFailure(
  outcome: 'delivered' | 'not-delivered' | 'delivery-failed',
  reason: 'generation' | 'expired' | 'delivery',
): void {
  metricMeter
    .createCounter('feedback_failures', 'runs', 'Runs that failed for good, by outcome and reason.')
    .add(1, { outcome, reason });
}

/** When the request stops being worth generating (epoch ms), if the run has a maximum age. */
function expiryTime(input: FeedbackWorkflowInput): number | undefined {
  const maxAge = input.policy.maxAgeMinutes;
  const accepted = Date.parse(input.acceptedAt);
  if (!maxAge || !Number.isFinite(accepted)) return undefined;
  return accepted + maxAge * 60_000;
}

function isScheduleToStartTimeout(err: unknown): boolean {
  return (
    err instanceof ActivityFailure &&
    err.cause instanceof TimeoutFailure &&
    err.cause.timeoutType === TimeoutType.SCHEDULE_TO_START
  );
}

/** The delivery activity with the policy's timeouts and retries (also used by RedeliverWorkflow). */
export function deliveryActivities(
  policy: Pick<
    FeedbackPolicy,
    'deliveryTimeoutSeconds' | 'deliveryGiveUpAfterHours' | 'deliveryRetryMaxIntervalSeconds'
  >,
) {
  return proxyActivities<Pick<FeedbackActivities, 'deliverResult'>>({
    startToCloseTimeout: seconds(policy.deliveryTimeoutSeconds),
    scheduleToCloseTimeout: policy.deliveryGiveUpAfterHours * 3_600_000,
    retry: {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumInterval: seconds(policy.deliveryRetryMaxIntervalSeconds),
      nonRetryableErrorTypes: [FailureTypes.DeliveryRejected],
    },
  });
}

/** The innermost message of an activity failure, e.g. "vLLM answered 400: ...". */
function describeFailure(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}
