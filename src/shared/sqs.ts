/** SQS client construction and queue setup, shared by every process, the scripts and the tests. */
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SQSClient,
  type QueueAttributeName,
} from '@aws-sdk/client-sqs';
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
  /** Where SQS moves a result the BE received `resultMaxReceiveCount` times without deleting it. */
  resultDlqUrl: string;
}

export interface QueueSetupOptions {
  /** Receives of one message before SQS moves it to the DLQ (redrive). */
  maxReceiveCount?: number;
  visibilityTimeoutSeconds?: number;
  /** Receives of one result before SQS moves it to the result DLQ (default RESULT_MAX_RECEIVE_COUNT). */
  resultMaxReceiveCount?: number;
  /** The result queue's visibility timeout (default RESULT_VISIBILITY_TIMEOUT_SECONDS); a test shortens it. */
  resultVisibilityTimeoutSeconds?: number;
}

/** Attribute names carried by messages the bridge dead-letters (read back by `feedback dlq`). */
export const DLQ_ATTRIBUTES = {
  reason: 'reason',
  errors: 'errors',
  sourceMessageId: 'sourceMessageId',
} as const;

/**
 * The BE leaves a result it cannot process undeleted (unknown member, unparsable body, its database
 * down) and polls the result DLQ, where it logs each result (which needs its database too) and always
 * deletes it: a result moved there is lost. So the redrive waits as long as SQS allows, 1000 receives
 * (SQS's maximum). The BE's subscriber sets no visibility of its own and the result queue keeps SQS's
 * default 30 s (RESULT_VISIBILITY_TIMEOUT_SECONDS), so a result survives at least 1000 × 30 s =
 * 8 h 20 min of failed processing (about 9 h 45 min with the BE's 5 s pause between polls); while the
 * BE is down nothing is received and nothing counts.
 */
export const RESULT_MAX_RECEIVE_COUNT = 1000;

/** The result queue's visibility timeout: SQS's default, which the BE's subscriber relies on. */
export const RESULT_VISIBILITY_TIMEOUT_SECONDS = 30;

/**
 * Creates (or finds, CreateQueue is idempotent for equal attributes) the FIFO request queue, its FIFO
 * dead-letter queue with a redrive policy, and the FIFO result queue with its own FIFO DLQ by redrive:
 * `<prefix>.fifo`, `<prefix>-dlq.fifo`, `<prefix>-result.fifo`, `<prefix>-result-dlq.fifo`.
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
  const resultDlqUrl = await createQueue(client, `${prefix}-result-dlq.fifo`, {
    ...fifo,
    MessageRetentionPeriod: String(14 * 24 * 3600),
  });
  const resultQueueUrl = await createQueue(client, `${prefix}-result.fifo`, {
    ...fifo,
    VisibilityTimeout: String(options.resultVisibilityTimeoutSeconds ?? RESULT_VISIBILITY_TIMEOUT_SECONDS),
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: await queueArn(client, resultDlqUrl),
      maxReceiveCount: options.resultMaxReceiveCount ?? RESULT_MAX_RECEIVE_COUNT,
    }),
  });
  return { requestQueueUrl, dlqUrl, resultQueueUrl, resultDlqUrl };
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
