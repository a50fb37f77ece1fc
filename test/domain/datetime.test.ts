import { formatDateTime, fromEpochMillis, parseLocalDateTime } from '../../src/domain/datetime';

const canonical = (input: unknown): string => {
  const parsed = parseLocalDateTime(input);
  if (!parsed.ok) throw new Error(parsed.error);
  return formatDateTime(parsed.value);
};
const errorOf = (input: unknown): string => {
  const parsed = parseLocalDateTime(input);
  if (parsed.ok) throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
  return parsed.error;
};

describe('BE date-time parsing', () => {
  it('reads 5-, 6- and 7-element Jackson arrays, the 7th element being nanoseconds', () => {
    expect(canonical([2025, 6, 12, 0, 0])).toBe('2025-06-12T00:00:00+09:00');
    expect(canonical([2025, 6, 12, 0, 0, 5])).toBe('2025-06-12T00:00:05+09:00');
    expect(canonical([2025, 6, 7, 13, 8, 16, 710986000])).toBe('2025-06-07T13:08:16.710986+09:00');
    expect(canonical([2025, 6, 7, 13, 8, 16, 999999999])).toBe('2025-06-07T13:08:16.999999999+09:00');
    expect(canonical([2025, 6, 7, 13, 8, 16, 1])).toBe('2025-06-07T13:08:16.000000001+09:00');
  });

  it('reads ISO strings without zone as Seoul time and keeps a given zone', () => {
    expect(canonical('2025-06-12T00:00:00')).toBe('2025-06-12T00:00:00+09:00');
    expect(canonical('2025-06-07T13:08:16.710986')).toBe('2025-06-07T13:08:16.710986+09:00');
    expect(canonical('2025-06-12T00:00')).toBe('2025-06-12T00:00:00+09:00');
    expect(canonical('2024-06-15T12:00:00Z')).toBe('2024-06-15T12:00:00Z');
    expect(canonical('2024-06-15T12:00:00+0530')).toBe('2024-06-15T12:00:00+05:30');
    expect(canonical('2024-06-15T12:00:00-03:00')).toBe('2024-06-15T12:00:00-03:00');
  });

  it('accepts 29 February in a leap year and rejects it otherwise', () => {
    expect(canonical([2024, 2, 29, 0, 0])).toBe('2024-02-29T00:00:00+09:00');
    expect(canonical('2000-02-29T00:00:00')).toBe('2000-02-29T00:00:00+09:00');
    expect(errorOf([2025, 2, 29, 0, 0])).toMatch(/day 29/);
    expect(errorOf('1900-02-29T00:00:00')).toMatch(/day 29/);
  });

  it('rejects impossible values instead of clamping them', () => {
    expect(errorOf([2025, 13, 1, 0, 0])).toMatch(/month 13/);
    expect(errorOf('2025-02-30T00:00:00')).toMatch(/day 30/);
    expect(errorOf('2025-04-31T00:00:00')).toMatch(/day 31/);
    expect(errorOf([2025, 6, 1, 24, 0])).toMatch(/hour 24/);
    expect(errorOf('2025-06-01T24:00:00')).toMatch(/hour 24/);
    expect(errorOf([2025, 6, 1, 0, 60])).toMatch(/minute 60/);
    expect(errorOf([2025, 6, 1, 0, 0, 60])).toMatch(/second 60/);
    expect(errorOf([2025, 6, 1, 0, 0, 0, 1_000_000_000])).toMatch(/nanoOfSecond/);
    expect(errorOf([2025, 6, -1, 0, 0])).toMatch(/non-negative integer/);
    expect(errorOf([2025, 6, 1.5, 0, 0])).toMatch(/non-negative integer/);
    expect(errorOf([2025, 6, 1, 0])).toMatch(/5, 6 or 7/);
    expect(errorOf([2025, 6, 1, 0, 0, 0, 0, 0])).toMatch(/5, 6 or 7/);
    expect(errorOf('2025-06-01T00:00:00+25:00')).toMatch(/offset/);
  });

  it('rejects what is not a date-time at all without throwing', () => {
    for (const input of ['', 'yesterday', '2025-06-01', 20250601, {}, null, ['2025', 6, 1, 0, 0], true]) {
      expect(parseLocalDateTime(input).ok).toBe(false);
    }
  });

  it('formats an instant as Seoul local time', () => {
    expect(fromEpochMillis(Date.parse('2025-06-16T00:00:00Z'))).toBe('2025-06-16T09:00:00+09:00');
    expect(fromEpochMillis(Date.parse('2025-06-15T15:30:00.250Z'))).toBe('2025-06-16T00:30:00.25+09:00');
  });
});
