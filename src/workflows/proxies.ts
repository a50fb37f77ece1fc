/** The activities as the workflows call them: task queue, timeouts and retries from the run's policy. */
import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { FeedbackActivities } from '../activities';
import type { DeliveryPolicy, FeedbackPolicy } from '../domain/policy';
import { FailureTypes } from '../domain/workflow';

const seconds = (n: number) => n * 1000;

/**
 * generateCheckedFeedback on the LLM task queue. With `expiresAt`, waiting for an LLM slot (the task
 * queue's backlog) counts toward the request's age: the call times out unstarted at that time.
 */
export function generationActivities(policy: FeedbackPolicy, expiresAt: number | undefined) {
  const options: ActivityOptions = {
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
  return proxyActivities<Pick<FeedbackActivities, 'generateCheckedFeedback'>>(
    expiresAt === undefined
      ? options
      : { ...options, scheduleToStartTimeout: Math.max(1000, expiresAt - Date.now()) },
  );
}

/** deliverResult with the policy's timeouts and retries (FeedbackWorkflow and RedeliverWorkflow). */
export function deliveryActivities(policy: DeliveryPolicy) {
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

/**
 * countEarlierFailures (a visibility query) on the run's own task queue. A minute of retries at most:
 * the workflow then holds the base hold, as if the request had not failed before.
 */
export function repeatsActivities() {
  return proxyActivities<Pick<FeedbackActivities, 'countEarlierFailures'>>({
    startToCloseTimeout: '10 seconds',
    scheduleToCloseTimeout: '1 minute',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds' },
  });
}
