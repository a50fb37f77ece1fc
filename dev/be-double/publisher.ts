/**
 * Publishes feedback requests as the BE does: one SendMessage per request onto the FIFO request queue,
 * group `feedback-request` for every member, deduplication id `<memberId>-sha256hex(body)`, up to three
 * attempts with 300/600 ms backoff. The body is the request's JSON without `requestId`/`timestamp`.
 */
import { createHash } from 'node:crypto';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { fromEpochMillis } from '../../src/domain/datetime';
import type { BeStore } from './store';

export const BE_MESSAGE_GROUP = 'feedback-request';
export const BE_PUBLISH_BACKOFF_MS = [300, 600];

/** Hex SHA-256 of the UTF-8 text, as the BE hashes a request body for its deduplication id. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function beDeduplicationId(memberId: number, body: string): string {
  return `${memberId}-${sha256Hex(body)}`;
}

/** The body the BE sends: the request's JSON, never with `requestId` or `timestamp`. */
export function beRequestBody(request: Record<string, unknown>): string {
  const { requestId: _requestId, timestamp: _timestamp, ...body } = request;
  return JSON.stringify(body);
}

/**
 * A Seoul-local instant as the BE's Spring ObjectMapper writes a `LocalDateTime` (ISO local date-time,
 * seconds always, fraction without trailing zeros): `2025-06-07T13:08:16.71`.
 */
export function beLocalDateTime(ms: number): string {
  return fromEpochMillis(ms).replace(/\+09:00$/, '');
}

export interface Publication {
  memberId: number;
  body: string;
  deduplicationId: string;
  /** The double's clock when the send began. */
  at: number;
  attempts: number;
  messageId?: string;
  /** A re-publish after a status-code result. */
  republish: boolean;
  error?: string;
}

export interface PublisherOptions {
  sqs: SQSClient;
  requestQueueUrl: string;
  store: BeStore;
  /** Waits between attempts; its length + 1 is the number of attempts (default 300, 600 ms). */
  backoffMs?: number[];
}

export class BePublisher {
  private readonly log: Publication[] = [];

  constructor(private readonly options: PublisherOptions) {}

  /**
   * Publishes a request (an object, or its JSON body as the BE built it) and remembers its body as the
   * member's last request. Throws when every attempt failed, as the BE's sender does.
   */
  async publish(request: Record<string, unknown> | string, republish = false): Promise<Publication> {
    const body = typeof request === 'string' ? request : beRequestBody(request);
    const memberId = memberIdOf(body);
    this.options.store.remember(memberId, body);
    const publication: Publication = {
      memberId,
      body,
      deduplicationId: beDeduplicationId(memberId, body),
      at: this.options.store.clock.now(),
      attempts: 0,
      republish,
    };
    this.log.push(publication);
    const backoff = this.options.backoffMs ?? BE_PUBLISH_BACKOFF_MS;
    for (;;) {
      publication.attempts++;
      try {
        const out = await this.options.sqs.send(
          new SendMessageCommand({
            QueueUrl: this.options.requestQueueUrl,
            MessageBody: body,
            MessageGroupId: BE_MESSAGE_GROUP,
            MessageDeduplicationId: publication.deduplicationId,
          }),
        );
        publication.messageId = out.MessageId;
        delete publication.error;
        this.options.store.changed();
        return publication;
      } catch (err) {
        publication.error = err instanceof Error ? err.message : String(err);
        const wait = backoff[publication.attempts - 1];
        if (wait === undefined) {
          this.options.store.changed();
          throw new Error(
            `BE double: publishing for member ${memberId} failed after ${publication.attempts} attempts: ${publication.error}`,
            { cause: err },
          );
        }
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  /** Every publication so far (first sends and re-publishes), in order. */
  published(): Publication[] {
    return this.log.map((p) => ({ ...p }));
  }
}

function memberIdOf(body: string): number {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new Error('BE double: a request body must be JSON');
  }
  const memberId = (parsed as { memberId?: unknown } | null)?.memberId;
  if (typeof memberId !== 'number' || !Number.isSafeInteger(memberId) || memberId <= 0)
    throw new Error('BE double: a request body needs a positive integer memberId');
  return memberId;
}
