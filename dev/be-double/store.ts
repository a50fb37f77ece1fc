/**
 * The BE double's memory: its clock, the members it knows with the last request body it sent for each,
 * the weekly feedbacks it stored and everything else it saw (duplicates, re-publishes, results it could
 * not process, DLQ failures). Tests and the chaos run read it and wait on it; `verdict` judges a run.
 */
import { beWeek, DEFAULT_BE_TIME_ZONE } from '../../src/domain/be-week';

/** A result content the BE reads as a recoverable failure (an HTTP status code as a string). */
export const STATUS_CODE_CONTENT = /^[45]\d\d$/;

export type Channel = 'queue' | 'callback';

export interface MemberWeek {
  memberId: number;
  /** Monday (`yyyy-MM-dd`, in the double's zone) of the week the feedback is about. */
  week: string;
}

/** A feedback as the BE received it (stored, or refused as a duplicate). */
export interface ReceivedFeedback extends MemberWeek {
  content: string;
  via: Channel;
  /** The double's clock at receipt. */
  at: number;
  /** Wall-clock time of receipt (Date.now()), for latencies. */
  receivedAt: number;
  /** Fields the BE ignores, kept to tell deliveries apart. */
  requestId?: string;
  idempotencyKey?: string;
  /** The SQS message (a result the BE failed to delete comes back under the same id). */
  messageId?: string;
}

export interface Republish {
  memberId: number;
  /** The status code that asked for it, and the request id of the result that carried it. */
  content: string;
  forRequestId?: string;
  at: number;
  body?: string;
  deduplicationId?: string;
  /** SQS's id for the re-published message; a run for it has the request id `<memberId>-<messageId>`. */
  messageId?: string;
  sent: boolean;
  error?: string;
}

/** A result the subscriber left undeleted (it comes back until the redrive moves it to the DLQ). */
export interface Rejection {
  body: string;
  reason: string;
  at: number;
  messageId?: string;
  receiveCount?: number;
}

export interface DlqFailure {
  body: string;
  at: number;
  messageId?: string;
  /** False when the database was down: the BE could not even log it, and deleted it all the same. */
  logged?: boolean;
}

export interface ExpectedWeek extends MemberWeek {
  /**
   * Requests sent for this member-week (default 1). More real deliveries than this on one channel is a
   * double: each request is delivered at most once per channel.
   */
  requests?: number;
}

export interface Verdict {
  ok: boolean;
  /** Expected member-weeks without a stored feedback. */
  missing: MemberWeek[];
  /** Member-weeks whose stored feedback is a status code (the callback stores whatever it gets). */
  statusCodeStored: Array<MemberWeek & { content: string }>;
  /** Member-weeks that got more real feedbacks on one channel than requests were sent. */
  doubled: Array<MemberWeek & { channel: Channel; deliveries: number; requests: number }>;
  /** Feedbacks of expected members stored under a week that was not expected (e.g. delivered late). */
  unexpected: MemberWeek[];
}

export interface BeClock {
  now(): number;
  /** From now on the clock reads `ms` and runs on from there. */
  setNow(ms: number): void;
  advance(ms: number): void;
}

/** Real time plus an offset, so a set clock keeps running (results arrive while a test waits). */
export function createClock(startMs?: number): BeClock {
  let offset = startMs === undefined ? 0 : startMs - Date.now();
  return {
    now: () => Date.now() + offset,
    setNow(ms) {
      offset = ms - Date.now();
    },
    advance(ms) {
      offset += ms;
    },
  };
}

/**
 * The week a feedback received at `ms` is filed under: the week the BE asks about at that time, by
 * `LocalDate.now()` in its JVM's zone (`timeZone`, UTC by default: its image sets no TZ).
 */
export function feedbackWeek(ms: number, timeZone: string = DEFAULT_BE_TIME_ZONE): string {
  return beWeek(ms, timeZone);
}

/** What the BE's database being down does to a store call (the caller answers as the BE would). */
export class DatabaseDownError extends Error {
  constructor(readonly until: number) {
    super(`database down until ${new Date(until).toISOString()} (the double's clock)`);
    this.name = 'DatabaseDownError';
  }
}

export type StoreOutcome =
  | { stored: true; feedback: ReceivedFeedback }
  | { stored: false; duplicate: ReceivedFeedback; existing: ReceivedFeedback };

export class BeStore {
  /** memberId → the last request body published for it (undefined: known without a body). */
  private readonly members = new Map<number, string | undefined>();
  private readonly byMemberWeek = new Map<string, ReceivedFeedback>();
  private readonly storedList: ReceivedFeedback[] = [];
  private readonly duplicateList: ReceivedFeedback[] = [];
  private readonly republishList: Republish[] = [];
  private readonly rejectionList: Rejection[] = [];
  private readonly dlqList: DlqFailure[] = [];
  private readonly changeListeners = new Set<() => void>();
  private readonly storedListeners = new Set<(feedback: ReceivedFeedback) => void>();

  /** The double's clock until which its database is down (set by `failFor`). */
  private downUntil = -Infinity;

  constructor(
    readonly clock: BeClock,
    /** 'any': every positive memberId is a member (the BE's member table has everyone). */
    private readonly memberPolicy: 'known' | 'any' = 'known',
    /** The zone the week turns in (the BE's JVM's zone). */
    readonly timeZone: string = DEFAULT_BE_TIME_ZONE,
  ) {}

  /**
   * The database is down for `ms` from now on the double's clock (0 ends an outage): every read and
   * write fails, as the BE's do, until then.
   */
  failFor(ms: number): void {
    this.downUntil = ms > 0 ? this.clock.now() + ms : -Infinity;
    this.changed();
  }

  /** Whether the database is down now (by the double's clock). */
  isDown(): boolean {
    return this.clock.now() < this.downUntil;
  }

  /** Throws DatabaseDownError while the database is down: what any BE call that touches it does. */
  checkDatabase(): void {
    if (this.isDown()) throw new DatabaseDownError(this.downUntil);
  }

  /** The week a feedback received at `ms` (default now) is filed under, in the store's zone. */
  week(ms: number = this.clock.now()): string {
    return feedbackWeek(ms, this.timeZone);
  }

  /** Makes `memberId` a known member; with `body`, the request the BE would assemble for it again. */
  remember(memberId: number, body?: string): void {
    if (body !== undefined || !this.members.has(memberId)) this.members.set(memberId, body);
    this.changed();
  }

  isKnown(memberId: number): boolean {
    return this.memberPolicy === 'any' || this.members.has(memberId);
  }

  lastBody(memberId: number): string | undefined {
    return this.members.get(memberId);
  }

  /** Stores a feedback for the member's week at the double's clock, or records a duplicate. */
  store(input: Omit<ReceivedFeedback, 'week' | 'at' | 'receivedAt'>): StoreOutcome {
    this.checkDatabase();
    const at = this.clock.now();
    const received: ReceivedFeedback = { ...input, week: this.week(at), at, receivedAt: Date.now() };
    const key = memberWeekKey(received);
    const existing = this.byMemberWeek.get(key);
    if (existing) {
      this.duplicateList.push(received);
      this.changed();
      return { stored: false, duplicate: received, existing };
    }
    this.byMemberWeek.set(key, received);
    this.storedList.push(received);
    for (const listener of this.storedListeners) callSafely(() => listener(received));
    this.changed();
    return { stored: true, feedback: received };
  }

  recordRepublish(republish: Omit<Republish, 'at'>): Republish {
    const record = { ...republish, at: this.clock.now() };
    this.republishList.push(record);
    this.changed();
    return record;
  }

  recordRejection(rejection: Omit<Rejection, 'at'>): Rejection {
    const record = { ...rejection, at: this.clock.now() };
    this.rejectionList.push(record);
    this.changed();
    return record;
  }

  recordDlqFailure(failure: Omit<DlqFailure, 'at'>): DlqFailure {
    const record = { ...failure, at: this.clock.now() };
    this.dlqList.push(record);
    this.changed();
    return record;
  }

  /** Every stored feedback, in order of storage. */
  feedbacks(): ReceivedFeedback[] {
    return [...this.storedList];
  }

  feedback(memberId: number, week: string): ReceivedFeedback | undefined {
    return this.byMemberWeek.get(memberWeekKey({ memberId, week }));
  }

  duplicates(): ReceivedFeedback[] {
    return [...this.duplicateList];
  }

  republishes(): Republish[] {
    return [...this.republishList];
  }

  rejections(): Rejection[] {
    return [...this.rejectionList];
  }

  dlqFailures(): DlqFailure[] {
    return [...this.dlqList];
  }

  /** Calls `listener` for each feedback stored from now on; returns how to stop. */
  onStored(listener: (feedback: ReceivedFeedback) => void): () => void {
    this.storedListeners.add(listener);
    return () => this.storedListeners.delete(listener);
  }

  /** Calls `listener` after every change of the store (and of the callback's attempts). */
  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  changed(): void {
    // A listener's error must not break the subscriber or the callback that made the change.
    for (const listener of this.changeListeners) callSafely(listener);
  }

  /**
   * Resolves with the predicate's first truthy value, checked now and after every change of the store;
   * rejects after `timeoutMs` naming `what`, or with the predicate's error.
   */
  waitFor<T>(
    predicate: () => T | undefined | false,
    timeoutMs = 30_000,
    what: string | (() => string) = 'a condition',
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      const first = predicate();
      if (first) return resolve(first);
      const stop = this.onChange(() => {
        let value: T | undefined | false;
        try {
          value = predicate();
        } catch (err) {
          stop();
          clearTimeout(timer);
          reject(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        if (!value) return;
        stop();
        clearTimeout(timer);
        resolve(value);
      });
      const timer = setTimeout(() => {
        stop();
        const described = typeof what === 'string' ? what : what();
        reject(new Error(`BE double: timed out after ${timeoutMs} ms waiting for ${described}`));
      }, timeoutMs);
    });
  }

  /**
   * Judges a run: every expected member-week has exactly one real feedback (stored, not a status
   * code, not delivered more often than requested on a channel) and nothing was filed under a week
   * the run did not expect for its members.
   */
  verdict(expected: ExpectedWeek[]): Verdict {
    const wanted = new Map(expected.map((e) => [memberWeekKey(e), e]));
    const members = new Set(expected.map((e) => e.memberId));
    const missing: MemberWeek[] = [];
    const statusCodeStored: Verdict['statusCodeStored'] = [];
    for (const e of wanted.values()) {
      const stored = this.feedback(e.memberId, e.week);
      if (!stored) missing.push({ memberId: e.memberId, week: e.week });
      else if (STATUS_CODE_CONTENT.test(stored.content))
        statusCodeStored.push({ memberId: e.memberId, week: e.week, content: stored.content });
    }
    const doubled: Verdict['doubled'] = [];
    for (const [key, count] of this.realDeliveries()) {
      const [memberId, week, channel] = key.split('|');
      const e = wanted.get(memberWeekKey({ memberId: Number(memberId), week }));
      if (!e) continue;
      const requests = e.requests ?? 1;
      if (count > requests)
        doubled.push({
          memberId: e.memberId,
          week,
          channel: channel as Channel,
          deliveries: count,
          requests,
        });
    }
    const unexpected = this.storedList
      .filter((f) => members.has(f.memberId) && !wanted.has(memberWeekKey(f)))
      .map((f) => ({ memberId: f.memberId, week: f.week }));
    return {
      ok: missing.length + statusCodeStored.length + doubled.length + unexpected.length === 0,
      missing,
      statusCodeStored,
      doubled,
      unexpected,
    };
  }

  /**
   * Real (non-status-code) deliveries per member-week and channel, stored or refused as duplicates. A
   * callback repeated under the same idempotency key (a retry after a timeout) and a queue message
   * received again (its delete failed) count once.
   */
  private realDeliveries(): Map<string, number> {
    const counts = new Map<string, number>();
    const seen = new Set<string>();
    for (const f of [...this.storedList, ...this.duplicateList]) {
      if (STATUS_CODE_CONTENT.test(f.content)) continue;
      const key = `${f.memberId}|${f.week}|${f.via}`;
      const identity = f.via === 'callback' ? f.idempotencyKey : f.messageId;
      if (identity !== undefined) {
        if (seen.has(`${key}|${identity}`)) continue;
        seen.add(`${key}|${identity}`);
      }
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
  }
}

function callSafely(fn: () => void): void {
  try {
    fn();
  } catch {
    // the listener's own problem; the double carries on
  }
}

function memberWeekKey(mw: MemberWeek): string {
  return `${mw.memberId}|${mw.week}`;
}
