/**
 * The failure hold and its growth (src/domain/hold.ts): 330 s, ×4 per earlier failure within 24 h,
 * capped at 6 h and before the BE's week turn (Monday 00:00 in its zone), never below the base hold.
 */
import { nextWeekTurn } from '../../src/domain/be-week';
import {
  failureHoldUntil,
  grownHoldSeconds,
  WEEK_TURN_MARGIN_MS,
  type HoldInput,
} from '../../src/domain/hold';

const BASE = 330;
const queue = (sentAt: string, beTimeZone?: string): HoldInput => ({
  source: 'queue',
  sentAt,
  policy: { failureHoldSeconds: BASE, ...(beTimeZone ? { beTimeZone } : {}) },
});
const seconds = (until: number | undefined, sentAt: string) =>
  until === undefined ? undefined : (until - Date.parse(sentAt)) / 1000;

describe('grownHoldSeconds', () => {
  it('is 330 s, then ×4 per earlier failure, capped at 6 h', () => {
    expect([0, 1, 2, 3, 4, 5, 50].map((n) => grownHoldSeconds(BASE, n))).toEqual([
      330, 1320, 5280, 21120, 21600, 21600, 21600,
    ]);
  });

  it('keeps a base hold above the cap as it is, and no hold at all when the base is 0', () => {
    expect(grownHoldSeconds(8 * 3600, 3)).toBe(8 * 3600);
    expect(grownHoldSeconds(0, 3)).toBe(0);
  });
});

describe('failureHoldUntil', () => {
  // A Wednesday: the week turn is days away.
  const sentAt = '2026-12-09T10:00:00.000Z';
  const now = Date.parse(sentAt) + 2000;

  it('holds the first failure 330 s after the send, with or without a count', () => {
    expect(seconds(failureHoldUntil(queue(sentAt)), sentAt)).toBe(330);
    expect(seconds(failureHoldUntil(queue(sentAt), { earlierFailures: 0, now }), sentAt)).toBe(330);
  });

  it('grows with the earlier failures: 1320 s, 5280 s, 21120 s, then 6 h', () => {
    const holds = [1, 2, 3, 4, 9].map((earlierFailures) =>
      seconds(failureHoldUntil(queue(sentAt), { earlierFailures, now }), sentAt),
    );
    expect(holds).toEqual([1320, 5280, 21120, 21600, 21600]);
  });

  it('never holds an API request', () => {
    const api: HoldInput = { ...queue(sentAt), source: 'api' };
    expect(failureHoldUntil(api, { earlierFailures: 3, now })).toBeUndefined();
  });

  it("ends a grown hold a minute before the BE's week turn, Monday 00:00 UTC by default", () => {
    const sunday = '2026-12-13T22:00:00.000Z'; // two hours before Monday 00:00 UTC
    const until = failureHoldUntil(queue(sunday), { earlierFailures: 4, now: Date.parse(sunday) + 1000 });
    expect(new Date(until ?? 0).toISOString()).toBe(
      new Date(Date.parse('2026-12-14T00:00:00Z') - WEEK_TURN_MARGIN_MS).toISOString(),
    );
  });

  it("ends it before the turn in the BE's configured zone (Asia/Seoul: Sunday 15:00 UTC)", () => {
    const sunday = '2026-12-13T12:00:00.000Z'; // Sunday 21:00 in Seoul
    const input = queue(sunday, 'Asia/Seoul');
    const until = failureHoldUntil(input, { earlierFailures: 4, now: Date.parse(sunday) + 1000 });
    expect(until).toBe(Date.parse('2026-12-14T00:00:00+09:00') - WEEK_TURN_MARGIN_MS);
    // The same send in UTC's week has six hours before its turn: the full 6 h.
    expect(
      seconds(failureHoldUntil(queue(sunday), { earlierFailures: 4, now: Date.parse(sunday) }), sunday),
    ).toBe(21600);
  });

  it('never cuts below the base hold (SQS deduplication), even right before the turn', () => {
    const late = '2026-12-13T23:58:00.000Z';
    const until = failureHoldUntil(queue(late), { earlierFailures: 4, now: Date.parse(late) + 1000 });
    expect(seconds(until, late)).toBe(330);
  });

  it('counts the turn from the failure: a request whose generation crossed the turn gets the grown hold of the new week', () => {
    const sent = '2026-12-13T23:00:00.000Z';
    const failedAt = Date.parse('2026-12-14T00:30:00Z');
    expect(seconds(failureHoldUntil(queue(sent), { earlierFailures: 2, now: failedAt }), sent)).toBe(5280);
  });
});

describe('nextWeekTurn', () => {
  it('is the next Monday 00:00 in the zone, a week later when it is exactly the turn', () => {
    expect(new Date(nextWeekTurn(Date.parse('2026-12-09T10:00:00Z'), 'UTC')).toISOString()).toBe(
      '2026-12-14T00:00:00.000Z',
    );
    expect(new Date(nextWeekTurn(Date.parse('2026-12-14T00:00:00Z'), 'UTC')).toISOString()).toBe(
      '2026-12-21T00:00:00.000Z',
    );
    // Sunday 23:59 UTC is already Monday 08:59 in Seoul: its turn is a week later.
    expect(new Date(nextWeekTurn(Date.parse('2026-12-13T23:59:00Z'), 'Asia/Seoul')).toISOString()).toBe(
      '2026-12-20T15:00:00.000Z',
    );
  });

  it('follows daylight saving time (Europe/Berlin: +1 h in winter, +2 h in summer)', () => {
    expect(new Date(nextWeekTurn(Date.parse('2026-12-09T10:00:00Z'), 'Europe/Berlin')).toISOString()).toBe(
      '2026-12-13T23:00:00.000Z',
    );
    expect(new Date(nextWeekTurn(Date.parse('2026-07-08T10:00:00Z'), 'Europe/Berlin')).toISOString()).toBe(
      '2026-07-12T22:00:00.000Z',
    );
  });
});

describe("redeliver's not-before follows the same rule", () => {
  it('is the grown hold from the send time for a failure redelivered within its hold, and past for an old one', () => {
    const sentAt = '2026-12-09T10:00:00.000Z';
    const redeliverAt = Date.parse(sentAt) + 600_000;
    const until = failureHoldUntil(queue(sentAt), { earlierFailures: 2, now: redeliverAt });
    expect(seconds(until, sentAt)).toBe(5280);
    const dayLater = Date.parse(sentAt) + 86_400_000;
    expect(failureHoldUntil(queue(sentAt), { earlierFailures: 4, now: dayLater })).toBeLessThan(dayLater);
  });
});
