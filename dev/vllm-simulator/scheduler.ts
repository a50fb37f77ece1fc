/**
 * Like vLLM's `--max-num-seqs`: at most `maxNumSeqs` requests generate at once, the rest wait and are
 * granted a slot in arrival order; and how long a generation holds its slot.
 */
import { z } from 'zod';
import { type FaultRule, faultDelayMs, hangs } from './faults';

export const maxNumSeqsSchema = z.int().min(1);
export const durationSchema = z.number().min(0);
export const overcommitPenaltySchema = z.number().min(0).max(100);

/** See `SimulatorOptions` for what each one means. */
export interface SchedulerSettings {
  maxNumSeqs: number;
  latencyMs: number;
  latencyPerTokenMs: number;
  overcommitPenalty: number;
}

export interface Generation {
  completionTokens: number;
  fault: FaultRule | undefined;
  /** Runs when it gets a slot. */
  onStarted(): void;
  /** Runs when the generation time is over, after the slot is freed. */
  onDone(): void;
}

export class Scheduler {
  private readonly slots: FifoSlots;
  private latencyMs: number;
  private latencyPerTokenMs: number;
  private overcommitPenalty: number;
  /** Stops of the requests waiting or generating, so close() can end them. */
  private readonly inFlight = new Set<() => void>();

  constructor(settings: SchedulerSettings) {
    this.slots = new FifoSlots(settings.maxNumSeqs);
    this.latencyMs = settings.latencyMs;
    this.latencyPerTokenMs = settings.latencyPerTokenMs;
    this.overcommitPenalty = settings.overcommitPenalty;
  }

  get runningCount(): number {
    return this.slots.runningCount;
  }

  get waitingCount(): number {
    return this.slots.waitingCount;
  }

  get maxRunningSeen(): number {
    return this.slots.maxRunningSeen;
  }

  get maxNumSeqs(): number {
    return this.slots.maxNumSeqs;
  }

  /** Waits for a slot and holds it for the generation time; the returned stop ends it early. */
  start(generation: Generation): () => void {
    let timer: NodeJS.Timeout | undefined;
    const stop = () => {
      clearTimeout(timer);
      lease.release();
      this.inFlight.delete(stop);
    };
    const lease = this.slots.acquire(() => {
      generation.onStarted();
      if (hangs(generation.fault)) return;
      timer = setTimeout(() => {
        stop();
        generation.onDone();
      }, this.generationMs(generation));
    });
    this.inFlight.add(stop);
    return stop;
  }

  setCapacity(maxNumSeqs: number): void {
    this.slots.setCapacity(maxNumSeqsSchema.parse(maxNumSeqs));
  }

  setLatency(latencyMs: number, latencyPerTokenMs?: number, overcommitPenalty?: number): void {
    this.latencyMs = durationSchema.parse(latencyMs);
    if (latencyPerTokenMs !== undefined) this.latencyPerTokenMs = durationSchema.parse(latencyPerTokenMs);
    if (overcommitPenalty !== undefined) this.overcommitPenalty = Math.max(0, overcommitPenalty);
  }

  resetPeak(): void {
    this.slots.resetPeak();
  }

  /** Drops the queue and ends every request waiting or generating. */
  close(): void {
    this.slots.close();
    for (const stop of [...this.inFlight]) stop();
  }

  /** Over-commitment stands in for a full KV cache: requests waiting slow down the one starting. */
  private generationMs({ completionTokens, fault }: Generation): number {
    const pressure = Math.min(1, this.slots.waitingCount / this.slots.maxNumSeqs);
    const base =
      (this.latencyMs + this.latencyPerTokenMs * completionTokens) * (1 + this.overcommitPenalty * pressure);
    return base + faultDelayMs(fault, this.latencyMs);
  }
}

interface Lease {
  /** Frees the slot, or leaves the queue if still waiting. Safe to call more than once. */
  release(): void;
}

interface Waiter {
  state: 'waiting' | 'running' | 'released';
  onGranted: () => void;
}

/** `capacity` slots, granted in arrival order. */
class FifoSlots {
  private running = 0;
  private peak = 0;
  private closed = false;
  private readonly queue: Waiter[] = [];

  constructor(private capacity: number) {}

  get runningCount(): number {
    return this.running;
  }

  get waitingCount(): number {
    return this.queue.length;
  }

  get maxRunningSeen(): number {
    return this.peak;
  }

  get maxNumSeqs(): number {
    return this.capacity;
  }

  /** `onGranted` may run before this returns, when a slot is free. */
  acquire(onGranted: () => void): Lease {
    const waiter: Waiter = { state: 'waiting', onGranted };
    this.queue.push(waiter);
    this.drain();
    return { release: () => this.release(waiter) };
  }

  setCapacity(capacity: number): void {
    this.capacity = capacity;
    this.drain();
  }

  resetPeak(): void {
    this.peak = this.running;
  }

  /** Drops the queue and grants nothing more. */
  close(): void {
    this.closed = true;
    for (const waiter of this.queue.splice(0)) waiter.state = 'released';
  }

  private release(waiter: Waiter): void {
    if (waiter.state === 'running') {
      this.running -= 1;
      this.drain();
    } else if (waiter.state === 'waiting') {
      this.queue.splice(this.queue.indexOf(waiter), 1);
    }
    waiter.state = 'released';
  }

  private drain(): void {
    while (!this.closed && this.running < this.capacity && this.queue.length > 0) {
      const waiter = this.queue.shift() as Waiter;
      waiter.state = 'running';
      this.running += 1;
      this.peak = Math.max(this.peak, this.running);
      waiter.onGranted();
    }
  }
}
