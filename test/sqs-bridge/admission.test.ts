import { QueueAdmission } from '../../src/sqs-bridge/admission';
import { eventually } from '../support/eventually';

describe('QueueAdmission (bound of open bulk runs)', () => {
  it('admits while the open runs plus those admitted since the last count are below the bound', async () => {
    const countOpen = jest.fn(async () => 3);
    const admission = new QueueAdmission({ maxOpen: 5, countOpen, refreshMs: 60_000 });
    const stop = new AbortController();
    await admission.admit(stop.signal);
    await admission.admit(stop.signal);
    // 3 open + 2 admitted = 5: the third waits.
    let third = false;
    const waiting = admission.admit(stop.signal).then(() => (third = true));
    // Proves a non-event: with refreshMs 60 s nothing may admit it; 50 ms of waiting shows it stays put.
    await new Promise((r) => setTimeout(r, 50));
    expect(third).toBe(false);
    expect(countOpen).toHaveBeenCalledTimes(1);
    stop.abort(new Error('done'));
    await expect(waiting).rejects.toThrow('done');
  });

  it('reads the count again after refreshMs and admits once runs have closed', async () => {
    let open = 2;
    const countOpen = jest.fn(async () => open);
    const admission = new QueueAdmission({ maxOpen: 2, countOpen, refreshMs: 20 });
    const signal = new AbortController().signal;
    let admitted = false;
    const waiting = admission.admit(signal).then(() => (admitted = true));
    // At the bound it reads again, and again, without admitting: three reads of a full count.
    const reads = await eventually(
      async () => countOpen.mock.calls.length,
      (n) => n >= 3,
      5_000,
      5,
    );
    expect(reads).toBeGreaterThanOrEqual(3);
    expect(admitted).toBe(false);
    open = 1;
    await expect(waiting).resolves.toBe(true);
  });

  it('below the bound does not read the count again until staleMs has passed', async () => {
    const countOpen = jest.fn(async () => 10);
    const admission = new QueueAdmission({ maxOpen: 100, countOpen, refreshMs: 5, staleMs: 60_000 });
    const signal = new AbortController().signal;
    for (let i = 0; i < 90; i++) {
      await admission.admit(signal);
      // Time is the point: refreshMs (5 ms) passes again and again while below the bound.
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 6));
    }
    // 10 open + 90 admitted = 100: many refresh periods later, still the one read.
    expect(countOpen).toHaveBeenCalledTimes(1);
    // Past refreshMs (5 ms): at the bound a read is due again.
    await new Promise((r) => setTimeout(r, 10));
    await admission.admit(signal); // the sum is at the bound: the count is read again (10 open)
    expect(countOpen).toHaveBeenCalledTimes(2);
  });

  it('reads the count again after staleMs even far below the bound', async () => {
    const countOpen = jest.fn(async () => 0);
    const admission = new QueueAdmission({ maxOpen: 100, countOpen, refreshMs: 5, staleMs: 30 });
    const signal = new AbortController().signal;
    await admission.admit(signal);
    await admission.admit(signal);
    expect(countOpen).toHaveBeenCalledTimes(1);
    // Time is the point: the count becomes stale once staleMs (30 ms) has passed.
    await new Promise((r) => setTimeout(r, 50));
    await admission.admit(signal);
    expect(countOpen).toHaveBeenCalledTimes(2);
  });

  it('stops waiting with the signal’s reason when the bridge stops', async () => {
    const admission = new QueueAdmission({ maxOpen: 1, countOpen: async () => 1, refreshMs: 10_000 });
    const stop = new AbortController();
    const waiting = admission.admit(stop.signal);
    stop.abort(new Error('bridge stopping'));
    await expect(waiting).rejects.toThrow('bridge stopping');
  });

  it('shares one count request between concurrent callers', async () => {
    let calls = 0;
    const admission = new QueueAdmission({
      maxOpen: 100,
      countOpen: async () => {
        calls++;
        // A count request that takes a while: the other callers arrive while it is in flight.
        await new Promise((r) => setTimeout(r, 20));
        return 0;
      },
    });
    const signal = new AbortController().signal;
    await Promise.all(Array.from({ length: 10 }, () => admission.admit(signal)));
    expect(calls).toBe(1);
  });

  it('passes a failed count on (the start counts as failed and the message comes back)', async () => {
    const admission = new QueueAdmission({
      maxOpen: 1,
      countOpen: async () => {
        throw new Error('Temporal unreachable');
      },
    });
    await expect(admission.admit(new AbortController().signal)).rejects.toThrow('Temporal unreachable');
  });
});
