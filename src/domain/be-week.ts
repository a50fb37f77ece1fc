/**
 * The BE's week. The BE files a result under the week it asks about at receipt: the Monday of the
 * previous Monday–Sunday week by `LocalDate.now()` of its JVM. Its image sets no TZ, so its zone is
 * most likely UTC (the week turns Monday 00:00 UTC, 09:00 in Korea); BE_TIME_ZONE says otherwise.
 *
 * Pure (Intl only): safe in the workflow sandbox too.
 */

/** The zone the BE's week turns in unless configured (its JVM's default with no TZ set). */
export const DEFAULT_BE_TIME_ZONE = 'UTC';

const DAY_MS = 24 * 3_600_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Whether `timeZone` is an IANA zone this runtime knows (e.g. `UTC`, `Asia/Seoul`). */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock time of `ms` in `timeZone`, written as if it were UTC (epoch ms). */
function wallClock(ms: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(ms))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return Date.UTC(
    parts.year ?? 0,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    parts.hour,
    parts.minute,
    parts.second,
  );
}

/** Midnight (epoch ms, as UTC) of the local date of `ms` in `timeZone`. */
function localMidnight(ms: number, timeZone: string): number {
  const wall = wallClock(ms, timeZone);
  return wall - (((wall % DAY_MS) + DAY_MS) % DAY_MS);
}

/** Days since Monday (0–6) of a date written as UTC midnight. */
function sinceMonday(utcMidnight: number): number {
  return (new Date(utcMidnight).getUTCDay() + 6) % 7;
}

/**
 * `yyyy-MM-dd` of the Monday of the week the BE asks about at `ms` (this week's Monday minus 7 days
 * in `timeZone`): the week it files a result received then under.
 */
export function beWeek(ms: number, timeZone: string = DEFAULT_BE_TIME_ZONE): string {
  const today = localMidnight(ms, timeZone);
  return new Date(today - (sinceMonday(today) + 7) * DAY_MS).toISOString().slice(0, 10);
}

/** The instant (epoch ms) of the BE's next week turn after `ms`: the next Monday 00:00 in `timeZone`. */
export function nextWeekTurn(ms: number, timeZone: string = DEFAULT_BE_TIME_ZONE): number {
  const today = localMidnight(ms, timeZone);
  const nextMonday = today + (7 - sinceMonday(today)) * DAY_MS;
  // The zone's offset at that midnight (read twice: a DST change between now and then moves it).
  let turn = nextMonday - (wallClock(nextMonday, timeZone) - nextMonday);
  turn = nextMonday - (wallClock(turn, timeZone) - turn);
  return turn;
}
