import { parseFeedbackRequestBody, validateFeedbackRequest } from '../../src/domain/request';
import {
  fixtureJson,
  fixtureText,
  invalidFixtureNames,
  VALID_REQUEST_FIXTURES,
  type BeQueueMessageFixture,
} from '../support/fixtures';

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

  const expectedPaths: Record<string, string> = {
    'both-lists-empty.json': 'personalChallenges',
    'feb-30.json': 'groupChallenges[0].startDate',
    'is-success-string.json': 'personalChallenges[0].isSuccess',
    'member-id-missing.json': 'memberId',
    'member-id-negative.json': 'memberId',
    'month-13.json': 'groupChallenges[0].startDate',
    'truncated-json.txt': '',
  };

  it('knows every invalid fixture', () => {
    expect(invalidFixtureNames()).toEqual(Object.keys(expectedPaths).sort());
  });

  it.each(Object.entries(expectedPaths))(
    'rejects the invalid fixture %s with the field path "%s"',
    (name, path) => {
      const result = parseFeedbackRequestBody(fixtureText(`invalid/${name}`));
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.errors.map((e) => e.path)).toContain(path);
      for (const error of result.errors) expect(error.message.length).toBeGreaterThan(0);
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
});
