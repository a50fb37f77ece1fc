import { LIMITS, parseFeedbackRequestBody, validateFeedbackRequest } from '../../src/domain/request';
import {
  fixtureJson,
  fixtureText,
  invalidFixtureNames,
  VALID_REQUEST_FIXTURES,
  type BeQueueMessageFixture,
} from '../support/fixtures';
import { INVALID_REQUEST_PATHS } from '../support/invalid-requests';
import { longTimeMember } from '../support/requests';

describe('feedback request schema', () => {
  it.each(VALID_REQUEST_FIXTURES)('accepts the valid contract fixture %s', (name) => {
    const result = validateFeedbackRequest(fixtureJson(name));
    expect(result.ok).toBe(true);
  });

  it('normalises Jackson array dates to canonical Seoul ISO strings, keeping nanoseconds', () => {
    const result = validateFeedbackRequest(fixtureJson('request-jackson-array-dates.json'));
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    const group = result.value.groupChallenges[0];
    expect(group.startDate).toBe('2025-06-09T00:00:00+09:00');
    expect(group.endDate).toBe('2025-06-15T23:59:59+09:00');
    expect(group.submissions.map((s) => s.submittedAt)).toEqual([
      '2025-06-10T13:08:16.710986+09:00',
      '2025-06-11T08:00:00+09:00',
      '2025-06-12T21:45:03+09:00',
    ]);
  });

  it('accepts the body of the BE-style queue message fixture and treats absent lists as empty', () => {
    const message = fixtureJson<BeQueueMessageFixture>('be-queue-message.json');
    const result = parseFeedbackRequestBody(message.MessageBody);
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    expect(result.value.memberId).toBe(7);
    expect(result.value.requestId).toBeUndefined();
    expect(
      validateFeedbackRequest({ memberId: 3, personalChallenges: [{ id: 1, title: 'x', isSuccess: false }] }),
    ).toEqual({
      ok: true,
      value: {
        memberId: 3,
        personalChallenges: [{ id: 1, title: 'x', isSuccess: false }],
        groupChallenges: [],
      },
    });
  });

  it('knows every invalid fixture', () => {
    expect(invalidFixtureNames()).toEqual(Object.keys(INVALID_REQUEST_PATHS).sort());
  });

  it.each(Object.entries(INVALID_REQUEST_PATHS))(
    'rejects the invalid fixture %s with errors at exactly the field paths %j',
    (name, paths) => {
      const result = parseFeedbackRequestBody(fixtureText(`invalid/${name}`));
      if (result.ok) throw new Error(`invalid/${name} was accepted`);
      expect(result.errors.map((e) => e.path)).toEqual(paths);
      for (const error of result.errors) expect(error.message).toMatch(/\S/);
    },
  );

  it('rejects a non-object JSON body and a missing body', () => {
    expect(parseFeedbackRequestBody('[1,2]').ok).toBe(false);
    expect(parseFeedbackRequestBody('"x"').ok).toBe(false);
    expect(validateFeedbackRequest(undefined).ok).toBe(false);
  });

  it('rejects a member id beyond what a JSON number can carry exactly', () => {
    const result = validateFeedbackRequest({
      memberId: 2 ** 60,
      personalChallenges: [{ id: 1, title: 't', isSuccess: true }],
    });
    expect(result.ok).toBe(false);
  });

  it('accepts a long-time member: 800 group challenges (every participation ever), most without submissions', () => {
    const result = validateFeedbackRequest(longTimeMember(42, 800));
    if (!result.ok) throw new Error(JSON.stringify(result.errors.slice(0, 3)));
    expect(result.value.groupChallenges).toHaveLength(800);
    expect(result.value.groupChallenges.filter((g) => g.submissions.length === 0)).toHaveLength(797);
    expect(result.value.groupChallenges[799].submissions.map((s) => s.submittedAt)).toEqual([
      '2025-06-10T13:08:16.710986+09:00',
      '2025-06-11T09:00:00+09:00',
    ]);
  });

  it('accepts 1000 group challenges each with a small list of submissions, a body under 1 MiB', () => {
    const request = longTimeMember(43, 1000, 1000);
    expect(Buffer.byteLength(JSON.stringify(request))).toBeLessThan(1024 * 1024);
    const result = validateFeedbackRequest(request);
    expect(result.ok && result.value.groupChallenges.length).toBe(1000);
  });

  it('still refuses garbage: too many personal challenges or submissions, an over-long title', () => {
    const member = longTimeMember(44, 2, 2);
    const personal = { id: 1, title: 't', isSuccess: true };
    const submission = { isSuccess: true, submittedAt: '2025-06-10T09:00:00' };
    const refusedAt = (request: unknown) => {
      const result = validateFeedbackRequest(request);
      return result.ok ? [] : result.errors.map((e) => e.path);
    };
    expect(
      refusedAt({ ...member, personalChallenges: Array(LIMITS.personalChallenges + 1).fill(personal) }),
    ).toEqual(['personalChallenges']);
    const flooded = structuredClone(member);
    flooded.groupChallenges[1].submissions = Array(LIMITS.submissionsPerGroupChallenge + 1).fill(submission);
    expect(refusedAt(flooded)).toEqual(['groupChallenges[1].submissions']);
    const longTitle = structuredClone(member);
    longTitle.groupChallenges[0].title = '가'.repeat(LIMITS.titleChars + 1);
    expect(refusedAt(longTitle)).toEqual(['groupChallenges[0].title']);
  });
});
