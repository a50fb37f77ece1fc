/**
 * Tests of the growing failure hold run on the test server's clock, which is the wall clock plus what
 * earlier tests skipped: a week turn may be near. These pick the BE's zone so that none is.
 */
import { nextWeekTurn } from '../../src/domain/be-week';

/** `preferred`, or another zone, whose next week turn is more than 8 h after `ms` (no hold is cut). */
export function zoneWithoutTurnSoon(ms: number, preferred = 'UTC'): string {
  const zone = [preferred, 'UTC', 'Asia/Seoul'].find((z) => nextWeekTurn(ms, z) - ms > 8 * 3_600_000);
  if (!zone) throw new Error('no zone without a week turn in 8 h (UTC and Asia/Seoul are 9 h apart)');
  return zone;
}
