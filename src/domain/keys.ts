/**
 * Workflow ids derived from the request, so that a duplicated or redelivered message finds the
 * workflow that already exists. Not for workflow code (uses node:crypto).
 */
import { createHash } from 'node:crypto';
import { WORKFLOW_ID_PREFIX } from './workflow';

export { WORKFLOW_ID_PREFIX } from './workflow';

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * The request key: our API's `requestId`; otherwise `<memberId>-<sha256 hex of the body>`, which is
 * exactly the MessageDeduplicationId the BE computes for the messages it sends itself. We compute it
 * from the body rather than trusting the attribute, so the same body under another dedup id (a
 * retried send by another producer) is still the same request.
 */
export function requestKey(input: { requestId?: string; memberId: number; rawBody: string }): string {
  return input.requestId ?? `${input.memberId}-${sha256Hex(input.rawBody)}`;
}

export function workflowIdFor(key: string): string {
  return `${WORKFLOW_ID_PREFIX}${key}`;
}
