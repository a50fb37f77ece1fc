/**
 * Requests this API process accepted recently, so that the status endpoint can answer "queued" for a
 * request that is still on the queue (no workflow yet) instead of 404. In memory, bounded in size and
 * age: after a restart, or on another API replica, such a request is 404 until the bridge starts it.
 */
export interface AcceptedRequest {
  memberId: number;
  acceptedAt: string;
}

export class RecentRequests {
  private readonly entries = new Map<string, AcceptedRequest & { expiresAt: number }>();

  constructor(
    private readonly maxEntries = 10_000,
    private readonly ttlMs = 60 * 60 * 1000,
    private readonly now: () => number = Date.now,
  ) {}

  add(requestId: string, request: AcceptedRequest): void {
    this.entries.delete(requestId);
    this.entries.set(requestId, { ...request, expiresAt: this.now() + this.ttlMs });
    // A Map iterates in insertion order: the first key is the oldest.
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  get(requestId: string): AcceptedRequest | undefined {
    const entry = this.entries.get(requestId);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(requestId);
      return undefined;
    }
    return { memberId: entry.memberId, acceptedAt: entry.acceptedAt };
  }

  get size(): number {
    return this.entries.size;
  }
}
