/** Request and workflow ids (src/domain/keys.ts): a redelivered message finds the run it started. */
import { redeliverWorkflowId, requestIdOf, requestKey, workflowIdFor } from '../../src/domain/keys';

describe('requestKey', () => {
  it("is our API's requestId when the message carries one", () => {
    expect(requestKey({ requestId: 'api-7f3e', memberId: 42, messageId: 'msg-1' })).toBe('api-7f3e');
  });

  it('is <memberId>-<MessageId> for a message the BE put on the queue itself', () => {
    expect(requestKey({ memberId: 42, messageId: 'b6c1-77' })).toBe('42-b6c1-77');
  });

  it('is the same for a redelivery of one message, and differs for the same body sent again as a new message', () => {
    const first = requestKey({ memberId: 42, messageId: 'msg-1' });
    expect(requestKey({ memberId: 42, messageId: 'msg-1' })).toBe(first);
    expect(requestKey({ memberId: 42, messageId: 'msg-2' })).not.toBe(first);
  });
});

it('workflowIdFor is feedback-<key>, and requestIdOf reads the key back', () => {
  expect(workflowIdFor('42-msg-1')).toBe('feedback-42-msg-1');
  expect(requestIdOf(workflowIdFor('42-msg-1'))).toBe('42-msg-1');
});

it('redeliverWorkflowId is redeliver-<requestId>-<time>, never a FeedbackWorkflow id', () => {
  expect(redeliverWorkflowId('42-msg-1', 1718500000000)).toBe('redeliver-42-msg-1-1718500000000');
  expect(requestIdOf(redeliverWorkflowId('42-msg-1', 1718500000000))).toBeUndefined();
});
