/**
 * The adjustable concurrency limit and the Temporal activity slot supplier built on it.
 */
import type {
  ActivitySlotInfo,
  SlotMarkUsedContext,
  SlotPermit,
  SlotReleaseContext,
  SlotReserveContext,
} from '@temporalio/worker';
import { ConcurrencyLimiter, limiterSlotSupplier } from '../../src/llm-concurrency/limiter';

/** Lets the promise callbacks that are ready run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Starts `acquire` and records its name in `granted` once it resolves. */
function queue(limiter: ConcurrencyLimiter, name: string, granted: string[], signal?: AbortSignal) {
  return limiter.acquire(signal).then(() => {
    granted.push(name);
  });
}

describe('ConcurrencyLimiter', () => {
  it('starts at a whole limit of at least one', () => {
    expect(new ConcurrencyLimiter(4).limit).toBe(4);
    expect(new ConcurrencyLimiter(2.7).limit).toBe(2);
    expect(new ConcurrencyLimiter(0).limit).toBe(1);
    const limiter = new ConcurrencyLimiter(4);
    limiter.setLimit(-3);
    expect(limiter.limit).toBe(1);
  });

  it('hands out permits with tryAcquire up to the limit', () => {
    const limiter = new ConcurrencyLimiter(2);
    expect(limiter.tryAcquire()).toBe(true);
    expect(limiter.tryAcquire()).toBe(true);
    expect(limiter.tryAcquire()).toBe(false);
    expect(limiter.reserved).toBe(2);
    limiter.release(false);
    expect(limiter.tryAcquire()).toBe(true);
    expect(limiter.reserved).toBe(2);
  });

  it('grants acquire at once while below the limit', async () => {
    const limiter = new ConcurrencyLimiter(1);
    await limiter.acquire();
    expect(limiter.reserved).toBe(1);
    expect(limiter.waiting).toBe(0);
  });

  it('makes acquire wait for a released permit, and grants waiters in FIFO order', async () => {
    const limiter = new ConcurrencyLimiter(1);
    expect(limiter.tryAcquire()).toBe(true);
    const granted: string[] = [];
    const all = Promise.all(['a', 'b', 'c'].map((name) => queue(limiter, name, granted)));
    await settle();
    expect(granted).toEqual([]);
    expect(limiter.waiting).toBe(3);

    limiter.release(false);
    await settle();
    expect(granted).toEqual(['a']);
    expect(limiter.reserved).toBe(1);
    limiter.release(false);
    await settle();
    expect(granted).toEqual(['a', 'b']);
    limiter.release(false);
    await all;
    expect(granted).toEqual(['a', 'b', 'c']);
    expect(limiter.waiting).toBe(0);
    expect(limiter.reserved).toBe(1);
  });

  it('grants waiters, in order, when the limit is raised', async () => {
    const limiter = new ConcurrencyLimiter(1);
    limiter.tryAcquire();
    const granted: string[] = [];
    for (const name of ['a', 'b', 'c']) void queue(limiter, name, granted);
    limiter.setLimit(3);
    await settle();
    expect(granted).toEqual(['a', 'b']);
    expect(limiter.reserved).toBe(3);
    expect(limiter.waiting).toBe(1);
  });

  it('never revokes held permits when the limit is lowered, and grants nothing until below it', async () => {
    const limiter = new ConcurrencyLimiter(3);
    for (let i = 0; i < 3; i++) limiter.tryAcquire();
    limiter.setLimit(1);
    expect(limiter.limit).toBe(1);
    expect(limiter.reserved).toBe(3);

    const granted: string[] = [];
    void queue(limiter, 'next', granted);
    limiter.release(false);
    await settle();
    expect(limiter.reserved).toBe(2);
    expect(granted).toEqual([]);
    limiter.release(false);
    await settle();
    expect(limiter.reserved).toBe(1);
    expect(granted).toEqual([]);
    limiter.release(false);
    await settle();
    expect(granted).toEqual(['next']);
    expect(limiter.reserved).toBe(1);
  });

  it('rejects acquire with the signal’s reason on abort and takes the waiter out of the queue', async () => {
    const limiter = new ConcurrencyLimiter(1);
    limiter.tryAcquire();
    const controller = new AbortController();
    const granted: string[] = [];
    const aborted = queue(limiter, 'aborted', granted, controller.signal);
    const next = queue(limiter, 'next', granted);
    expect(limiter.waiting).toBe(2);

    const reason = new Error('poll no longer needed');
    controller.abort(reason);
    await expect(aborted).rejects.toBe(reason);
    expect(limiter.waiting).toBe(1);

    // The released permit goes to the next waiter, not to the aborted one.
    limiter.release(false);
    await next;
    expect(granted).toEqual(['next']);
    expect(limiter.reserved).toBe(1);
    expect(limiter.waiting).toBe(0);
  });

  it('rejects with an AbortError when the signal is aborted without a reason', async () => {
    const limiter = new ConcurrencyLimiter(1);
    limiter.tryAcquire();
    const controller = new AbortController();
    const pending = limiter.acquire(controller.signal);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(limiter.waiting).toBe(0);
  });

  it('rejects acquire on an already aborted signal without taking a free permit', async () => {
    const limiter = new ConcurrencyLimiter(2);
    const reason = new Error('already aborted');
    await expect(limiter.acquire(AbortSignal.abort(reason))).rejects.toBe(reason);
    expect(limiter.reserved).toBe(0);
    expect(limiter.waiting).toBe(0);
  });

  it('counts in inUse only the permits marked used, and release(used) gives them back', () => {
    const limiter = new ConcurrencyLimiter(3);
    limiter.tryAcquire();
    limiter.tryAcquire();
    expect(limiter.inUse).toBe(0);
    limiter.markUsed();
    expect(limiter.inUse).toBe(1);
    expect(limiter.reserved).toBe(2);

    limiter.release(false); // the unused permit
    expect(limiter.inUse).toBe(1);
    expect(limiter.reserved).toBe(1);
    limiter.release(true); // the used one
    expect(limiter.inUse).toBe(0);
    expect(limiter.reserved).toBe(0);
  });

  it('does not count below zero on an extra release', () => {
    const limiter = new ConcurrencyLimiter(1);
    limiter.release(true);
    expect(limiter.reserved).toBe(0);
    expect(limiter.inUse).toBe(0);
    expect(limiter.tryAcquire()).toBe(true);
    expect(limiter.tryAcquire()).toBe(false);
  });
});

describe('limiterSlotSupplier', () => {
  const reserveCtx = { slotType: 'activity', taskQueue: 'feedback-llm' } as SlotReserveContext;
  const used = (permit: SlotPermit) => ({ permit }) as SlotMarkUsedContext<ActivitySlotInfo>;
  const released = (permit: SlotPermit) => ({ permit }) as SlotReleaseContext<ActivitySlotInfo>;

  it('is a custom slot supplier', () => {
    expect(limiterSlotSupplier(new ConcurrencyLimiter(1)).type).toBe('custom');
  });

  it('tryReserveSlot gives permits up to the limit, then null', () => {
    const limiter = new ConcurrencyLimiter(2);
    const supplier = limiterSlotSupplier(limiter);
    expect(supplier.tryReserveSlot(reserveCtx)).not.toBeNull();
    expect(supplier.tryReserveSlot(reserveCtx)).not.toBeNull();
    expect(supplier.tryReserveSlot(reserveCtx)).toBeNull();
    expect(limiter.reserved).toBe(2);
  });

  it('reserveSlot waits until another slot is released', async () => {
    const limiter = new ConcurrencyLimiter(1);
    const supplier = limiterSlotSupplier(limiter);
    const first = await supplier.reserveSlot(reserveCtx, new AbortController().signal);
    let second: SlotPermit | undefined;
    const pending = supplier.reserveSlot(reserveCtx, new AbortController().signal).then((permit) => {
      second = permit;
    });
    await settle();
    expect(second).toBeUndefined();
    expect(limiter.waiting).toBe(1);

    supplier.releaseSlot(released(first));
    await pending;
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    expect(limiter.reserved).toBe(1);
  });

  it('reserveSlot rejects on abort and leaves the queue', async () => {
    const limiter = new ConcurrencyLimiter(1);
    const supplier = limiterSlotSupplier(limiter);
    supplier.tryReserveSlot(reserveCtx);
    const controller = new AbortController();
    const pending = supplier.reserveSlot(reserveCtx, controller.signal);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(limiter.waiting).toBe(0);
    expect(limiter.reserved).toBe(1);
  });

  it('markSlotUsed counts each permit once in inUse', () => {
    const limiter = new ConcurrencyLimiter(3);
    const supplier = limiterSlotSupplier(limiter);
    const a = supplier.tryReserveSlot(reserveCtx) as SlotPermit;
    const b = supplier.tryReserveSlot(reserveCtx) as SlotPermit;
    supplier.markSlotUsed(used(a));
    supplier.markSlotUsed(used(a));
    expect(limiter.inUse).toBe(1);
    supplier.markSlotUsed(used(b));
    expect(limiter.inUse).toBe(2);
  });

  it('releaseSlot gives back the permit, and its use only if it was marked used', () => {
    const limiter = new ConcurrencyLimiter(3);
    const supplier = limiterSlotSupplier(limiter);
    const usedPermit = supplier.tryReserveSlot(reserveCtx) as SlotPermit;
    const idlePermit = supplier.tryReserveSlot(reserveCtx) as SlotPermit;
    const otherUsed = supplier.tryReserveSlot(reserveCtx) as SlotPermit;
    supplier.markSlotUsed(used(usedPermit));
    supplier.markSlotUsed(used(otherUsed));
    expect(limiter.inUse).toBe(2);

    // A poll that timed out: the permit was never used.
    supplier.releaseSlot(released(idlePermit));
    expect(limiter.reserved).toBe(2);
    expect(limiter.inUse).toBe(2);
    supplier.releaseSlot(released(usedPermit));
    expect(limiter.reserved).toBe(1);
    expect(limiter.inUse).toBe(1);
  });
});
