/**
 * A request's earlier failures in visibility (src/run/repeats.ts): the query, the count the failure
 * hold grows with (with an injected client), and the grouping behind `feedback list --looping`.
 */
import {
  countEarlierFailures,
  failuresQuery,
  listLoopingRequests,
  loopingRequests,
  MAX_COUNTED_FAILURES,
} from '../../src/run/repeats';
import { fakeVisibility, listedRun, type FakeRun } from '../support/visibility';

const SIG_A = '7-9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';
const SIG_B = '8-60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752';
const since = new Date('2026-12-08T10:00:00Z');

describe('failuresQuery', () => {
  it("asks for the signature's runs started in the window that closed failed or hold their code", () => {
    expect(failuresQuery(since, SIG_A)).toBe(
      `WorkflowType = 'FeedbackWorkflow' AND RequestSignature = '${SIG_A}' AND StartTime >= '2026-12-08T10:00:00.000Z' ` +
        "AND (ExecutionStatus = 'Failed' OR (ExecutionStatus = 'Running' AND FeedbackStage = 'holding'))",
    );
  });

  it('asks across signatures without one, and refuses what is not a signature', () => {
    expect(failuresQuery(since)).not.toContain('RequestSignature');
    expect(() => failuresQuery(since, "7-x' OR '1'='1")).toThrow(/not a request signature/);
  });
});

describe('countEarlierFailures (injected client)', () => {
  const failed = (n: number, signature = SIG_A): FakeRun => ({
    workflowId: `feedback-7-msg-${n}`,
    status: 'FAILED',
    startTime: `2026-12-09T0${n}:00:00Z`,
    memberId: 7,
    signature,
  });

  it('counts the runs visibility answers, leaving out the run that asks', async () => {
    const { lister, queries } = fakeVisibility([failed(1), failed(2), failed(3)]);
    const count = await countEarlierFailures(lister, {
      signature: SIG_A,
      since,
      workflowId: 'feedback-7-msg-3',
    });
    expect(count).toBe(2);
    expect(queries).toEqual([{ query: failuresQuery(since, SIG_A), pageSize: MAX_COUNTED_FAILURES + 1 }]);
  });

  it('is 0 for a first failure', async () => {
    const { lister } = fakeVisibility([]);
    expect(await countEarlierFailures(lister, { signature: SIG_A, since, workflowId: 'feedback-x' })).toBe(0);
  });

  it(`stops reading at ${MAX_COUNTED_FAILURES} (the hold is at its cap long before)`, async () => {
    const many = Array.from({ length: 40 }, (_, i) => ({ ...failed(1), workflowId: `feedback-7-m${i}` }));
    const { lister, yielded } = fakeVisibility(many);
    expect(await countEarlierFailures(lister, { signature: SIG_A, since, workflowId: 'feedback-x' })).toBe(
      MAX_COUNTED_FAILURES,
    );
    expect(yielded()).toBe(MAX_COUNTED_FAILURES);
  });
});

describe('loopingRequests and listLoopingRequests', () => {
  const run = (
    n: number,
    signature: string | undefined,
    status: FakeRun['status'] = 'FAILED',
    memberId = 7,
  ): FakeRun => ({
    workflowId: `feedback-${memberId}-msg-${n}`,
    status,
    startTime: `2026-12-09T${String(n).padStart(2, '0')}:00:00Z`,
    memberId,
    signature,
  });

  it('keeps the signatures that failed more than once, most failures first, with their latest request', () => {
    const rows = loopingRequests(
      [
        run(1, SIG_A),
        run(2, SIG_B, 'FAILED', 8),
        run(3, SIG_A),
        run(4, SIG_B, 'FAILED', 8),
        run(5, SIG_A, 'RUNNING'),
        run(6, 'lone-signature', 'FAILED', 9),
        run(7, undefined, 'FAILED', 10),
        run(8, undefined, 'FAILED', 10),
      ].map(listedRun),
    );
    expect(rows).toEqual([
      {
        memberId: 7,
        signature: SIG_A,
        failures: 3,
        holding: 1,
        firstStartedAt: '2026-12-09T01:00:00.000Z',
        lastStartedAt: '2026-12-09T05:00:00.000Z',
        lastRequestId: '7-msg-5',
      },
      {
        memberId: 8,
        signature: SIG_B,
        failures: 2,
        holding: 0,
        firstStartedAt: '2026-12-09T02:00:00.000Z',
        lastStartedAt: '2026-12-09T04:00:00.000Z',
        lastRequestId: '8-msg-4',
      },
    ]);
  });

  it('reads the failures of the last 24 h across members (or of one member) in one listing', async () => {
    const { lister, queries } = fakeVisibility([run(1, SIG_A), run(2, SIG_A)]);
    const now = Date.parse('2026-12-09T10:00:00Z');
    const rows = await listLoopingRequests(lister, { now });
    expect(rows.map((r) => [r.memberId, r.failures])).toEqual([[7, 2]]);
    expect(queries[0].query).toBe(failuresQuery(new Date('2026-12-08T10:00:00Z')));
    await listLoopingRequests(lister, { now, memberId: 7 });
    expect(queries[1].query).toBe(`${failuresQuery(new Date('2026-12-08T10:00:00Z'))} AND MemberId = 7`);
    await expect(listLoopingRequests(lister, { memberId: 0 })).rejects.toThrow(/positive/);
  });
});
