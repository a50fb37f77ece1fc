/** What FeedbackWorkflow's callers share (src/domain/workflow.ts): request ids in workflow ids, the failure hold. */
import { DEFAULT_POLICY } from '../../src/config';
import { requestIdOf, WORKFLOW_ID_PREFIX } from '../../src/domain/keys';
import { failureHoldUntil } from '../../src/domain/workflow';

describe('requestIdOf', () => {
  it('is the request id of a FeedbackWorkflow id, dashes and all', () => {
    expect(WORKFLOW_ID_PREFIX).toBe('feedback-');
    expect(requestIdOf('feedback-42-4f1c2a9e-msg')).toBe('42-4f1c2a9e-msg');
    expect(requestIdOf('feedback-')).toBe('');
  });

  it('is undefined for any other workflow id, or none', () => {
    expect(requestIdOf('redeliver-r-1-1718500000000')).toBeUndefined();
    expect(requestIdOf('my-feedback-r-1')).toBeUndefined();
    expect(requestIdOf(undefined)).toBeUndefined();
  });
});

describe('failureHoldUntil', () => {
  const sentAt = '2025-06-16T00:00:00.000Z';
  const policy = { ...DEFAULT_POLICY, failureHoldSeconds: 330 };

  it("holds a queue request's failure until failureHoldSeconds after the message was sent", () => {
    expect(failureHoldUntil({ source: 'queue', sentAt, policy })).toBe(Date.parse(sentAt) + 330_000);
  });

  it('does not hold an API request (no BE re-publish to be deduplicated), nor with a hold of 0', () => {
    expect(failureHoldUntil({ source: 'api', sentAt, policy })).toBeUndefined();
    expect(
      failureHoldUntil({ source: 'queue', sentAt, policy: { ...policy, failureHoldSeconds: 0 } }),
    ).toBeUndefined();
  });

  it('does not hold when the send time is unreadable', () => {
    expect(failureHoldUntil({ source: 'queue', sentAt: 'not a time', policy })).toBeUndefined();
  });
});
