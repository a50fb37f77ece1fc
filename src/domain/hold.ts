/**
 * The failure hold and how it grows when a request keeps failing (docs/be-contract.md, "The failure
 * hold"). The BE re-publishes a request every time it reads a status code, with no cap, so a failure
 * that recurs for the same request is a loop; each lap is held longer than the last:
 *
 *   hold = base × 4^n, at most 6 h (n: the request's earlier failures within 24 h, counted by its
 *   signature), never past 1 minute before the BE's next week turn (Monday 00:00 in its zone), and
 *   never shorter than the base hold (SQS's 5-minute deduplication window needs it).
 *
 * Pure and dependency-free (Intl only): it runs inside the workflow sandbox.
 */

/** Each earlier failure within the window multiplies the hold by this. */
export const FAILURE_HOLD_GROWTH = 4;
/** The grown hold's cap (a base hold above it is kept as it is). */
export const FAILURE_HOLD_MAX_SECONDS = 6 * 3600;
/** The window in which a request's earlier failures count. */
export const REPEAT_WINDOW_MS = 24 * 3_600_000;
/**
 * A grown hold ends at least this long before the BE's week turn: the BE (long poll of 20 s) reads the
 * status code, and builds its re-request, in the week the member asked in.
 */
export const WEEK_TURN_MARGIN_MS = 60_000;
/** The BE's zone when none is configured: its image sets no TZ, so its JVM runs in UTC. */
export const DEFAULT_BE_TIME_ZONE = 'UTC';

/** What the hold of one failure depends on. */
export interface HoldInput {
  source: 'api' | 'queue';
  /** When the message was sent to the request queue (ISO): the hold counts from here. */
  sentAt: string;
  policy: { failureHoldSeconds: number; beTimeZone?: string };
}

/** The request's earlier failures (within REPEAT_WINDOW_MS) and the time of this one (epoch ms). */
export interface Repeats {
  earlierFailures: number;
  now: number;
}

/** The hold in seconds after `earlierFailures` earlier failures, before the week-turn cap. */
export function grownHoldSeconds(baseSeconds: number, earlierFailures: number): number {
  if (baseSeconds <= 0) return 0;
  const n = Math.max(0, Math.min(Math.floor(earlierFailures), 32));
  return Math.min(Math.max(baseSeconds, FAILURE_HOLD_MAX_SECONDS), baseSeconds * FAILURE_HOLD_GROWTH ** n);
}

/**
 * Until when a failure result waits (epoch ms), for a request the BE put on the queue itself; none for
 * API requests (their message never carried the BE's deduplication id). Without `repeats` (or with no
 * earlier failure): `sentAt + failureHoldSeconds`. With earlier failures: the grown hold from `sentAt`,
 * cut at WEEK_TURN_MARGIN_MS before the BE's first week turn after `repeats.now`, but never below the
 * base hold. A time already past means "send at once".
 */
export function failureHoldUntil(input: HoldInput, repeats?: Repeats): number | undefined {
  const sent = Date.parse(input.sentAt);
  const base = input.policy.failureHoldSeconds;
  if (input.source !== 'queue' || !Number.isFinite(sent) || base <= 0) return undefined;
  const baseUntil = sent + base * 1000;
  if (!repeats || repeats.earlierFailures <= 0) return baseUntil;
  const grownUntil = sent + grownHoldSeconds(base, repeats.earlierFailures) * 1000;
  const zone = input.policy.beTimeZone ?? DEFAULT_BE_TIME_ZONE;
  const turnCap = nextWeekTurn(Math.max(repeats.now, sent), zone) - WEEK_TURN_MARGIN_MS;
  return Math.max(baseUntil, Math.min(grownUntil, turnCap));
}

/** The first Monday 00:00 in `timeZone` strictly after `ms` (epoch ms). */
export function nextWeekTurn(ms: number, timeZone: string): number {
  const local = zonedParts(ms, timeZone);
  // Days from the local date to the next Monday (1–7: a Monday's next turn is a week later).
  const daysToMonday = ((8 - local.weekday) % 7) + (local.weekday === 1 ? 7 : 0);
  const monday = Date.UTC(local.year, local.month - 1, local.day + daysToMonday);
  return zonedMidnightToEpoch(monday, timeZone);
}

/** Whether `timeZone` is an IANA zone this runtime knows (a configuration check). */
export function isKnownTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

interface ZonedParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 1 Monday … 7 Sunday. */
  weekday: number;
}

const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
const formats = new Map<string, Intl.DateTimeFormat>();

function zonedParts(ms: number, timeZone: string): ZonedParts {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formats.set(timeZone, format);
  }
  const parts: Record<string, string> = {};
  for (const part of format.formatToParts(ms)) parts[part.type] = part.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: WEEKDAYS[parts.weekday ?? ''] ?? 1,
  };
}

/** The zone's offset from UTC at `ms`, in ms (e.g. +9 h for Asia/Seoul). */
function offsetAt(ms: number, timeZone: string): number {
  const p = zonedParts(ms, timeZone);
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return wall - Math.floor(ms / 1000) * 1000;
}

/** The instant of 00:00 local time on the date `utcMidnight` names (Date.UTC of it), in `timeZone`. */
function zonedMidnightToEpoch(utcMidnight: number, timeZone: string): number {
  // Two passes settle the offset unless midnight falls into a DST gap (then the first instant after it).
  let guess = utcMidnight - offsetAt(utcMidnight, timeZone);
  guess = utcMidnight - offsetAt(guess, timeZone);
  return guess;
}
