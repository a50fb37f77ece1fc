/** The API's sends to the FIFO request queue, batched (see FifoSender). */
import {
  SendMessageBatchCommand,
  type BatchResultErrorEntry,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import DataLoader from 'dataloader';

export interface FifoMessage {
  body: string;
  groupId: string;
  deduplicationId: string;
  attributes?: Record<string, MessageAttributeValue>;
}

/** SendMessageBatch takes 10 entries; and a payload of 256 KiB on ElasticMQ and older AWS queues. */
const BATCH_MAX_ENTRIES = 10;
const BATCH_MAX_BYTES = 256 * 1024;

/**
 * Sends messages to one FIFO queue, each `send` resolving with its message id or rejecting with SQS's
 * error for it (named by SQS's code, e.g. `InvalidParameterValue`). The messages handed over in the
 * same turn of the event loop go out together, as SendMessageBatch calls of up to 10 entries and
 * 256 KiB: an SDK call costs far more than an entry in it (docs/benchmarks.md), so a busy API sends
 * several messages for the price of one, and an idle one sends each at once (no wait for company).
 * Order between messages of one group sent in one call is kept, as SQS keeps it.
 */
export class FifoSender {
  private readonly loader: DataLoader<FifoMessage, string>;

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    /** Upper bound of one call, so that an unreachable queue fails its messages within this time. */
    private readonly timeoutMs: number,
  ) {
    this.loader = new DataLoader((messages) => this.sendBatch(messages), {
      cache: false,
      maxBatchSize: BATCH_MAX_ENTRIES,
      // After the I/O callbacks of this turn (e.g. every HTTP request that arrived together).
      batchScheduleFn: (send) => setImmediate(send),
    });
  }

  send(message: FifoMessage): Promise<string> {
    return this.loader.load(message);
  }

  private async sendBatch(messages: readonly FifoMessage[]): Promise<Array<string | Error>> {
    const results: Array<string | Error | undefined> = new Array(messages.length);
    await Promise.all(
      packBySize(messages.map(messageBytes)).map(async (indices) => {
        try {
          const out = await this.sqs.send(
            new SendMessageBatchCommand({
              QueueUrl: this.queueUrl,
              Entries: indices.map((i) => ({
                Id: String(i),
                MessageBody: messages[i].body,
                MessageGroupId: messages[i].groupId,
                MessageDeduplicationId: messages[i].deduplicationId,
                ...(messages[i].attributes ? { MessageAttributes: messages[i].attributes } : {}),
              })),
            }),
            { abortSignal: AbortSignal.timeout(this.timeoutMs) },
          );
          for (const ok of out.Successful ?? []) results[Number(ok.Id)] = ok.MessageId ?? '';
          for (const failed of out.Failed ?? []) results[Number(failed.Id)] = entryError(failed);
        } catch (err) {
          for (const i of indices) results[i] = err instanceof Error ? err : new Error(String(err));
        }
      }),
    );
    return results.map((r) => r ?? new Error('SQS reported nothing for this message'));
  }
}

/**
 * Groups consecutive messages (by index) into batches of at most 10 entries and 256 KiB (bodies and
 * attributes); a message over 256 KiB goes alone (the queue decides whether it is too long).
 */
export function packBySize(sizes: readonly number[]): number[][] {
  const batches: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  sizes.forEach((size, i) => {
    if (current.length > 0 && (current.length >= BATCH_MAX_ENTRIES || bytes + size > BATCH_MAX_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(i);
    bytes += size;
  });
  if (current.length > 0) batches.push(current);
  return batches;
}

/** What SQS counts toward a message's size: its body and its attributes' names, types and values. */
function messageBytes(message: FifoMessage): number {
  let bytes = Buffer.byteLength(message.body, 'utf8');
  for (const [name, value] of Object.entries(message.attributes ?? {})) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value.DataType ?? '');
    bytes += Buffer.byteLength(value.StringValue ?? '') + (value.BinaryValue?.byteLength ?? 0);
  }
  return bytes;
}

function entryError(failed: BatchResultErrorEntry): Error {
  const error = new Error(failed.Message ?? failed.Code ?? 'SendMessageBatch entry failed');
  error.name = failed.Code ?? 'SendMessageBatchEntryFailed';
  return error;
}
