import { QueueAdmission } from '../../src/sqs-bridge/admission';

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
    await new Promise((r) => setTimeout(r, 50));
    expect(third).toBe(false);
    expect(countOpen).toHaveBeenCalledTimes(1);
    stop.abort(new Error('done'));
    await expect(waiting).rejects.toThrow('done');
  });

  it('reads the count again after refreshMs and admits once runs have closed', async () => {
    let open = 2;
    const admission = new QueueAdmission({ maxOpen: 2, countOpen: async () => open, refreshMs: 20 });
    const signal = new AbortController().signal;
    const waiting = admission.admit(signal);
    await new Promise((r) => setTimeout(r, 60));
    open = 1;
    await expect(waiting).resolves.toBeUndefined();
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
