/** Request and workflow ids (src/domain/keys.ts): a redelivered message finds the run it started. */
import { createHash } from 'node:crypto';
import { requestKey, sha256Hex, workflowIdFor } from '../../src/domain/keys';
import { requestIdOf } from '../../src/domain/workflow';

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

it('sha256Hex is the hex SHA-256 of the UTF-8 text', () => {
  expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  expect(sha256Hex('피드백')).toBe(createHash('sha256').update(Buffer.from('피드백', 'utf8')).digest('hex'));
});
