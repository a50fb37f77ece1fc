import { selectWindowResults, type WindowRun } from '../../src/domain/redeliver-window';

/** Wednesday 2025-06-18 12:00 UTC: the BE (UTC) files results under the week of 2025-06-09. */
const NOW = Date.parse('2025-06-18T12:00:00Z');
const HOUR = 3_600_000;

function completed(memberId: number, closedHoursAgo: number, extra: Partial<WindowRun> = {}): WindowRun {
  const closedAt = NOW - closedHoursAgo * HOUR;
  return {
    requestId: `req-${memberId}-${closedHoursAgo}`,
    memberId,
    status: 'COMPLETED',
    startedAt: closedAt - 60_000,
    closedAt,
    content: '이번 주도 잘 해냈어요.',
    deliveredTo: ['queue'],
    ...extra,
  };
}

const starts = (runs: WindowRun[]) => {
  const latest = new Map<number, number>();
  for (const r of runs) latest.set(r.memberId, Math.max(latest.get(r.memberId) ?? 0, r.startedAt));
  return latest;
};

describe('selectWindowResults (which results of a window may go to the BE again)', () => {
  it("sends each member's real feedback delivered to the queue in the BE's current week, until its next turn", () => {
    const runs = [completed(1, 5), completed(2, 30)];
    const { send, skipped } = selectWindowResults(runs, starts(runs), NOW, 'UTC');
    expect(skipped).toEqual([]);
    expect(send.map((s) => s.requestId)).toEqual(['req-2-30', 'req-1-5']);
    expect(new Date(send[0].notAfter).toISOString()).toBe('2025-06-23T00:00:00.000Z');
  });

  it('skips status codes and runs without feedback: the BE would re-request, not store', () => {
    const runs = [
      completed(1, 5, { content: '500' }),
      completed(2, 5, { status: 'FAILED', content: undefined }),
      completed(3, 5, { status: 'TERMINATED', content: undefined }),
    ];
    const { send, skipped } = selectWindowResults(runs, starts(runs), NOW, 'UTC');
    expect(send).toEqual([]);
    expect(skipped.map((s) => [s.memberId, s.reason])).toEqual([
      [1, 'not-feedback'],
      [2, 'not-feedback'],
      [3, 'not-feedback'],
    ]);
    expect(skipped[0].detail).toContain('"500"');
  });

  it('skips a result when the member has a later run, in the window or after it, whatever its status', () => {
    const older = completed(1, 10);
    const newer = completed(1, 2);
    const runs = [older, newer];
    const latest = starts(runs);
    expect(selectWindowResults(runs, latest, NOW, 'UTC')).toMatchObject({
      send: [{ requestId: newer.requestId }],
      skipped: [{ requestId: older.requestId, reason: 'later-result' }],
    });
    // A run after the window (still running) is later than both.
    latest.set(1, NOW - 60_000);
    const { send, skipped } = selectWindowResults(runs, latest, NOW, 'UTC');
    expect(send).toEqual([]);
    expect(skipped.map((s) => s.reason)).toEqual(['later-result', 'later-result']);
  });

  it("skips a result delivered before the BE's week turned: it would be filed under the new week", () => {
    // Delivered Sunday 23:00 UTC; the BE's week turned at Monday 00:00 UTC.
    const beforeTurn = completed(1, 0, { closedAt: Date.parse('2025-06-15T23:00:00Z') });
    beforeTurn.startedAt = beforeTurn.closedAt - 60_000;
    const { send, skipped } = selectWindowResults([beforeTurn], starts([beforeTurn]), NOW, 'UTC');
    expect(send).toEqual([]);
    expect(skipped).toEqual([
      {
        requestId: beforeTurn.requestId,
        memberId: 1,
        reason: 'week-turned',
        detail: 'delivered in the BE week of 2025-06-02; it is now the week of 2025-06-09 (UTC)',
      },
    ]);
  });

  it("judges the turn in the BE's zone: Monday 05:00 in Seoul is a new week there, not in UTC", () => {
    const closedAt = Date.parse('2025-06-15T19:00:00Z'); // Monday 04:00 in Seoul
    const now = Date.parse('2025-06-15T21:00:00Z'); // Monday 06:00 in Seoul, Sunday in UTC
    const run = { ...completed(1, 0), closedAt, startedAt: closedAt - 60_000 };
    expect(selectWindowResults([run], starts([run]), now, 'UTC').send).toHaveLength(1);
    const utcLate = Date.parse('2025-06-16T01:00:00Z');
    expect(selectWindowResults([run], starts([run]), utcLate, 'UTC').skipped[0]?.reason).toBe('week-turned');
    expect(selectWindowResults([run], starts([run]), utcLate, 'Asia/Seoul').send).toHaveLength(1);
  });

  it('skips results that went only to the callback (the BE answered it; only the queue loses results)', () => {
    const runs = [
      completed(1, 3, { deliveredTo: ['callback'] }),
      completed(2, 3, { deliveredTo: ['callback', 'queue'] }),
    ];
    const { send, skipped } = selectWindowResults(runs, starts(runs), NOW, 'UTC');
    expect(send.map((s) => s.memberId)).toEqual([2]);
    expect(skipped.map((s) => [s.memberId, s.reason])).toEqual([[1, 'not-on-queue']]);
  });
});
