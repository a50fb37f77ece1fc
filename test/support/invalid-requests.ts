/**
 * The invalid contract fixtures (test/fixtures/contract/invalid) and where a refusal of each must point:
 * the field path of every error, in order (`''` is the whole body). The schema's tests
 * (test/domain/request.test.ts) and the API's (test/api/app.test.ts) check the same table.
 */
export const INVALID_REQUEST_PATHS: Readonly<Record<string, readonly string[]>> = {
  'both-lists-empty.json': ['personalChallenges'],
  'feb-30.json': ['groupChallenges[0].startDate'],
  'is-success-string.json': ['personalChallenges[0].isSuccess'],
  'member-id-missing.json': ['memberId'],
  'member-id-negative.json': ['memberId'],
  'month-13.json': ['groupChallenges[0].startDate'],
  'truncated-json.txt': [''],
};

/** The fixture that is not JSON at all: refused before the schema sees it. */
export const NOT_JSON_FIXTURE = 'truncated-json.txt';
