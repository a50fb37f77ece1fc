/** How a FeedbackWorkflow run ends when it fails for good: counted, its final stage set, and thrown. */
import { ActivityFailure, ApplicationFailure, metricMeter } from '@temporalio/workflow';
import type { DeliveryMode } from '../domain/policy';
import { FailureTypes, type RunFailureDetails } from '../domain/workflow';
import type { RunProgress } from './progress';

/** What failed: generation, the request's age, or the delivery of a feedback. */
export type FailureCause = 'generation' | 'expired' | 'delivery';

/**
 * What the BE got: a status code (`delivered`, so it re-requests), nothing because no channel may
 * carry the code (`not-delivered`), or nothing because the delivery failed (`delivery-failed`).
 */
export type FailureEnding =
  | { outcome: 'delivered'; cause: FailureCause; reason: string; content: string }
  | { outcome: 'not-delivered'; cause: FailureCause; reason: string; deliveryMode: DeliveryMode }
  | { outcome: 'delivery-failed'; cause: FailureCause; reason: string };

/**
 * Ends the run as failed: counts it, sets its final stage and throws a non-retryable failure whose
 * details say why and which status code the BE was sent (RunFailureDetails), for the operator tools.
 */
export function endFailed(progress: RunProgress, ending: FailureEnding): never {
  metricMeter
    .createCounter('feedback_failures', 'runs', 'Runs that failed for good, by outcome and reason.')
    .add(1, { outcome: ending.outcome, reason: ending.cause });
  progress.fail(
    ending.reason,
    ending.outcome !== 'delivery-failed' && ending.cause === 'expired' ? 'expired' : 'failed',
  );
  const details: RunFailureDetails = { reason: ending.reason };
  switch (ending.outcome) {
    case 'delivered':
      throw ApplicationFailure.nonRetryable(
        `${ending.reason}; the BE was sent content "${ending.content}"`,
        ending.cause === 'expired' ? FailureTypes.RequestExpired : FailureTypes.GenerationFailed,
        { ...details, content: ending.content },
      );
    case 'not-delivered':
      throw ApplicationFailure.nonRetryable(
        `${ending.reason}; no result was delivered (DELIVERY_MODE=${ending.deliveryMode} posts no status code)`,
        FailureTypes.FailureNotDelivered,
        details,
      );
    case 'delivery-failed':
      throw ApplicationFailure.nonRetryable(ending.reason, FailureTypes.DeliveryFailed, details);
  }
}

/** The innermost message of an activity failure, e.g. "vLLM answered 400: ...". */
export function describeFailure(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}
