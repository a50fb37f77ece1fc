/** The chaos run's verdict: it must fail on anything the BE would store or handle wrongly. */
import type { ReceivedFeedback, Republish, Verdict } from '../../dev/be-double';
import { checkRerequests, failed, type Judgement } from '../../chaos/verdict';

const feedback = (memberId: number, requestId: string, content = '잘했어요!'): ReceivedFeedback => ({
  memberId,
  week: '2026-11-16',
  content,
  via: 'queue',
  at: 0,
  receivedAt: 0,
  requestId,
});

const republish = (
  memberId: number,
  messageId: string | undefined,
  sent = true,
  forRequestId?: string,
): Republish => ({
  memberId,
  content: '500',
  at: 0,
  sent,
  ...(messageId === undefined ? {} : { messageId }),
  ...(forRequestId === undefined ? {} : { forRequestId }),
});

const okVerdict: Verdict = { ok: true, missing: [], statusCodeStored: [], doubled: [], unexpected: [] };

/** A run with nothing wrong, to change one thing at a time. */
function clean(overrides: Partial<Omit<Judgement, 'failed'>> = {}): Omit<Judgement, 'failed'> {
  return {
    verdict: okVerdict,
    latencies: [],
    stored: [],
    republishes: [],
    rerequests: { statusCodes: 0, notRepublished: 0, unanswered: [] },
    unprocessed: [],
    resultDlq: [],
    requestDlq: { found: 0, poisonMissing: 0, unexpected: 0, withoutReason: 0 },
    recovery: [],
    memberWeeks: 1,
    offending: 0,
    settled: { weekOne: true, weekTwo: true },
    ...overrides,
  };
}

describe('checkRerequests', () => {
  it('counts a status code as answered when a run for the re-published message delivered real feedback', () => {
    const check = checkRerequests([republish(7, 'm-2')], [feedback(7, '7-m-2')]);
    expect(check).toEqual({ statusCodes: 1, notRepublished: 0, unanswered: [] });
  });

  it('flags a re-publish that SQS dropped as a duplicate: the only answer is the original run\'s "500"', () => {
    // A dropped send returns the original message's id; that run delivered the status code, not feedback.
    const check = checkRerequests([republish(7, 'm-1')], [feedback(7, '7-m-1', '500')]);
    expect(check.unanswered).toEqual([{ memberId: 7, content: '500', messageId: 'm-1' }]);
  });

  it('flags a re-publish no run answered at all, and one the BE could not send', () => {
    const check = checkRerequests(
      [republish(7, 'm-2'), republish(8, undefined, false)],
      [feedback(9, '9-m-3')],
    );
    expect(check.notRepublished).toBe(1);
    expect(check.unanswered.map((u) => u.memberId)).toEqual([7]);
  });

  it('follows a re-request answered by another status code to the re-request after it', () => {
    const chain = [republish(7, 'm-2', true, '7-m-1'), republish(7, 'm-3', true, '7-m-2')];
    expect(checkRerequests(chain, [feedback(7, '7-m-3')]).unanswered).toEqual([]);
    // The chain's last re-request unanswered: that one is flagged, the earlier one is not.
    expect(checkRerequests(chain, []).unanswered.map((u) => u.messageId)).toEqual(['m-3']);
  });

  it("does not count another member's feedback as the answer", () => {
    expect(checkRerequests([republish(7, 'm-2')], [feedback(8, '8-m-2')]).unanswered).toHaveLength(1);
  });
});

describe('failed', () => {
  it('passes a clean run', () => {
    expect(failed(clean())).toBe(false);
  });

  it('fails a run with a status code delivered and no matching re-request answered', () => {
    const rerequests = checkRerequests([republish(7, 'm-1')], []);
    expect(failed(clean({ republishes: [republish(7, 'm-1')], rerequests }))).toBe(true);
  });

  it('fails a run where the BE could not re-publish a status code', () => {
    const rerequests = checkRerequests([republish(7, undefined, false)], []);
    expect(failed(clean({ rerequests }))).toBe(true);
  });

  it.each([
    ['a member-week without feedback', { ...okVerdict, ok: false, missing: [{ memberId: 1, week: 'w' }] }],
    [
      'a status code stored as feedback',
      { ...okVerdict, ok: false, statusCodeStored: [{ memberId: 1, week: 'w', content: '500' }] },
    ],
    [
      'a feedback delivered twice',
      {
        ...okVerdict,
        ok: false,
        doubled: [{ memberId: 1, week: 'w', channel: 'queue' as const, deliveries: 2, requests: 1 }],
      },
    ],
    [
      'a feedback filed under an unexpected week',
      { ...okVerdict, ok: false, unexpected: [{ memberId: 1, week: 'w' }] },
    ],
  ])('fails on %s', (_name, verdict) => {
    expect(failed(clean({ verdict }))).toBe(true);
  });

  it('fails on a week that never settled, a result the BE could not process, and the request DLQ being wrong', () => {
    expect(failed(clean({ settled: { weekOne: true, weekTwo: false } }))).toBe(true);
    expect(failed(clean({ unprocessed: [{ body: '{}', reason: 'x', at: 0 }] }))).toBe(true);
    expect(failed(clean({ resultDlq: [{ body: '{}', at: 0 }] }))).toBe(true);
    expect(
      failed(clean({ requestDlq: { found: 1, poisonMissing: 0, unexpected: 1, withoutReason: 0 } })),
    ).toBe(true);
  });
});
