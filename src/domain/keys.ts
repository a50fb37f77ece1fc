/**
 * Request and workflow ids, so that a redelivered message finds the workflow that already exists.
 * Not for workflow code (uses node:crypto).
 */
import { createHash } from 'node:crypto';
import { WORKFLOW_ID_PREFIX } from './workflow';

export { WORKFLOW_ID_PREFIX } from './workflow';

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * The request id of a queue message: our API's `requestId`; for a message the BE put on the queue
 * itself, `<memberId>-<MessageId>`. One message is one request: SQS keeps a message's MessageId across
 * redeliveries, while an identical body sent as a new message (the BE's next week, or its re-request
 * after a failure) is a new request. The BE's own repeated sends are dropped by SQS deduplication.
 */
export function requestKey(input: { requestId?: string; memberId: number; messageId: string }): string {
  return input.requestId ?? `${input.memberId}-${input.messageId}`;
}

export function workflowIdFor(key: string): string {
  return `${WORKFLOW_ID_PREFIX}${key}`;
}
