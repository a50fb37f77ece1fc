/** SQS client construction and queue setup, shared by every process, the scripts and the tests. */
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SQSClient,
  type BatchResultErrorEntry,
  type MessageAttributeValue,
  type QueueAttributeName,
} from '@aws-sdk/client-sqs';
import DataLoader from 'dataloader';
import type { AppConfig } from '../config';

export interface SqsClientOptions {
  /** Per-request timeout; long polls need more than their wait time. */
  requestTimeoutMs?: number;
  /** SDK attempts per call (1 = no SDK retry). */
  maxAttempts?: number;
  /** Static credentials (tests against the emulator); default is the standard AWS chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export function createSqsClient(sqs: AppConfig['sqs'], options: SqsClientOptions = {}): SQSClient {
  const requestTimeout = options.requestTimeoutMs ?? sqs.requestTimeoutMs;
  return new SQSClient({
    region: sqs.region,
    endpoint: sqs.endpoint,
    maxAttempts: options.maxAttempts ?? 2,
    credentials: options.credentials,
    // Without throwOnRequestTimeout the SDK only logs a warning and keeps waiting.
    requestHandler: {
      requestTimeout,
      connectionTimeout: Math.min(requestTimeout, 2000),
      throwOnRequestTimeout: true,
    },
  });
}

export interface FeedbackQueues {
  requestQueueUrl: string;
  dlqUrl: string;
  resultQueueUrl: string;
}

export interface QueueSetupOptions {
  /** Receives of one message before SQS moves it to the DLQ (redrive). */
  maxReceiveCount?: number;
  visibilityTimeoutSeconds?: number;
}

/**
 * Creates (or finds, CreateQueue is idempotent for equal attributes) the FIFO request queue, its FIFO
 * dead-letter queue with a redrive policy, and the FIFO result queue: `<prefix>.fifo`,
 * `<prefix>-dlq.fifo`, `<prefix>-result.fifo`.
 */
export async function ensureFeedbackQueues(
  client: SQSClient,
  prefix: string,
  options: QueueSetupOptions = {},
): Promise<FeedbackQueues> {
  const fifo: Partial<Record<QueueAttributeName, string>> = {
    FifoQueue: 'true',
    ContentBasedDeduplication: 'false',
    MessageRetentionPeriod: String(4 * 24 * 3600),
  };
  const dlqUrl = await createQueue(client, `${prefix}-dlq.fifo`, {
    ...fifo,
    MessageRetentionPeriod: String(14 * 24 * 3600),
  });
  const dlqArn = await queueArn(client, dlqUrl);
  const requestQueueUrl = await createQueue(client, `${prefix}.fifo`, {
    ...fifo,
    VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 60),
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: dlqArn,
      maxReceiveCount: options.maxReceiveCount ?? 10,
    }),
  });
  const resultQueueUrl = await createQueue(client, `${prefix}-result.fifo`, fifo);
  return { requestQueueUrl, dlqUrl, resultQueueUrl };
}

async function createQueue(
  client: SQSClient,
  name: string,
  attributes: Partial<Record<QueueAttributeName, string>>,
): Promise<string> {
  const out = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  if (!out.QueueUrl) throw new Error(`CreateQueue returned no URL for ${name}`);
  return out.QueueUrl;
}

export async function queueArn(client: SQSClient, queueUrl: string): Promise<string> {
  const out = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  const arn = out.Attributes?.QueueArn;
  if (!arn) throw new Error(`no QueueArn for ${queueUrl}`);
  return arn;
}

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
 * 256 KiB: one SDK call costs ~2.3 CPU-ms (middleware, signing, HTTP) and an entry more ~0.07, so a
 * busy API sends several messages for the price of one, and an idle one sends each at once (no wait
 * for company). Order between messages of one group sent in one call is kept, as SQS keeps it.
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
