/**
 * FeedbackWorkflow: generate (generateCheckedFeedback builds the prompt, asks vLLM, checks the answer
 * with the guardrail; regenerated a bounded number of times) → hold a failure → deliver (deliverResult).
 * A failure for good is a result too, on the path that understands it: the result queue gets the
 * status code ("500", "408"), held until the BE's re-request can no longer be dropped by SQS
 * deduplication; the callback, which stores any content as feedback, never gets it (unless the policy
 * says the BE reads codes there). Deterministic: no I/O; timeouts and retries come from the run's policy.
 */
import { ActivityFailure, log, metricMeter, sleep, TimeoutFailure, workflowInfo } from '@temporalio/workflow';
import { TimeoutType } from '@temporalio/common';
import { REPEAT_WINDOW_MS } from '../domain/hold';
import type { DeliveryPolicy, DeliveryChannel } from '../domain/policy';
import { buildFeedbackResult, EXPIRED_CONTENT, resultChannels, type FeedbackResult } from '../domain/result';
import { failureHoldUntil, type FeedbackOutcome, type FeedbackWorkflowInput } from '../domain/workflow';
import { describeFailure, endFailed } from './failure';
import { RunProgress } from './progress';
import { deliveryActivities, generationActivities, repeatsActivities } from './proxies';

export async function FeedbackWorkflow(input: FeedbackWorkflowInput): Promise<FeedbackOutcome> {
  const { policy } = input;
  const progress = new RunProgress();
  const generation = await generate(input, progress);
  const { failure } = generation;
  const cause = generation.expired ? 'expired' : 'generation';
  const result = resultOf(input, generation);
  const channels = resultChannels(policy, failure !== undefined);
  if (failure !== undefined && channels.length === 0) {
    // Callback only: the BE's callback would store "500" as the member's feedback. Nothing is sent;
    // the run fails with the reason, and `feedback retry` can run the request again.
    const deliveryMode = policy.deliveryMode;
    endFailed(progress, { outcome: 'not-delivered', cause, reason: failure, deliveryMode });
  }
  progress.status.content = result.content;
  if (failure !== undefined) await hold(input, progress);
  progress.enter('delivering');
  try {
    await deliver(policy, result, channels);
  } catch (err) {
    const reason = `delivery failed: ${describeFailure(err)}`;
    endFailed(progress, { outcome: 'delivery-failed', cause: failure ? cause : 'delivery', reason });
  }
  if (failure !== undefined) {
    // The BE has its status code and re-requests with a new message (a new request id). Ending as
    // failed shows the run as failed in the Web UI and lets an operator `feedback retry` it.
    endFailed(progress, { outcome: 'delivered', cause, reason: failure, content: result.content });
  }
  progress.delivered();
  const { generations, tokens } = progress.status;
  return {
    requestId: input.requestId,
    memberId: input.request.memberId,
    status: result.status,
    content: result.content,
    generations,
    deliveredTo: channels,
    ...(tokens ? { tokens } : {}),
  };
}

/** What generation learned: the accepted text, or why there is none (and whether the request expired). */
interface Generation {
  content?: string;
  failure?: string;
  expired: boolean;
}

/** Generation, start to end: what it learned, and the tokens and a failure handed to the run's progress. */
async function generate(input: FeedbackWorkflowInput, progress: RunProgress): Promise<Generation> {
  const generation = await generateUntilDone(input, progress);
  progress.generationEnded(generation.failure);
  if (generation.failure !== undefined) {
    log.warn('Feedback generation failed for good', {
      reason: generation.failure,
      expired: generation.expired,
    });
  }
  return generation;
}

/** Generates until the guardrail accepts an answer, generation fails for good, or the request expires. */
async function generateUntilDone(input: FeedbackWorkflowInput, progress: RunProgress): Promise<Generation> {
  const { policy } = input;
  const expiresAt = expiryTime(input);
  const expired = (): Generation => ({
    expired: true,
    failure: `expired: not generated within ${policy.maxAgeMinutes} minutes of ${input.acceptedAt}`,
  });
  for (;;) {
    if (expiresAt !== undefined && Date.now() >= expiresAt) return expired();
    progress.enter('generating');
    let checked;
    try {
      checked = await generationActivities(policy, expiresAt).generateCheckedFeedback({
        request: input.request,
        maxChars: policy.maxFeedbackChars,
      });
    } catch (err) {
      if (expiresAt !== undefined && isScheduleToStartTimeout(err)) return expired();
      return { expired: false, failure: `generation failed: ${describeFailure(err)}` };
    }
    progress.generated(checked.usage);
    const { verdict } = checked;
    const { generations } = progress.status;
    if (verdict.ok) return { expired: false, content: verdict.text };
    if (generations > policy.maxRegenerations) {
      return {
        expired: false,
        failure: `guardrail rejected ${generations} answers, last: ${verdict.reason} (${verdict.detail})`,
      };
    }
    progress.status.lastError = `guardrail: ${verdict.reason}`;
    log.warn('Regenerating feedback', { reason: verdict.reason, generation: generations });
  }
}

/**
 * Holds a failure result of a queue request: the BE re-publishes the same body (same deduplication id)
 * the moment it reads the failure; sent earlier, SQS would drop that re-request and the member would
 * get no feedback. The hold grows with the request's earlier failures within 24 h (the BE re-requests
 * on every code, without a cap), ending before the BE's week turn (src/domain/hold.ts).
 */
async function hold(input: FeedbackWorkflowInput, progress: RunProgress): Promise<void> {
  const earlierFailures = await countEarlierFailures(input);
  const holdUntil = failureHoldUntil(input, { earlierFailures, now: Date.now() });
  if (holdUntil === undefined || holdUntil <= Date.now()) return;
  progress.status.holdUntil = new Date(holdUntil).toISOString();
  progress.enter('holding');
  await sleep(holdUntil - Date.now());
  delete progress.status.holdUntil;
}

/**
 * How often this request (its signature) failed for good in the last 24 h, before this run; 0 for a
 * request without one (API) or no hold at all, and when visibility cannot be read (the base hold).
 * A repeat is counted in `feedback_looping_failures_total` (`nth`: this failure's number in the window).
 */
async function countEarlierFailures(input: FeedbackWorkflowInput): Promise<number> {
  if (input.signature === undefined || failureHoldUntil(input) === undefined) return 0;
  let earlier: number;
  try {
    earlier = await repeatsActivities().countEarlierFailures({
      signature: input.signature,
      since: new Date(Date.now() - REPEAT_WINDOW_MS).toISOString(),
      workflowId: workflowInfo().workflowId,
    });
  } catch (err) {
    log.warn('Could not count the earlier failures of the request; holding the base hold', {
      reason: describeFailure(err),
    });
    return 0;
  }
  if (earlier > 0) {
    metricMeter
      .createCounter(
        'feedback_looping_failures',
        'runs',
        'Failures for good of a request that already failed in the last 24 h (a BE re-request loop).',
      )
      .add(1, { nth: earlier + 1 >= 5 ? '5+' : String(earlier + 1) });
  }
  return earlier;
}

/** The feedback, or the status code with the reason when generation failed for good. */
function resultOf(input: FeedbackWorkflowInput, { content, failure, expired }: Generation): FeedbackResult {
  return buildFeedbackResult({
    requestId: input.requestId,
    memberId: input.request.memberId,
    requestedAt: input.requestedAt,
    content,
    failure,
    ...(expired ? { failureContent: EXPIRED_CONTENT } : {}),
  });
}

/** Sends the result to each channel; the run's ids make retries and repeated callbacks idempotent. */
async function deliver(policy: DeliveryPolicy, result: FeedbackResult, channels: DeliveryChannel[]) {
  const delivery = deliveryActivities(policy);
  const { workflowId, runId } = workflowInfo();
  await Promise.all(
    channels.map((channel) =>
      delivery.deliverResult({ channel, result, idempotencyKey: workflowId, deduplicationId: runId }),
    ),
  );
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
