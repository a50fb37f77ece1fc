/** What the AI side hands back to the BE (`FeedbackResultRequestDto` plus fields it ignores). */
import type { DeliveryChannel, DeliveryMode, FeedbackPolicy } from './policy';

export interface FeedbackResult {
  memberId: number;
  /** The feedback text, or an HTTP status code as a string (`"500"`) for a recoverable failure. */
  content: string;
  requestId: string;
  status: 'success' | 'error';
  /** The request's timestamp (canonical ISO with offset). */
  timestamp: string;
  /** Why generation failed; only on `status: "error"`. */
  error?: string;
}

/** Where the BE's callback controller takes a result: `POST <BE_CALLBACK_BASE_URL><CALLBACK_PATH>`. */
export const CALLBACK_PATH = '/api/members/feedback/result';

/** The BE re-requests feedback for a member when content is an HTTP status code. */
export const RECOVERABLE_FAILURE_CONTENT = '500';

/**
 * What an expired request (older than REQUEST_MAX_AGE_MINUTES when its turn came) delivers: 408 Request
 * Timeout, a status code like "500", so the BE's contract holds unchanged (it re-requests the member's
 * feedback with a fresh request, which is not expired).
 */
export const EXPIRED_CONTENT = '408';

/**
 * The result of a run: the feedback, or the recoverable "500" with the reason when generation failed
 * for good. Used by FeedbackWorkflow and by `feedback redeliver`, which rebuilds it from the run.
 */
export function buildFeedbackResult(input: {
  requestId: string;
  memberId: number;
  requestedAt: string;
  content?: string;
  failure?: string;
  /** The status code sent on failure; default RECOVERABLE_FAILURE_CONTENT. */
  failureContent?: string;
}): FeedbackResult {
  return {
    memberId: input.memberId,
    content: input.content ?? input.failureContent ?? RECOVERABLE_FAILURE_CONTENT,
    requestId: input.requestId,
    status: input.content === undefined ? 'error' : 'success',
    timestamp: input.requestedAt,
    ...(input.failure === undefined ? {} : { error: input.failure }),
  };
}

/** The channels a delivery mode delivers to. */
export function deliveryChannels(mode: DeliveryMode): DeliveryChannel[] {
  return mode === 'both' ? ['callback', 'queue'] : [mode];
}

/**
 * The channels a result goes to: the delivery mode's, except that a status code goes only where the BE
 * reads codes (the result queue; the callback only if the policy says so).
 */
export function resultChannels(
  policy: Pick<FeedbackPolicy, 'deliveryMode' | 'postFailuresToCallback'>,
  isFailure: boolean,
): DeliveryChannel[] {
  const channels = deliveryChannels(policy.deliveryMode);
  return isFailure && !policy.postFailuresToCallback ? channels.filter((c) => c === 'queue') : channels;
}
