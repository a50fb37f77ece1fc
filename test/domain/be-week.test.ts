import { beWeek, DEFAULT_BE_TIME_ZONE, isTimeZone, nextWeekTurn } from '../../src/domain/be-week';

describe("the BE's week (LocalDate.now() of its JVM)", () => {
  it('turns at Monday 00:00 UTC by default (its image sets no TZ), 09:00 in Korea', () => {
    expect(DEFAULT_BE_TIME_ZONE).toBe('UTC');
    expect(beWeek(Date.parse('2025-06-15T23:59:59Z'))).toBe('2025-06-02');
    expect(beWeek(Date.parse('2025-06-16T00:00:00Z'))).toBe('2025-06-09');
    // Monday 08:59 in Seoul: the BE still files under the week before.
    expect(beWeek(Date.parse('2025-06-16T08:59:00+09:00'))).toBe('2025-06-02');
    expect(beWeek(Date.parse('2025-06-18T12:00:00+09:00'))).toBe('2025-06-09');
    // Across a month and a year end.
    expect(beWeek(Date.parse('2026-01-01T09:00:00Z'))).toBe('2025-12-22');
  });

  it('turns at Monday 00:00 in a configured zone', () => {
    expect(beWeek(Date.parse('2025-06-15T23:59:00+09:00'), 'Asia/Seoul')).toBe('2025-06-02');
    expect(beWeek(Date.parse('2025-06-16T00:00:00+09:00'), 'Asia/Seoul')).toBe('2025-06-09');
    expect(beWeek(Date.parse('2025-06-16T00:00:00-04:00'), 'America/New_York')).toBe('2025-06-09');
    expect(beWeek(Date.parse('2025-06-15T23:59:00-04:00'), 'America/New_York')).toBe('2025-06-02');
  });

  it('gives the instant of the next turn, also across a DST change', () => {
    expect(new Date(nextWeekTurn(Date.parse('2025-06-18T12:00:00Z'))).toISOString()).toBe(
      '2025-06-23T00:00:00.000Z',
    );
    // A Monday 00:00 is itself a turn: the next one is a week later.
    expect(new Date(nextWeekTurn(Date.parse('2025-06-16T00:00:00Z'))).toISOString()).toBe(
      '2025-06-23T00:00:00.000Z',
    );
    expect(new Date(nextWeekTurn(Date.parse('2025-06-18T12:00:00Z'), 'Asia/Seoul')).toISOString()).toBe(
      '2025-06-22T15:00:00.000Z',
    );
    // New York leaves DST on Sunday 2025-11-02: Monday 11-03 00:00 is EST (-05:00).
    expect(new Date(nextWeekTurn(Date.parse('2025-10-29T12:00:00Z'), 'America/New_York')).toISOString()).toBe(
      '2025-11-03T05:00:00.000Z',
    );
    for (const at of ['2025-06-18T12:00:00Z', '2025-12-31T23:00:00Z']) {
      const turn = nextWeekTurn(Date.parse(at));
      expect(beWeek(turn - 1)).toBe(beWeek(Date.parse(at)));
      expect(beWeek(turn)).not.toBe(beWeek(Date.parse(at)));
    }
  });

  it('knows IANA zones', () => {
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Asia/Seoul')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });
});
