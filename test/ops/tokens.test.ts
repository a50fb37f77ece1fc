import { listQuery } from '../../src/ops/operations';
import { tokenTotalsByDay, type RunTokens } from '../../src/ops/tokens';

const free = { promptPerMillion: 0, completionPerMillion: 0, currency: 'USD' };
const run = (startTime: string, promptTokens: number, completionTokens: number): RunTokens => ({
  startTime: new Date(startTime),
  promptTokens,
  completionTokens,
});

describe('tokenTotalsByDay', () => {
  it('counts days in Korea time (UTC+9): 15:00Z is already the next day', () => {
    const { days } = tokenTotalsByDay(
      [run('2026-11-25T14:59:59Z', 10, 1), run('2026-11-25T15:00:00Z', 20, 2)],
      free,
    );
    expect(days.map((d) => [d.day, d.promptTokens])).toEqual([
      ['2026-11-25', 10],
      ['2026-11-26', 20],
    ]);
  });

  it('sums runs and tokens per day, sorted by day, with a total row', () => {
    const totals = tokenTotalsByDay(
      [
        run('2026-11-27T01:00:00Z', 300, 30),
        run('2026-11-25T00:00:00Z', 100, 10),
        run('2026-11-27T10:00:00Z', 400, 40),
        run('2026-11-24T16:00:00Z', 200, 20), // 2026-11-25 01:00 KST
      ],
      free,
    );
    expect(totals.days).toEqual([
      { day: '2026-11-25', runs: 2, promptTokens: 300, completionTokens: 30 },
      { day: '2026-11-27', runs: 2, promptTokens: 700, completionTokens: 70 },
    ]);
    expect(totals.total).toEqual({ runs: 4, promptTokens: 1000, completionTokens: 100 });
    expect(totals.currency).toBeUndefined();
  });

  it('counts runs without tokens (not at vLLM yet, or expired) as runs', () => {
    const totals = tokenTotalsByDay(
      [run('2026-11-25T03:00:00Z', 0, 0), run('2026-11-25T04:00:00Z', 5, 7)],
      free,
    );
    expect(totals.days).toEqual([{ day: '2026-11-25', runs: 2, promptTokens: 5, completionTokens: 7 }]);
    expect(totals.total.runs).toBe(2);
  });

  it('adds the cost (and its currency) only when a price is configured', () => {
    const runs = [run('2026-11-25T03:00:00Z', 2_000_000, 500_000), run('2026-11-26T03:00:00Z', 1_000_000, 0)];
    const priced = tokenTotalsByDay(runs, {
      promptPerMillion: 0.15,
      completionPerMillion: 0.6,
      currency: 'USD',
    });
    expect(priced.currency).toBe('USD');
    expect(priced.days[0]?.cost).toBeCloseTo(0.6); // 2 × 0.15 + 0.5 × 0.6
    expect(priced.days[1]?.cost).toBeCloseTo(0.15);
    expect(priced.total.cost).toBeCloseTo(0.75);

    const completionOnly = tokenTotalsByDay(runs, {
      promptPerMillion: 0,
      completionPerMillion: 2,
      currency: 'KRW',
    });
    expect(completionOnly.currency).toBe('KRW');
    expect(completionOnly.total.cost).toBeCloseTo(1);

    const unpriced = tokenTotalsByDay(runs, free);
    expect(unpriced.days.every((d) => !('cost' in d))).toBe(true);
    expect('cost' in unpriced.total).toBe(false);
  });

  it('returns no days and a zero total for no runs', () => {
    expect(tokenTotalsByDay([], free)).toEqual({
      days: [],
      total: { runs: 0, promptTokens: 0, completionTokens: 0 },
    });
  });
});

describe('listQuery for token usage', () => {
  const since = new Date('2026-11-19T00:00:00Z');

  it('selects FeedbackWorkflow runs started since, of one member when given', () => {
    expect(listQuery({ since })).toBe(
      "WorkflowType = 'FeedbackWorkflow' AND StartTime >= '2026-11-19T00:00:00.000Z'",
    );
    expect(listQuery({ since, memberId: 42 })).toBe(
      "WorkflowType = 'FeedbackWorkflow' AND MemberId = 42 AND StartTime >= '2026-11-19T00:00:00.000Z'",
    );
    expect(() => listQuery({ since, memberId: 0 })).toThrow(/positive/);
  });
});
