/** The countEarlierFailures activity with an injected visibility client (src/activities/repeats.ts). */
import { createActivities, type ActivityDeps } from '../../src/activities';
import { failuresQuery } from '../../src/run/repeats';
import { fakeVisibility } from '../support/visibility';

const SIGNATURE = '7-9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';
const deps = (visibility?: ActivityDeps['visibility']) =>
  ({ ...(visibility ? { visibility } : {}) }) as unknown as ActivityDeps;

describe('countEarlierFailures (activity)', () => {
  it("counts the signature's failures since the given time on the worker's client, not the asking run", async () => {
    const { lister, queries } = fakeVisibility([
      {
        workflowId: 'feedback-7-a',
        status: 'FAILED',
        startTime: '2026-12-09T01:00:00Z',
        signature: SIGNATURE,
      },
      {
        workflowId: 'feedback-7-b',
        status: 'RUNNING',
        startTime: '2026-12-09T02:00:00Z',
        signature: SIGNATURE,
      },
      {
        workflowId: 'feedback-7-c',
        status: 'RUNNING',
        startTime: '2026-12-09T03:00:00Z',
        signature: SIGNATURE,
      },
    ]);
    const count = await createActivities(deps(lister)).countEarlierFailures({
      signature: SIGNATURE,
      since: '2026-12-08T03:00:00.000Z',
      workflowId: 'feedback-7-c',
    });
    expect(count).toBe(2);
    expect(queries[0].query).toBe(failuresQuery(new Date('2026-12-08T03:00:00.000Z'), SIGNATURE));
  });

  it('answers 0 without a visibility client (the base hold)', async () => {
    const count = await createActivities(deps()).countEarlierFailures({
      signature: SIGNATURE,
      since: '2026-12-08T03:00:00.000Z',
      workflowId: 'feedback-7-c',
    });
    expect(count).toBe(0);
  });
});
