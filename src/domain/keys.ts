/**
 * Request and workflow ids, so that a redelivered message finds the workflow that already exists.
 * Safe to import from workflow code.
 */

/** FeedbackWorkflow ids are `feedback-<requestId>`. */
export const WORKFLOW_ID_PREFIX = 'feedback-';

/**
 * The request id of a queue message: our API's `requestId`; for a message the BE put on the queue
 * itself, `<memberId>-<MessageId>`. One message is one request: SQS keeps a message's MessageId across
 * redeliveries, while an identical body sent as a new message (the BE's next week, or its re-request
 * after a failure) is a new request. The BE's own repeated sends are dropped by SQS deduplication.
 */
export function requestKey(input: { requestId?: string; memberId: number; messageId: string }): string {
  return input.requestId ?? `${input.memberId}-${input.messageId}`;
}

export function workflowIdFor(requestId: string): string {
  return `${WORKFLOW_ID_PREFIX}${requestId}`;
}

/** The requestId in a FeedbackWorkflow id; undefined for any other workflow id. */
export function requestIdOf(workflowId: string | undefined): string | undefined {
  return workflowId?.startsWith(WORKFLOW_ID_PREFIX) ? workflowId.slice(WORKFLOW_ID_PREFIX.length) : undefined;
}

/** A RedeliverWorkflow id, unique to the time it was asked for; also the redelivery's idempotency key. */
export function redeliverWorkflowId(requestId: string, nowMs: number): string {
  return `redeliver-${requestId}-${nowMs}`;
}
