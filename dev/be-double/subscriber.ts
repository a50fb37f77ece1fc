/**
 * The BE's result-queue subscriber and its result-DLQ poller. A result is stored as the member's
 * feedback for the week of its receipt; a status code re-publishes the member's last request; what
 * cannot be processed stays undeleted until the queue's redrive moves it to the result DLQ, where the
 * poller records it as a failure and deletes it.
 */
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Logger } from '../../src/shared/logger';
import type { BePublisher } from './publisher';
import { STATUS_CODE_CONTENT, type BeStore } from './store';

export interface SubscriberOptions {
  sqs: SQSClient;
  resultQueueUrl: string;
  /** The result DLQ to poll; without it no poller runs. */
  resultDlqUrl?: string;
  store: BeStore;
  /** Re-publishes on a status code; without it a status-code result is recorded as not re-published. */
  publisher?: BePublisher;
  /** Long-poll wait of each receive (the BE's 20 s); shorter lets a test stop quickly. */
  waitTimeSeconds?: number;
  /** Messages per receive (the BE's 5). */
  maxMessages?: number;
  /**
   * Pause after each poll before the next (the BE's `scheduleWithFixedDelay` of 5 s); default 0, so
   * that tests and the chaos run are not paced down. A long-outage test sets it with the visibility.
   */
  pollDelayMs?: number;
  /**
   * Visibility of received messages; default the queue's own. A short one lets an undeleted result
   * come back (and reach the DLQ by redrive) within a test.
   */
  visibilityTimeoutSeconds?: number;
  logger?: Logger;
}

type Outcome = 'delete' | 'keep';

/** `{memberId, content}` as the BE's `FeedbackResultRequestDto` reads it (other fields are ignored). */
export function parseResultBody(
  body: string,
): { ok: true; memberId: number; content: string; requestId?: string } | { ok: false; reason: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'body is not JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return { ok: false, reason: 'body is not a JSON object' };
  const { memberId, content, requestId } = parsed as Record<string, unknown>;
  if (typeof memberId !== 'number' || !Number.isSafeInteger(memberId) || memberId <= 0)
    return { ok: false, reason: 'memberId must be a positive integer' };
  if (typeof content !== 'string' || content.trim() === '')
    return { ok: false, reason: 'content must not be blank' };
  return { ok: true, memberId, content, ...(typeof requestId === 'string' ? { requestId } : {}) };
}

export class ResultSubscriber {
  private abort?: AbortController;
  private loops: Promise<void>[] = [];

  constructor(private readonly options: SubscriberOptions) {}

  get running(): boolean {
    return this.abort !== undefined;
  }

  start(): void {
    if (this.abort) return;
    const abort = new AbortController();
    this.abort = abort;
    const { resultQueueUrl, resultDlqUrl } = this.options;
    this.loops.push(this.poll(resultQueueUrl, abort.signal, (m) => this.handleResult(m)));
    if (resultDlqUrl) this.loops.push(this.poll(resultDlqUrl, abort.signal, (m) => this.handleDeadLetter(m)));
  }

  async stop(): Promise<void> {
    this.abort?.abort();
    await Promise.all(this.loops);
    this.loops = [];
    this.abort = undefined;
  }

  private async poll(
    queueUrl: string,
    signal: AbortSignal,
    handle: (m: Message) => Promise<Outcome>,
  ): Promise<void> {
    const { sqs, logger } = this.options;
    while (!signal.aborted) {
      let messages: Message[];
      try {
        const out = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: this.options.maxMessages ?? 5,
            WaitTimeSeconds: this.options.waitTimeSeconds ?? 20,
            VisibilityTimeout: this.options.visibilityTimeoutSeconds,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
          { abortSignal: signal },
        );
        messages = out.Messages ?? [];
      } catch (err) {
        if (signal.aborted) return;
        logger?.warn({ queueUrl, err: errorMessage(err) }, 'BE double: receive failed; retrying');
        await abortableDelay(1000, signal);
        continue;
      }
      // One at a time, as the BE's listener handles a batch.
      await this.handleBatch(queueUrl, messages, handle);
      if (this.options.pollDelayMs) await abortableDelay(this.options.pollDelayMs, signal);
    }
  }

  private async handleBatch(
    queueUrl: string,
    messages: Message[],
    handle: (m: Message) => Promise<Outcome>,
  ): Promise<void> {
    const { sqs, logger } = this.options;
    for (const message of messages) {
      if ((await handle(message)) === 'keep') continue;
      try {
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
      } catch (err) {
        logger?.warn({ queueUrl, err: errorMessage(err) }, 'BE double: delete failed; it will come back');
      }
    }
  }

  private async handleResult(message: Message): Promise<Outcome> {
    const { store, publisher, logger } = this.options;
    const body = message.Body ?? '';
    const parsed = parseResultBody(body);
    const keep = (reason: string): Outcome => {
      store.recordRejection({
        body,
        reason,
        messageId: message.MessageId,
        receiveCount: Number(message.Attributes?.ApproximateReceiveCount) || undefined,
      });
      logger?.warn(
        { reason, messageId: message.MessageId },
        'BE double: result not processed; left on the queue',
      );
      return 'keep';
    };
    if (!parsed.ok) return keep(parsed.reason);
    const { memberId, content, requestId } = parsed;
    // Every path reads the database first (the member, the week's feedback, the request to re-assemble).
    if (store.isDown()) return keep('database down');
    if (!store.isKnown(memberId)) return keep(`unknown member ${memberId}`);

    if (STATUS_CODE_CONTENT.test(content)) {
      const body = store.lastBody(memberId);
      if (body === undefined || !publisher) {
        store.recordRepublish({
          memberId,
          content,
          forRequestId: requestId,
          sent: false,
          error: 'no request to re-publish',
        });
        logger?.warn({ memberId, content }, 'BE double: status code for a member without a request; dropped');
        return 'delete';
      }
      try {
        const publication = await publisher.publish(body, true);
        store.recordRepublish({
          memberId,
          content,
          forRequestId: requestId,
          body,
          deduplicationId: publication.deduplicationId,
          messageId: publication.messageId,
          sent: true,
        });
        logger?.info(
          { memberId, content, deduplicationId: publication.deduplicationId },
          'BE double: recoverable failure; request re-published',
        );
        return 'delete';
      } catch (err) {
        store.recordRepublish({
          memberId,
          content,
          forRequestId: requestId,
          body,
          sent: false,
          error: errorMessage(err),
        });
        return keep(`re-publish failed: ${errorMessage(err)}`);
      }
    }

    const outcome = store.store({
      memberId,
      content,
      via: 'queue',
      ...(requestId ? { requestId } : {}),
      ...(message.MessageId ? { messageId: message.MessageId } : {}),
    });
    if (outcome.stored) {
      logger?.info(
        { memberId, week: outcome.feedback.week, content, via: 'queue' },
        'BE double: feedback stored',
      );
    } else {
      logger?.info(
        { memberId, week: outcome.duplicate.week, via: 'queue' },
        'BE double: duplicate feedback for the week; deleted',
      );
    }
    return 'delete';
  }

  private handleDeadLetter(message: Message): Promise<Outcome> {
    // The BE logs it in its database and deletes it in a finally: with the database down it is
    // deleted unlogged (lost).
    this.options.store.recordDlqFailure({
      body: message.Body ?? '',
      messageId: message.MessageId,
      logged: !this.options.store.isDown(),
    });
    this.options.logger?.warn(
      { messageId: message.MessageId, body: (message.Body ?? '').slice(0, 200) },
      'BE double: result in the DLQ recorded as a failure',
    );
    return Promise.resolve('delete');
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
