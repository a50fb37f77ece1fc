/**
 * FeedbackWorkflow: generateCheckedFeedback (builds the prompt, asks vLLM, checks the answer with
 * the guardrail; regenerated a bounded number of times) → deliverResult. Deterministic: no I/O,
 * timeouts and retries come from the run's policy. Runs started before `lean-history-v1` replay their
 * own path: buildPrompt and validateFeedback as local activities around generateFeedback; runs started
 * before `lean-history-v2` also upsert the `delivered` stage.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  TimeoutFailure,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import { TimeoutType, type SearchAttributeUpdatePair } from '@temporalio/common';
import type { FeedbackActivities } from '../activities';
import type { ChatCompletionAnswer } from '../activities/vllm';
import type { GuardrailVerdict } from '../domain/guardrail';
import type { ChatMessage } from '../domain/prompt';
import type { FeedbackPolicy } from '../domain/policy';
import {
  buildFeedbackResult,
  deliveryChannels,
  EXPIRED_CONTENT,
  type FeedbackResult,
} from '../domain/result';
import {
  CompletionTokensSearchAttribute,
  FailureTypes,
  FeedbackStageSearchAttribute,
  PromptTokensSearchAttribute,
  statusQuery,
  type DeliveryChannel,
  type FeedbackOutcome,
  type FeedbackStage,
  type FeedbackStatus,
  type FeedbackWorkflowInput,
} from '../domain/workflow';

const seconds = (n: number) => n * 1000;

/**
 * Runs started with this patch: generateFeedback on the policy's LLM task queue, expiry after
 * `policy.maxAgeMinutes`, token accounting. Replayed histories from before it keep their old path.
 */
export const FLOW_CONTROL_PATCH = 'flow-control-v1';

/**
 * Runs started with this patch (which includes flow control) have a smaller history: the prompt is
 * built and the answer checked inside generateCheckedFeedback instead of two local activities around
 * generateFeedback, and the stage is upserted only where it changes (no second `generating`, no
 * `validating`). Per run: two markers and two search-attribute upserts fewer, no prompt text.
 */
export const LEAN_HISTORY_PATCH = 'lean-history-v1';

/**
 * Runs started with this patch (which includes lean-history-v1) upsert the stage only when it
 * changes and never upsert `delivered`: a run completes only after it delivered, so its visibility
 * record says so already (`ExecutionStatus = 'Completed'`; the status view and `feedback list` derive
 * the stage from it). One search-attribute upsert fewer per run, each a write to the visibility store.
 */
export const LEAN_HISTORY_V2_PATCH = 'lean-history-v2';

export async function FeedbackWorkflow(input: FeedbackWorkflowInput): Promise<FeedbackOutcome> {
  const { policy } = input;
  const status: FeedbackStatus = { stage: 'queued', generations: 0 };
  setHandler(statusQuery, () => status);
  // Keep the stage searchable only when the run was started with the attribute: on a namespace
  // where it is not registered an upsert would fail every workflow task.
  const stageSearchable =
    workflowInfo().typedSearchAttributes.get(FeedbackStageSearchAttribute) !== undefined;
  // A run asks only for the newest patch it has: each patch is a marker and a change-version upsert.
  // Replays of older runs find no newer marker and take their recorded path.
  const leanV2 = patched(LEAN_HISTORY_V2_PATCH);
  const lean = leanV2 || patched(LEAN_HISTORY_PATCH);
  const flowControl = lean || patched(FLOW_CONTROL_PATCH);
  const enter = (stage: FeedbackStage, extra: SearchAttributeUpdatePair[] = []) => {
    // Older runs upserted `generating` again for each regeneration: their replay must do the same.
    const changed = stage !== status.stage || extra.length > 0 || !leanV2;
    status.stage = stage;
    if (stageSearchable && changed)
      upsertSearchAttributes([{ key: FeedbackStageSearchAttribute, value: stage }, ...extra]);
  };
  // Only with the attributes set at start (the bridge sets them to 0): an upsert of an attribute the
  // namespace does not have would fail every workflow task of the run.
  const tokensSearchable =
    workflowInfo().typedSearchAttributes.get(PromptTokensSearchAttribute) !== undefined &&
    workflowInfo().typedSearchAttributes.get(CompletionTokensSearchAttribute) !== undefined;
  const expiresAt = flowControl ? expiryTime(input) : undefined;

  // Pure, fast steps run as local activities: no task-queue round trip, still recorded in history.
  const local = proxyLocalActivities<FeedbackActivities>({
    startToCloseTimeout: '10 seconds',
    retry: { maximumAttempts: 3 },
  });
  const llmOptions: ActivityOptions = {
    ...(flowControl && policy.llmTaskQueue ? { taskQueue: policy.llmTaskQueue } : {}),
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
  const delivery = deliveryActivities(policy);

  let messages: ChatMessage[] = [];
  let prompt = '';
  if (!lean) {
    enter('generating');
    messages = await local.buildPrompt({ request: input.request, requestedAt: input.requestedAt });
    prompt = messages.map((m) => m.content).join('\n');
  }

  let content: string | undefined;
  let failure: string | undefined;
  let expired = false;
  while (content === undefined && failure === undefined) {
    if (expiresAt !== undefined && Date.now() >= expiresAt) {
      expired = true;
      break;
    }
    enter('generating');
    // Waiting for an LLM slot (the task queue's backlog) counts toward the request's age.
    const llm = proxyActivities<FeedbackActivities>(
      expiresAt === undefined
        ? llmOptions
        : { ...llmOptions, scheduleToStartTimeout: Math.max(1000, expiresAt - Date.now()) },
    );
    let answer: ChatCompletionAnswer;
    let verdict: GuardrailVerdict | undefined;
    try {
      if (lean) {
        const checked = await llm.generateCheckedFeedback({
          request: input.request,
          requestedAt: input.requestedAt,
          maxChars: policy.maxFeedbackChars,
        });
        answer = checked;
        verdict = checked.verdict;
      } else {
        answer = await llm.generateFeedback({ messages });
      }
      if (flowControl && answer.usage) {
        status.tokens = {
          prompt: (status.tokens?.prompt ?? 0) + answer.usage.promptTokens,
          completion: (status.tokens?.completion ?? 0) + answer.usage.completionTokens,
        };
      }
    } catch (err) {
      if (expiresAt !== undefined && isScheduleToStartTimeout(err)) {
        expired = true;
        break;
      }
      failure = `generation failed: ${describeFailure(err)}`;
      break;
    }
    status.generations += 1;
    if (verdict === undefined) {
      // Runs from before lean-history-v1: the guardrail runs as a local activity.
      enter('validating');
      verdict = await local.validateFeedback({
        text: answer.text,
        prompt,
        maxChars: policy.maxFeedbackChars,
      });
    }
    if (verdict.ok) {
      content = verdict.text;
    } else if (status.generations > policy.maxRegenerations) {
      failure = `guardrail rejected ${status.generations} answers, last: ${verdict.reason} (${verdict.detail})`;
    } else {
      status.lastError = `guardrail: ${verdict.reason}`;
      log.warn('Regenerating feedback', { reason: verdict.reason, generation: status.generations });
    }
  }
  if (expired) {
    failure = `expired: not generated within ${policy.maxAgeMinutes} minutes of ${input.acceptedAt}`;
    status.lastError = failure;
    log.warn('Request expired before generation; delivering "408"', { reason: failure });
  } else if (failure !== undefined) {
    status.lastError = failure;
    log.warn('Feedback generation failed for good; delivering a recoverable failure', { reason: failure });
  }

  const result: FeedbackResult = buildFeedbackResult({
    requestId: input.requestId,
    memberId: input.request.memberId,
    requestedAt: input.requestedAt,
    content,
    failure,
    ...(expired ? { failureContent: EXPIRED_CONTENT } : {}),
  });
  status.content = result.content;

  // The token totals go with the stage change: one upsert, no extra history event.
  const tokens = status.tokens;
  enter(
    'delivering',
    tokens && tokensSearchable
      ? [
          { key: PromptTokensSearchAttribute, value: tokens.prompt },
          { key: CompletionTokensSearchAttribute, value: tokens.completion },
        ]
      : [],
  );
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
    enter(expired ? 'expired' : 'failed');
    throw ApplicationFailure.nonRetryable(
      `${failure}; the BE was sent content "${result.content}"`,
      expired ? FailureTypes.RequestExpired : FailureTypes.GenerationFailed,
    );
  }
  // lean-history-v2: the completed run is the record of delivery (no upsert).
  if (leanV2) status.stage = 'delivered';
  else enter('delivered');
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

/** When the request stops being worth generating (epoch ms), if the run has a maximum age. */
function expiryTime(input: FeedbackWorkflowInput): number | undefined {
  const maxAge = input.policy.maxAgeMinutes;
  const accepted = input.acceptedAt === undefined ? NaN : Date.parse(input.acceptedAt);
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
