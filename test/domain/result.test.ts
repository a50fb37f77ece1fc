import {
  buildFeedbackResult,
  deliveryChannels,
  EXPIRED_CONTENT,
  RECOVERABLE_FAILURE_CONTENT,
  resultChannels,
} from '../../src/domain/result';

const RUN = { requestId: 'r-1', memberId: 7, requestedAt: '2025-06-16T09:00:00+09:00' };

describe('buildFeedbackResult', () => {
  it('is a success carrying the feedback, the request id and the request timestamp, without an error', () => {
    const result = buildFeedbackResult({ ...RUN, content: '이번 주도 멋졌어요!' });
    expect(result).toEqual({
      memberId: 7,
      content: '이번 주도 멋졌어요!',
      requestId: 'r-1',
      status: 'success',
      timestamp: '2025-06-16T09:00:00+09:00',
    });
    expect(result).not.toHaveProperty('error');
  });

  it('is an error with the recoverable "500" and the reason when generation failed', () => {
    expect(buildFeedbackResult({ ...RUN, failure: 'generation failed: vLLM answered 503' })).toEqual({
      memberId: 7,
      content: RECOVERABLE_FAILURE_CONTENT,
      requestId: 'r-1',
      status: 'error',
      timestamp: '2025-06-16T09:00:00+09:00',
      error: 'generation failed: vLLM answered 503',
    });
    expect(RECOVERABLE_FAILURE_CONTENT).toBe('500');
  });

  it('sends the given status code instead of "500" (an expired request gets "408")', () => {
    const result = buildFeedbackResult({ ...RUN, failure: 'expired', failureContent: EXPIRED_CONTENT });
    expect(result).toMatchObject({ content: '408', status: 'error', error: 'expired' });
  });

  it('is an error without content even when no reason is given, and never carries an undefined error key', () => {
    const result = buildFeedbackResult(RUN);
    expect(result).toMatchObject({ content: '500', status: 'error' });
    expect(Object.keys(result)).not.toContain('error');
  });

  it('keeps the feedback (a success) when content is given, whatever failureContent says', () => {
    expect(buildFeedbackResult({ ...RUN, content: '좋아요', failureContent: '408' })).toMatchObject({
      content: '좋아요',
      status: 'success',
    });
  });
});

describe('deliveryChannels', () => {
  it('is the callback, the result queue, or both in that order', () => {
    expect(deliveryChannels('callback')).toEqual(['callback']);
    expect(deliveryChannels('queue')).toEqual(['queue']);
    expect(deliveryChannels('both')).toEqual(['callback', 'queue']);
  });
});

describe('resultChannels', () => {
  const policy = (deliveryMode: 'callback' | 'queue' | 'both', postFailuresToCallback = false) => ({
    deliveryMode,
    postFailuresToCallback,
  });

  it('sends feedback to every channel of the delivery mode', () => {
    expect(resultChannels(policy('callback'), false)).toEqual(['callback']);
    expect(resultChannels(policy('queue'), false)).toEqual(['queue']);
    expect(resultChannels(policy('both'), false)).toEqual(['callback', 'queue']);
  });

  it('sends a status code only to the result queue: never to the callback, which stores it as feedback', () => {
    expect(resultChannels(policy('both'), true)).toEqual(['queue']);
    expect(resultChannels(policy('queue'), true)).toEqual(['queue']);
    // Callback only: no channel may carry the code (the run ends as FailureNotDelivered).
    expect(resultChannels(policy('callback'), true)).toEqual([]);
  });

  it('sends a status code to the callback too when the policy says the BE reads codes there', () => {
    expect(resultChannels(policy('callback', true), true)).toEqual(['callback']);
    expect(resultChannels(policy('both', true), true)).toEqual(['callback', 'queue']);
    expect(resultChannels(policy('queue', true), true)).toEqual(['queue']);
  });
});
