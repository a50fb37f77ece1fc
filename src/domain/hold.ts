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
import { DEFAULT_BE_TIME_ZONE, nextWeekTurn } from './be-week';

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
