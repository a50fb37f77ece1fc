/** The BE contract fixtures, copied from the shared contract into the repository (test/fixtures/contract). */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const FIXTURES_DIR = join(__dirname, '..', 'fixtures', 'contract');

function ensureFixtures(): void {
  if (!existsSync(FIXTURES_DIR)) throw new Error(`contract fixtures not found at ${FIXTURES_DIR}`);
}

export function fixtureText(name: string): string {
  ensureFixtures();
  return readFileSync(join(FIXTURES_DIR, name), 'utf8');
}

export function fixtureJson<T = unknown>(name: string): T {
  return JSON.parse(fixtureText(name)) as T;
}

export function invalidFixtureNames(): string[] {
  ensureFixtures();
  return readdirSync(join(FIXTURES_DIR, 'invalid')).sort();
}

export const VALID_REQUEST_FIXTURES = ['request-iso-dates.json', 'request-jackson-array-dates.json'] as const;

/** The BE-style queue message fixture: body without requestId/timestamp, group "feedback-request". */
export interface BeQueueMessageFixture {
  MessageGroupId: string;
  MessageDeduplicationId: string;
  MessageBody: string;
}
