/**
 * A concurrency limit whose value can change at any time, and the Temporal slot supplier that makes
 * a worker poll its task queue only while the limit allows another task. Lowering the limit never
 * interrupts a call: permits in use finish, and no new one is granted until the count is below it.
 */
import type { ActivitySlotInfo, CustomSlotSupplier, SlotPermit } from '@temporalio/worker';

interface Waiter {
  grant: () => void;
}

export class ConcurrencyLimiter {
  private current: number;
  /** Permits handed out (a poller waiting for a task holds one). */
  private held = 0;
  /** Permits whose task is running. */
  private busy = 0;
  private readonly waiters: Waiter[] = [];

  constructor(limit: number) {
    this.current = Math.max(1, Math.floor(limit));
  }

  get limit(): number {
    return this.current;
  }

  /** Permits handed out, used or not. */
  get reserved(): number {
    return this.held;
  }

  /** Permits whose task is running: the calls in flight. */
  get inUse(): number {
    return this.busy;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  setLimit(limit: number): void {
    this.current = Math.max(1, Math.floor(limit));
    this.drain();
  }

  tryAcquire(): boolean {
    if (this.held >= this.current || this.waiters.length > 0) return false;
    this.held += 1;
    return true;
  }

  /** Resolves when a permit is granted; rejects with the signal's reason when it aborts first. */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** The permit's task started. */
  markUsed(): void {
    this.busy += 1;
  }

  /** Gives a permit back; `used`: its task had started (markUsed). */
  release(used: boolean): void {
    this.held = Math.max(0, this.held - 1);
    if (used) this.busy = Math.max(0, this.busy - 1);
    this.drain();
  }

  private drain(): void {
    while (this.held < this.current && this.waiters.length > 0) {
      this.held += 1;
      (this.waiters.shift() as Waiter).grant();
    }
  }
}

interface LimiterPermit extends SlotPermit {
  used: boolean;
}

/** Activity slots granted by `limiter`: the worker runs at most `limiter.limit` activities at once. */
export function limiterSlotSupplier(limiter: ConcurrencyLimiter): CustomSlotSupplier<ActivitySlotInfo> {
  return {
    type: 'custom',
    async reserveSlot(_ctx, abortSignal) {
      await limiter.acquire(abortSignal);
      return { used: false } satisfies LimiterPermit;
    },
    tryReserveSlot() {
      return limiter.tryAcquire() ? ({ used: false } satisfies LimiterPermit) : null;
    },
    markSlotUsed(ctx) {
      const permit = ctx.permit as LimiterPermit;
      if (permit.used) return;
      permit.used = true;
      limiter.markUsed();
    },
    releaseSlot(ctx) {
      limiter.release((ctx.permit as LimiterPermit).used);
    },
  };
}
