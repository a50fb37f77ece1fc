/**
 * The request queue's DLQ for operators: list what is there and why (the bridge's `reason`, `errors`
 * and `sourceMessageId` attributes, or SQS's own redrive after too many receives), and move messages
 * back to the request queue after a fix (`redrive`). Manual because SQS's StartMessageMoveTask does
 * not exist in the emulator, and moving by hand keeps each message's group.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { DLQ_ATTRIBUTES } from '../shared/sqs';

export interface DlqEntry {
  messageId: string;
  groupId?: string;
  sentAt?: string;
  receiveCount?: number;
  reason: string;
  errors?: unknown;
  sourceMessageId?: string;
  body: string;
}

const PREVIEW_CHARS = 300;

function toEntry(message: Message): DlqEntry {
  const attr = (name: string) => message.MessageAttributes?.[name]?.StringValue;
  const sent = Number(message.Attributes?.SentTimestamp);
  let errors: unknown;
  const rawErrors = attr(DLQ_ATTRIBUTES.errors);
  if (rawErrors !== undefined) {
    try {
      errors = JSON.parse(rawErrors);
    } catch {
      errors = rawErrors;
    }
  }
  const body = message.Body ?? '';
  return {
    messageId: message.MessageId ?? '',
    groupId: message.Attributes?.MessageGroupId,
    ...(Number.isFinite(sent) ? { sentAt: new Date(sent).toISOString() } : {}),
    receiveCount: Number(message.Attributes?.ApproximateReceiveCount) || undefined,
    // Without the bridge's attribute, SQS moved it after maxReceiveCount receives.
    reason: attr(DLQ_ATTRIBUTES.reason) ?? 'moved by SQS after too many receives (no reason attribute)',
    ...(errors === undefined ? {} : { errors }),
    sourceMessageId: attr(DLQ_ATTRIBUTES.sourceMessageId),
    body: body.length > PREVIEW_CHARS ? `${body.slice(0, PREVIEW_CHARS)}… (${body.length} chars)` : body,
  };
}

async function receive(
  sqs: SQSClient,
  queueUrl: string,
  max: number,
  visibilitySeconds: number,
): Promise<Message[]> {
  const messages: Message[] = [];
  while (messages.length < max) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, max - messages.length),
        WaitTimeSeconds: 1,
        VisibilityTimeout: visibilitySeconds,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount', 'MessageGroupId'],
      }),
    );
    if (!out.Messages?.length) break;
    messages.push(...out.Messages);
  }
  return messages;
}

/** Makes received messages visible again at once (best effort: they come back anyway after the timeout). */
async function release(sqs: SQSClient, queueUrl: string, messages: Message[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    await sqs
      .send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages
            .slice(i, i + 10)
            .map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 })),
        }),
      )
      .catch(() => undefined);
  }
}

/** Up to `max` DLQ messages, made visible again right after reading (nothing is removed). */
export async function listDlq(sqs: SQSClient, dlqUrl: string, max = 100): Promise<DlqEntry[]> {
  const messages = await receive(sqs, dlqUrl, max, 30);
  await release(sqs, dlqUrl, messages);
  return messages.map(toEntry);
}

export interface RedriveReport {
  moved: DlqEntry[];
  /** Messages that could not be moved (left in the DLQ), with the error. */
  failed: Array<{ entry: DlqEntry; error: string; message: Message }>;
}

/**
 * Moves up to `max` messages from the DLQ back to the request queue: send (same body, same group, a
 * deduplication id derived from the DLQ message id, so a repeated redrive of the same message within
 * SQS's 5-minute window is not sent twice), then delete from the DLQ. A message is deleted only after
 * its send succeeded. The bridge then handles it like any message: a valid request is started once
 * (its workflow id comes from the body), an invalid one comes back to the DLQ with its reason.
 */
export async function redriveDlq(
  sqs: SQSClient,
  queues: { dlqUrl: string; requestQueueUrl: string },
  options: { max?: number; dryRun?: boolean } = {},
): Promise<RedriveReport> {
  const messages = await receive(sqs, queues.dlqUrl, options.max ?? 100, 60);
  const report: RedriveReport = { moved: [], failed: [] };
  for (const message of messages) {
    const entry = toEntry(message);
    if (options.dryRun) {
      report.moved.push(entry);
      continue;
    }
    try {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queues.requestQueueUrl,
          MessageBody: message.Body ?? '',
          MessageGroupId: message.Attributes?.MessageGroupId ?? 'redrive',
          MessageDeduplicationId: `redrive-${message.MessageId}`,
        }),
      );
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: queues.dlqUrl, ReceiptHandle: message.ReceiptHandle }),
      );
      report.moved.push(entry);
    } catch (err) {
      report.failed.push({
        entry,
        error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
        message,
      });
    }
  }
  // Nothing moved in a dry run, and a failed message stays: visible again at once.
  await release(sqs, queues.dlqUrl, options.dryRun ? messages : report.failed.map((f) => f.message));
  return report;
}
