/** What the AI side hands back to the BE (`FeedbackResultRequestDto` plus fields it ignores). */

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

/** The BE re-requests feedback for a member when content is an HTTP status code. */
export const RECOVERABLE_FAILURE_CONTENT = '500';

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
}): FeedbackResult {
  return {
    memberId: input.memberId,
    content: input.content ?? RECOVERABLE_FAILURE_CONTENT,
    requestId: input.requestId,
    status: input.content === undefined ? 'error' : 'success',
    timestamp: input.requestedAt,
    ...(input.failure === undefined ? {} : { error: input.failure }),
  };
}

/** The channels a delivery mode delivers to. */
export function deliveryChannels(mode: 'callback' | 'queue' | 'both'): Array<'callback' | 'queue'> {
  return mode === 'both' ? ['callback', 'queue'] : [mode];
}

/** The BE's own rule for results: memberId positive, content not blank. */
export function isAcceptableResult(result: Pick<FeedbackResult, 'memberId' | 'content'>): boolean {
  return Number.isInteger(result.memberId) && result.memberId > 0 && result.content.trim().length > 0;
}
