/**
 * FeedbackWorkflow: buildPrompt → generateFeedback → validateFeedback (regenerate a bounded number
 * of times) → deliverResult. Deterministic: no I/O, timeouts and retries come from the run's policy.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { FeedbackActivities } from '../activities';
import type { FeedbackPolicy } from '../domain/policy';
import { buildFeedbackResult, deliveryChannels, type FeedbackResult } from '../domain/result';
import {
  FailureTypes,
  FeedbackStageSearchAttribute,
  statusQuery,
  type DeliveryChannel,
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
  // Keep the stage searchable only when the run was started with the attribute: on a namespace
  // where it is not registered an upsert would fail every workflow task.
  const stageSearchable =
    workflowInfo().typedSearchAttributes.get(FeedbackStageSearchAttribute) !== undefined;
  const enter = (stage: FeedbackStage) => {
    status.stage = stage;
    if (stageSearchable) upsertSearchAttributes([{ key: FeedbackStageSearchAttribute, value: stage }]);
  };

  // Pure, fast steps run as local activities: no task-queue round trip, still recorded in history.
  const local = proxyLocalActivities<FeedbackActivities>({
    startToCloseTimeout: '10 seconds',
    retry: { maximumAttempts: 3 },
  });
  const llm = proxyActivities<FeedbackActivities>({
    startToCloseTimeout: seconds(policy.generateTimeoutSeconds),
    heartbeatTimeout: seconds(policy.generateHeartbeatSeconds),
    scheduleToCloseTimeout: policy.generateGiveUpAfterMinutes * 60_000,
    retry: {
      initialInterval: seconds(policy.generateRetryInitialSeconds),
      backoffCoefficient: 2,
      maximumInterval: seconds(policy.generateRetryMaxIntervalSeconds),
      nonRetryableErrorTypes: [FailureTypes.VllmRejected],
    },
  });
  const delivery = deliveryActivities(policy);

  enter('generating');
  const messages = await local.buildPrompt({ request: input.request, requestedAt: input.requestedAt });
  const prompt = messages.map((m) => m.content).join('\n');

  let content: string | undefined;
  let failure: string | undefined;
  while (content === undefined && failure === undefined) {
    enter('generating');
    let text: string;
    try {
      text = (await llm.generateFeedback({ messages })).text;
    } catch (err) {
      failure = `generation failed: ${describeFailure(err)}`;
      break;
    }
    status.generations += 1;
    enter('validating');
    const verdict = await local.validateFeedback({ text, prompt, maxChars: policy.maxFeedbackChars });
    if (verdict.ok) {
      content = verdict.text;
    } else if (status.generations > policy.maxRegenerations) {
      failure = `guardrail rejected ${status.generations} answers, last: ${verdict.reason} (${verdict.detail})`;
    } else {
      status.lastError = `guardrail: ${verdict.reason}`;
      log.warn('Regenerating feedback', { reason: verdict.reason, generation: status.generations });
    }
  }
  if (failure !== undefined) {
    status.lastError = failure;
    log.warn('Feedback generation failed for good; delivering a recoverable failure', { reason: failure });
  }

  const result: FeedbackResult = buildFeedbackResult({
    requestId: input.requestId,
    memberId: input.request.memberId,
    requestedAt: input.requestedAt,
    content,
    failure,
  });
  status.content = result.content;

  enter('delivering');
  const channels: DeliveryChannel[] = deliveryChannels(policy.deliveryMode);
  const idempotencyKey = workflowInfo().workflowId;
  try {
    await Promise.all(channels.map((channel) => delivery.deliverResult({ channel, result, idempotencyKey })));
  } catch (err) {
    const reason = `delivery failed: ${describeFailure(err)}`;
    status.lastError = reason;
    enter('failed');
    throw ApplicationFailure.nonRetryable(reason, FailureTypes.DeliveryFailed);
  }

  if (failure !== undefined) {
    // The BE has its "500" and will re-request. Ending as failed (not completed) lets that re-request,
    // which carries the same body and so the same workflow id, start a new run (reuse policy
    // ALLOW_DUPLICATE_FAILED_ONLY), and shows the run as failed in the Web UI.
    enter('failed');
    throw ApplicationFailure.nonRetryable(
      `${failure}; the BE was sent content "${result.content}"`,
      FailureTypes.GenerationFailed,
    );
  }
  enter('delivered');
  return {
    requestId: input.requestId,
    memberId: input.request.memberId,
    status: result.status,
    content: result.content,
    generations: status.generations,
    deliveredTo: channels,
  };
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
